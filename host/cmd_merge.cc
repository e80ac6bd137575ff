// orch merge: placeholder until its implementation lands.
#include "host/commands.h"
#include "host/user_error.h"

namespace orch {

int merge_command(const Options&) { throw UserError("orch merge is not implemented yet"); }

}  // namespace orch
