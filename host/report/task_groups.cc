#include "host/report/task_groups.h"

#include <nlohmann/json.hpp>

namespace orch {
namespace {

std::string task_of(const storage::RunSummary& run) {
  auto params = nlohmann::json::parse(run.params_json, nullptr, false);
  if (params.is_object() && params.contains("train.task") && params["train.task"].is_string()) {
    return params["train.task"].get<std::string>();
  }
  return "train";  // runs recorded before train.task existed trained
}

}  // namespace

std::vector<TaskGroup> group_by_task(const std::vector<storage::RunSummary>& runs) {
  std::vector<TaskGroup> groups;
  for (const char* task : {"train", "inference"}) {
    TaskGroup group{task, {}};
    for (const auto& run : runs) {
      if (task_of(run) == task) group.runs.push_back(run);
    }
    if (!group.runs.empty()) groups.push_back(std::move(group));
  }
  return groups;
}

std::string task_heading(const TaskGroup& group) {
  return std::string(group.task == "inference" ? "inference" : "training") +
         " runs, ranked among themselves (train.task = \"" + group.task + "\"):\n";
}

}  // namespace orch
