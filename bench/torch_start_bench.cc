// What starting a fresh process that loads LibTorch costs: the alternative to orch's
// forked workers. Run with no argument, it times R starts of itself with --child (exec,
// dynamic loading of libtorch, one tensor operation, exit) and prints the median.
//
//   build/bin/torch_start_bench [--rounds R]
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--child") {
    // The least a training process does before its first step: LibTorch ready, one op.
    return torch::ones({8, 8}).sum().item<float>() == 64.0f ? 0 : 1;
  }
  int rounds = 10;
  if (argc > 2 && std::string(argv[1]) == "--rounds") rounds = std::atoi(argv[2]);
  std::vector<double> seconds;
  for (int i = 0; i < rounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/proc/self/exe", argv[0], "--child", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "torch_start_bench: the child failed\n");
      return 1;
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf("fresh process with LibTorch: median %.3f s of %d starts (min %.3f, max %.3f)\n",
              median, rounds, seconds.front(), seconds.back());
  std::printf("RESULT fresh_torch_process_start_s %.3f\n", median);
  return 0;
}
