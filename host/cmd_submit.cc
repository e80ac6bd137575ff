// orch submit: placeholder until its implementation lands.
#include "host/commands.h"
#include "host/user_error.h"

namespace orch {

int submit_command(const Options&) { throw UserError("orch submit is not implemented yet"); }

}  // namespace orch
