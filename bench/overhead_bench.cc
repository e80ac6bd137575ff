// Does orch disturb what it measures? Trains the same MLP on the same amount of data with
// the same batch size and threads, once as a bare LibTorch loop (what a user would write)
// and once through `orch run` (a forked worker, plugins, events to the host), alternating
// rounds so that drift of the machine hits both alike, and prints the median samples/s of
// each and their ratio.
//
//   overhead_bench [--rounds 7] [--samples 16384] [--batch 8] [--threads 1] [--hidden 128]
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWarmupSteps = 3;  // as orch's default: left out of timing on both sides
constexpr int kFeatures = 32;
constexpr int kClasses = 4;

struct Settings {
  int rounds = 7;
  int samples = 16384;
  int batch = 8;
  int threads = 1;
  int hidden = 128;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Throughput two ways: the mean over the timed steps (what a quiet machine gives), and
// batch / median step time (robust to the stalls another process on the cores causes).
struct Rates {
  double mean = 0;
  double median = 0;
};

// The loop a user writes: tensors in memory, a shuffled order, batches cut by index,
// forward, loss, backward, step, and the loss read every step for logging. Each step is
// timed the way orch times its steps.
Rates bare_rates(const Settings& s) {
  torch::set_num_threads(s.threads);
  torch::manual_seed(0);
  auto centres = torch::randn({kClasses, kFeatures}) * 2.0;
  auto targets = torch::arange(s.samples, torch::kLong).remainder(kClasses);
  auto inputs = centres.index_select(0, targets) + torch::randn({s.samples, kFeatures}) * 4.0;
  torch::nn::Sequential net(torch::nn::Linear(kFeatures, s.hidden), torch::nn::ReLU(),
                            torch::nn::Linear(s.hidden, s.hidden), torch::nn::ReLU(),
                            torch::nn::Linear(s.hidden, kClasses));
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  auto order = torch::randperm(s.samples, torch::kLong);
  long timed_samples = 0;
  int step = 0;
  double logged = 0;
  std::vector<double> steps;
  for (int start = 0; start < s.samples; start += s.batch) {
    int n = std::min(s.batch, s.samples - start);
    auto step_start = Clock::now();
    auto index = order.slice(0, start, start + n);
    auto x = inputs.index_select(0, index);
    auto y = targets.index_select(0, index);
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    optimizer.step();
    logged += loss.item<double>();
    auto step_end = Clock::now();
    if (++step > kWarmupSteps) {
      timed_samples += n;
      steps.push_back(std::chrono::duration<double>(step_end - step_start).count());
    }
  }
  double seconds = 0;
  for (double step_seconds : steps) seconds += step_seconds;
  if (logged < 0) std::puts("");  // keep the logged loss alive
  return {timed_samples / seconds, s.batch / median(steps)};
}

// The bare loop in a fresh child, so that each round starts cold like an orch worker.
Rates bare_in_child(const Settings& s) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    Rates rate = bare_rates(s);
    if (write(fds[1], &rate, sizeof rate) != sizeof rate) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  Rates rate;
  if (read(fds[0], &rate, sizeof rate) != sizeof rate) rate = {};
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return rate;
}

Rates orch_rates(const Settings& s, const std::string& dir, int round) {
  std::string file = dir + "/overhead.toml";
  std::ofstream(file) << "[experiment]\nname = \"overhead-" << round << "\"\n"
                      << "[backend]\nplugin = \"cpu\"\nthreads = " << s.threads << "\n"
                      << "[dataset]\nplugin = \"synthetic\"\nsamples = " << s.samples
                      << "\nval_samples = 64\nfeatures = " << kFeatures
                      << "\nclasses = " << kClasses << "\n"
                      << "[model]\nplugin = \"mlp\"\nhidden = " << s.hidden << "\nlayers = 2\n"
                      << "[train]\nepochs = 1\nbatch_size = " << s.batch
                      << "\noptimizer = \"adam\"\nlr = 1e-3\nwarmup_steps = " << kWarmupSteps
                      << "\n";
  std::string db = dir + "/overhead.db";
  std::string command =
      std::string(ORCH_BINARY) + " run " + file + " --db " + db + " > " + dir + "/orch.log 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "orch run failed; see %s/orch.log\n", dir.c_str());
    std::exit(1);
  }
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  SQLite::Statement query(database,
                          "SELECT p.samples_per_s, p.step_median_s FROM epochs p "
                          "JOIN runs r ON r.id = p.run_id "
                          "JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?");
  query.bind(1, "overhead-" + std::to_string(round));
  if (!query.executeStep()) return {};
  return {query.getColumn(0).getDouble(), s.batch / query.getColumn(1).getDouble()};
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--rounds")
      s.rounds = value;
    else if (flag == "--samples")
      s.samples = value;
    else if (flag == "--batch")
      s.batch = value;
    else if (flag == "--threads")
      s.threads = value;
    else if (flag == "--hidden")
      s.hidden = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::string dir = (std::filesystem::temp_directory_path() / "orch_overhead_XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;

  std::printf("MLP %d-%d-%d-%d, %d samples, batch %d, %d thread(s), %d rounds\n", kFeatures,
              s.hidden, s.hidden, kClasses, s.samples, s.batch, s.threads, s.rounds);
  std::printf("        samples/s (mean of timed steps)     samples/s (batch / median step)\n");
  std::printf("round      bare      orch  orch/bare        bare      orch  orch/bare\n");
  std::vector<double> mean_ratios, median_ratios;
  for (int round = 0; round < s.rounds; ++round) {
    // Alternate which goes first, so neither always gets the warmer machine.
    Rates b, o;
    if (round % 2 == 0) {
      b = bare_in_child(s);
      o = orch_rates(s, dir, round);
    } else {
      o = orch_rates(s, dir, round);
      b = bare_in_child(s);
    }
    mean_ratios.push_back(o.mean / b.mean);
    median_ratios.push_back(o.median / b.median);
    std::printf("%5d  %8.0f  %8.0f  %9.3f    %8.0f  %8.0f  %9.3f\n", round + 1, b.mean, o.mean,
                o.mean / b.mean, b.median, o.median, o.median / b.median);
  }
  std::printf("median of the per-round ratios: %.3f (mean-based), %.3f (median-based)\n",
              median(mean_ratios), median(median_ratios));
  std::printf("RESULT orch_vs_bare_samples_per_s %.3f target>=0.98\n", median(mean_ratios));
  std::filesystem::remove_all(dir);
  return 0;
}
