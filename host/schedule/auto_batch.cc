#include "host/schedule/auto_batch.h"

#include <map>

#include "host/base/memory_budget.h"
#include "host/base/user_error.h"
#include "host/probe/probe.h"
#include "host/run/run_key.h"
#include "host/schedule/run_setup.h"

namespace orch {

void settle_auto_batch_sizes(std::vector<RunSpec>& runs, const PluginCatalog& catalog,
                             storage::Store& store, int parallel_runs,
                             const ProbeOptions& probe_options, std::ostream& progress) {
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> answers;
  for (auto& run : runs) {
    if (!backend_unavailable(run, catalog).empty()) continue;  // skipped when its turn comes
    std::int64_t budget = run_budget(run, parallel_runs);
    auto key = std::make_pair(memory_key(run), budget);
    if (!answers.count(key)) {
      progress << "batch_size = \"auto\": probing the largest batch that fits in "
               << describe_bytes(budget) << "\n";
      ProbeResult result = probe_batch_size(run, catalog, store, budget, probe_options, progress);
      if (result.answer.max_batch_size == 0) {
        throw UserError("batch_size = \"auto\": not even batch size 1 fits in the budget of " +
                        describe_bytes(budget) + "; raise train.memory_limit");
      }
      progress << render_probe(result);
      answers[key] = result.answer.max_batch_size;
    }
    settle_auto_batch_size(run, answers[key]);
  }
}

}  // namespace orch
