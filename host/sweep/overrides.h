// Values given on the command line instead of the file's: --set KEY=VALUE and
// --memory-limit. They are checked like the file's values, against the same specs.
#pragma once

#include <string>

#include "host/sweep/experiment.h"

namespace orch {

// Parses "KEY=VALUE". VALUE is read as a TOML value (1, 0.5, true, "text"); anything that
// is not one, such as a bare word (mlp, 6GiB), is taken as a string. A relative path
// parameter given this way is resolved against the current directory. Throws UserError
// naming "--set KEY" for a malformed flag or a list or table value.
Override parse_override(const std::string& text);

// --memory-limit SIZE as an override of train.memory_limit.
Override memory_limit_override(const std::string& limit);

}  // namespace orch
