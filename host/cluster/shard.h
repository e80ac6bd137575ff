// Splitting a sweep into shards (one per Slurm array task) and where shard databases live.
//
// Run i of the expanded sweep (repeats included, in plan order) belongs to shard i mod N:
// every run is in exactly one shard for any N, and shards differ in size by at most one.
#pragma once

#include <string>
#include <vector>

#include "host/run/run_spec.h"

namespace orch {

struct ShardSpec {
  int index = 0;  // 0 .. count-1, as Slurm numbers array tasks with --array=0-(N-1)
  int count = 1;
};

// Parses "I/N" (e.g. "3/10"). Throws UserError naming `where` and the text when it is not
// two integers with 0 <= I < N.
ShardSpec parse_shard(const std::string& text, const std::string& where = "--shard");

bool in_shard(int run_position, const ShardSpec& shard);

// The runs of `runs` (positions are their order in the vector) that belong to `shard`.
std::vector<RunSpec> runs_of_shard(const std::vector<RunSpec>& runs, const ShardSpec& shard);

// "<db dir>/<db stem>-shards/<experiment name>": where `orch submit` puts the job script,
// the manifest and the shard databases of an experiment, and where merge and status look.
std::string shard_directory(const std::string& db_path, const std::string& experiment_name);

// "<dir>/shard-<index>.db"
std::string shard_database(const std::string& directory, int index);

}  // namespace orch
