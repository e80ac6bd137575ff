// Everything a plugin needs.
#pragma once

#include "orch/backend.h"
#include "orch/classifier.h"
#include "orch/dataset.h"
#include "orch/model.h"
#include "orch/params.h"
#include "orch/plugin.h"
#include "orch/registry.h"
#include "orch/types.h"
