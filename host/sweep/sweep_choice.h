// Internal to SweepRuns (sweep.cc): a plugin choice, the runs that use one plugin in each
// section, resolved once for every value of every axis. From it SweepRuns hashes each
// run's canonical lines, writes its swept text and applies the exclude rules without
// resolving the run itself.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "host/sweep/experiment.h"
#include "host/sweep/sweep_resolve.h"
#include "orch/params.h"

namespace orch::sweep_choice {

// A swept key's values as one plugin choice resolves them, by digit of its axis.
struct Slot {
  size_t axis = 0;
  std::vector<Value> values;       // checked against the plugin's spec
  std::vector<std::string> lines;  // "section.param=value\n": its canonical line
};

// Where a resolved parameter of a plugin choice comes from: a fixed value or a slot.
struct Source {
  const Value* fixed = nullptr;
  int slot = -1;
};

// A run of canonical lines: fixed text, or the line of one slot.
struct Segment {
  std::string fixed;
  int slot = -1;
};

// One "path=value" of swept_text, by digit of its axis.
struct SweptPiece {
  size_t axis = 0;
  std::vector<std::string> text;
};

// A [[sweep.exclude]] rule as the runs of one plugin choice meet it: never, when a fixed
// condition fails; else when every varying condition holds for its axis' digit.
struct RuleView {
  bool possible = true;
  std::vector<std::pair<size_t, std::vector<char>>> varying;  // axis, met by digit

  bool matches(const std::vector<size_t>& digits) const {
    if (!possible) return false;
    for (const auto& [axis, met] : varying) {
      if (!met[digits[axis]]) return false;
    }
    return true;
  }
};

// Everything about the runs that use one plugin in each section.
struct Choice {
  std::vector<Slot> slots;
  std::vector<Segment> canonical;  // the canonical lines, in key order
  std::vector<SweptPiece> swept;   // in axis order
  std::vector<RuleView> rules;     // in rule order
  bool foreign = false;            // a value its plugins do not take: an error if it runs
};

// The same resolution as resolve() (sweep_resolve.h), once for every value of every axis,
// for the plugins that the plugin axes' `digits` choose.
Choice build_choice(const Experiment& experiment, SectionResolver& resolver,
                    const std::vector<size_t>& digits);

}  // namespace orch::sweep_choice
