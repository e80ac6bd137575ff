#include "host/guard/interrupt.h"

#include <csignal>

namespace orch {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_signal(int) { g_interrupted = 1; }

void set_handler(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking poll() must return and look at the flag
  sigaction(signal, &action, nullptr);
}

}  // namespace

void install_interrupt_handlers() {
  set_handler(SIGINT, on_signal);
  set_handler(SIGTERM, on_signal);
}

void restore_default_signal_handlers() {
  set_handler(SIGINT, SIG_DFL);
  set_handler(SIGTERM, SIG_DFL);
}

bool interrupt_requested() { return g_interrupted != 0; }
void request_interrupt() { g_interrupted = 1; }
void clear_interrupt() { g_interrupted = 0; }

}  // namespace orch
