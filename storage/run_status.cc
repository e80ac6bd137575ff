#include "storage/run_status.h"

#include <stdexcept>

namespace orch {
namespace {

constexpr RunStatus kEvery[] = {RunStatus::kPending, RunStatus::kRunning,     RunStatus::kOk,
                                RunStatus::kOom,     RunStatus::kTimeout,     RunStatus::kCrashed,
                                RunStatus::kFailed,  RunStatus::kInterrupted, RunStatus::kSkipped,
                                RunStatus::kPruned};

}  // namespace

const char* status_word(RunStatus status) {
  switch (status) {
    case RunStatus::kPending:
      return "pending";
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kOk:
      return "ok";
    case RunStatus::kOom:
      return "oom";
    case RunStatus::kTimeout:
      return "timeout";
    case RunStatus::kCrashed:
      return "crashed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
    case RunStatus::kSkipped:
      return "skipped";
    case RunStatus::kPruned:
      return "pruned";
  }
  return "?";
}

RunStatus run_status_named(const std::string& word) {
  for (RunStatus status : kEvery) {
    if (word == status_word(status)) return status;
  }
  throw std::invalid_argument("unknown run status '" + word +
                              "' (orch writes pending, running, ok, oom, timeout, crashed, "
                              "failed, interrupted or skipped)");
}

}  // namespace orch
