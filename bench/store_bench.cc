// How fast the host records metric rows: every timed step of a run is one row of
// `metrics` (name 'step_s'), written with its epoch in one transaction by Store::record_epoch.
// Prints rows per second (median of the rounds) into a real SQLite file in WAL mode, as
// orch run writes it.
//
//   build/bin/store_bench [--rounds R] [--epochs E] [--steps S]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/store.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int int_flag(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = int_flag(argc, argv, "--rounds", 5);
  const int epochs = int_flag(argc, argv, "--epochs", 10);
  const int steps = int_flag(argc, argv, "--steps", 50000);
  namespace fs = std::filesystem;
  std::string dir_pattern = (fs::temp_directory_path() / "orch_store_bench_XXXXXX").string();
  if (::mkdtemp(dir_pattern.data()) == nullptr) return 1;
  const fs::path dir = dir_pattern;

  std::vector<double> rates;
  for (int round = 0; round < rounds; ++round) {
    const std::string path = (dir / ("round-" + std::to_string(round) + ".db")).string();
    auto store = orch::storage::Store::Open(path);
    const auto experiment =
        store.begin_experiment({"bench", "bench.toml", "", "", "{}", 1, "bench"});
    orch::storage::RunRecord run;
    run.run_key = "r";
    const auto run_id = store.add_runs(experiment, {run})[0];
    orch::storage::EpochRecord record;
    record.step_seconds.resize(static_cast<size_t>(steps));
    for (int i = 0; i < steps; ++i) record.step_seconds[i] = 1e-3 + i * 1e-9;
    const auto start = Clock::now();
    for (int e = 1; e <= epochs; ++e) {
      record.epoch = e;
      store.record_epoch(run_id, record);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double rows = static_cast<double>(epochs) * steps;
    rates.push_back(rows / seconds);
    std::printf("round %d: %.0f rows in %.3f s = %.0f rows/s\n", round + 1, rows, seconds,
                rows / seconds);
    if (store.metric_values(run_id, "step_s").size() != static_cast<size_t>(rows)) {
      std::fprintf(stderr, "store_bench: the database holds another number of rows\n");
      return 1;
    }
  }
  fs::remove_all(dir);
  std::printf("RESULT metric_rows_per_s %.0f target>=500000\n", median(rates));
  return 0;
}
