// What every end-to-end test needs: a program's captured result, text helpers, temp
// directories and files, and read-only queries of the database orch wrote.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace orch::e2e {

struct RunResult {
  int exit_code = -1;  // 128 + signal when the program died of a signal
  std::string out;
  std::string err;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline bool has_line_starting_with(const std::string& text, const std::string& prefix) {
  for (const auto& line : lines_of(text)) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// The smallest experiment that trains: one run of a tiny MLP on 128 synthetic samples,
// about a second with LibTorch's start.
inline const std::string kTinyExperiment =
    "[experiment]\nname = \"tiny\"\nseed = 1\n\n"
    "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
    "[dataset]\nplugin = \"synthetic\"\nsamples = 128\nval_samples = 32\nfeatures = 8\n\n"
    "[model]\nplugin = \"mlp\"\nhidden = 8\n\n"
    "[train]\nepochs = 1\nbatch_size = 16\n";

// A fresh directory under /tmp named after the suite, e.g. "orch_cli_test_Ab12Cd".
inline std::string make_temp_dir(const std::string& suite) {
  std::string pattern = "/tmp/orch_" + suite + "_XXXXXX";
  return ::mkdtemp(pattern.data()) ? pattern : "";
}

inline std::string write_file_in(const std::string& dir, const std::string& name,
                                 const std::string& text) {
  std::ofstream(dir + "/" + name, std::ios::binary) << text;
  return dir + "/" + name;
}

// A fresh directory under /tmp for each test, named after the suite and removed
// afterwards: where the test's files, databases and orch processes live.
class FreshDirectoryTest : public ::testing::Test {
 protected:
  explicit FreshDirectoryTest(std::string suite) : suite_(std::move(suite)) {}

  void SetUp() override {
    dir_ = make_temp_dir(suite_);
    ASSERT_FALSE(dir_.empty()) << "mkdtemp failed";
  }
  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write_file(const std::string& name, const std::string& text) const {
    return write_file_in(dir_, name, text);
  }

  std::string dir_;

 private:
  std::string suite_;
};

// Values of queries against the database orch wrote, opened read-only like a user would.
inline std::int64_t count(const std::string& db, const std::string& sql) {
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  return database.execAndGet(sql).getInt64();
}

inline std::string text_value(const std::string& db, const std::string& sql) {
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  SQLite::Statement query(database, sql);
  if (!query.executeStep() || query.getColumn(0).isNull()) return "";
  return query.getColumn(0).getString();
}

// The same query while orch may still be creating or writing the file: -1 until it answers.
inline std::int64_t count_while_running(const std::string& db, const std::string& sql) {
  if (!std::filesystem::exists(db)) return -1;
  try {
    return count(db, sql);
  } catch (const SQLite::Exception&) {
    return -1;
  }
}

// Asks `done` until it says yes or `limit` has passed; its last answer.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A number from the database; NaN when the query gives NULL or no row (not measured).
inline double real_value(const std::string& db, const std::string& sql) {
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  SQLite::Statement query(database, sql);
  if (!query.executeStep() || query.getColumn(0).isNull()) return std::nan("");
  return query.getColumn(0).getDouble();
}

// A program started in the background, its stdout and stderr going to files.
struct Started {
  pid_t pid = -1;
  std::string program;
  std::string out_path;
  std::string err_path;
};

// Starts `program args...` in `dir` in its own process group (so a timeout can kill its
// children too), without core files (fixtures crash on purpose) and without the
// caller's ORCH_PLUGIN_PATH; env entries are NAME=VALUE.
inline Started start_in(const std::string& dir, const std::string& program,
                        const std::vector<std::string>& args,
                        const std::vector<std::string>& env = {}) {
  static int calls = 0;
  const std::string capture = dir + "/.capture" + std::to_string(++calls);
  Started started{-1, program, capture + ".out", capture + ".err"};
  std::vector<std::string> argv_text{program};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::unsetenv("ORCH_PLUGIN_PATH");
    for (const auto& entry : env) ::putenv(const_cast<char*>(entry.c_str()));
    if (::chdir(dir.c_str()) != 0 || !std::freopen(started.out_path.c_str(), "w", stdout) ||
        !std::freopen(started.err_path.c_str(), "w", stderr)) {
      ::_exit(126);
    }
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  if (pid < 0) ADD_FAILURE() << "fork failed";
  started.pid = pid;
  return started;
}

// Waits up to `limit`, killing the process group when it takes longer, and collects the
// exit code and output.
inline RunResult wait_for(Started& started, std::chrono::milliseconds limit) {
  RunResult result;
  if (started.pid <= 0) return result;
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(started.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-started.pid, SIGKILL);
      ::waitpid(started.pid, &status, 0);
      ADD_FAILURE() << started.program << " did not finish within " << limit.count() << " ms";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  started.pid = -1;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text(started.out_path);
  result.err = read_text(started.err_path);
  std::error_code ignored;
  std::filesystem::remove(started.out_path, ignored);
  std::filesystem::remove(started.err_path, ignored);
  return result;
}

inline RunResult run_in(const std::string& dir, const std::string& program,
                        const std::vector<std::string>& args, const std::vector<std::string>& env,
                        std::chrono::milliseconds limit) {
  Started started = start_in(dir, program, args, env);
  return wait_for(started, limit);
}

// A real competing process: a child that spins on one core (`cpu`, or any when -1) until
// the object goes away. What a user's machine looks like while a build or a browser runs.
class BusyProcess {
 public:
  explicit BusyProcess(int cpu = -1) {
    pid_ = ::fork();
    if (pid_ == 0) {
      if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        ::sched_setaffinity(0, sizeof set, &set);
      }
      volatile std::uint64_t spin = 0;
      for (;;) spin = spin + 1;
    }
    if (pid_ < 0) ADD_FAILURE() << "fork of the busy process failed";
  }
  ~BusyProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  BusyProcess(const BusyProcess&) = delete;
  BusyProcess& operator=(const BusyProcess&) = delete;

 private:
  pid_t pid_ = -1;
};

}  // namespace orch::e2e
