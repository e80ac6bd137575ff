#include "host/probe/probe_trials.h"

namespace orch {

bool fitting_trial(const storage::ProbeTrial& trial) {
  return trial.status == RunStatus::kOk && trial.kind == "trial";
}

std::vector<MemoryPoint> fitting_points(const std::vector<storage::ProbeTrial>& trials) {
  std::vector<MemoryPoint> points;
  for (const auto& trial : trials) {
    if (fitting_trial(trial)) points.push_back({trial.batch_size, trial.peak_rss_bytes});
  }
  return points;
}

const storage::ProbeTrial* largest_fitting_trial(const std::vector<storage::ProbeTrial>& trials) {
  const storage::ProbeTrial* largest = nullptr;
  for (const auto& trial : trials) {
    if (fitting_trial(trial) && (!largest || trial.batch_size >= largest->batch_size)) {
      largest = &trial;
    }
  }
  return largest;
}

storage::ProbeAnswer answer_for(const MemoryModel& model, std::int64_t batch_size,
                                double growth_bytes, std::int64_t budget_bytes) {
  storage::ProbeAnswer answer;
  answer.max_batch_size = batch_size;
  answer.predicted_peak_bytes = static_cast<std::int64_t>(model.peak_at(batch_size));
  answer.margin_bytes =
      static_cast<std::int64_t>(margin_at(model, batch_size, growth_bytes, budget_bytes));
  answer.fixed_bytes = static_cast<std::int64_t>(model.fixed_bytes);
  answer.per_sample_bytes = static_cast<std::int64_t>(model.per_sample_bytes);
  answer.noise_bytes = static_cast<std::int64_t>(model.noise_bytes);
  answer.growth_bytes = static_cast<std::int64_t>(growth_bytes);
  return answer;
}

MemoryModel scaled_memory_model(MemoryModel model, double factor) {
  model.fixed_bytes *= factor;
  model.per_sample_bytes *= factor;
  return model;
}

const storage::ProbeTrial* rehearsal_at(const std::vector<storage::ProbeTrial>& trials,
                                        std::int64_t batch_size) {
  const storage::ProbeTrial* found = nullptr;
  for (const auto& trial : trials) {
    if (trial.kind == "rehearsal" && trial.batch_size == batch_size) found = &trial;
  }
  return found;
}

}  // namespace orch
