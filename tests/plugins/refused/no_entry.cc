// A perfectly good shared library that simply is not an orch plugin.
extern "C" __attribute__((visibility("default"))) int not_an_orch_plugin() { return 42; }
