#include "host/json/status_json.h"

#include <nlohmann/json.hpp>

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json counts_json(const RunCounts& counts) {
  return Json{{"total", counts.total},
              {"done", counts.done},
              {"running", counts.running},
              {"failed", counts.failed},
              {"pending", counts.pending}};
}

Json submission_json(const SweepStatus& status) {
  if (!status.submitted) return nullptr;
  Json per_shard = Json::array();
  for (size_t i = 0; i < status.shards.size(); ++i) {
    Json shard = counts_json(status.shards[i].counts);
    shard["shard"] = i;
    shard["database_missing"] = status.shards[i].database_missing;
    per_shard.push_back(std::move(shard));
  }
  return Json{{"shards", status.shards.size()},
              {"job_id", status.job_id},
              {"directory", status.directory},
              {"as_submitted", status.as_submitted},
              {"per_shard", std::move(per_shard)}};
}

}  // namespace

std::string render_status_json(const SweepStatus& status) {
  Json failed = Json::array();
  for (const auto& run : status.failures) {
    failed.push_back(
        Json{{"configuration", run.configuration}, {"status", run.status}, {"error", run.error}});
  }
  Json document{{"format", "orch.status"},
                {"version", kStatusJsonVersion},
                {"experiment", status.experiment},
                {"runs", counts_json(status.total)},
                {"submission", submission_json(status)},
                {"failed", std::move(failed)},
                {"keys_follow_probe", status.keys_follow_probe}};
  return document.dump(2) + "\n";
}

}  // namespace orch
