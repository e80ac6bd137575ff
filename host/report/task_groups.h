// Training runs and inference runs answer different questions (how fast does it learn,
// how fast does it predict), so they are ranked apart, never against each other.
#pragma once

#include <string>
#include <vector>

#include "storage/store.h"

namespace orch {

struct TaskGroup {
  std::string task;  // "train" or "inference"
  std::vector<storage::RunSummary> runs;
};

// The runs split by their train.task, training first; one group when all share a task.
std::vector<TaskGroup> group_by_task(const std::vector<storage::RunSummary>& runs);

// "training runs (train.task = \"train\"):\n", printed above a group's ranking.
std::string task_heading(const TaskGroup& group);

}  // namespace orch
