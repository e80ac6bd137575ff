// The synthetic dataset library: deterministic, learnable data of every task kind, so a
// sweep can run without downloading anything.
#include "synthetic/synthetic.h"

ORCH_PLUGIN("synthetic", "1.1.0") {
  using namespace orch_datasets::synthetic;
  add_vectors(registry);
  add_images(registry);
  add_light_curves(registry);
  add_sequences(registry);
  add_segmentation(registry);
}
