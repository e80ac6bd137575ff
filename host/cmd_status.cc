// orch status: placeholder until its implementation lands.
#include "host/commands.h"
#include "host/user_error.h"

namespace orch {

int status_command(const Options&) { throw UserError("orch status is not implemented yet"); }

}  // namespace orch
