// Bad input from the user: a file, a flag or a value. main() prints the message alone
// (no stack, no prefix noise) and exits non-zero.
#pragma once

#include <stdexcept>

namespace orch {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace orch
