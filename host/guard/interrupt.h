// Ctrl-C and SIGTERM stop a sweep cleanly: the handler only sets a flag; the guard sees
// it within one watchdog tick, stops its worker, and the scheduler records the run as
// interrupted so that the next `orch run` does it again.
#pragma once

namespace orch {

// Installs the SIGINT/SIGTERM handlers in the host. Workers restore the defaults.
void install_interrupt_handlers();
void restore_default_signal_handlers();
bool interrupt_requested();
void request_interrupt();  // what the handler does; also for tests
void clear_interrupt();    // for tests that interrupt on purpose

}  // namespace orch
