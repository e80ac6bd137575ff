// The subcommands of `orch`. Each takes the parsed options and returns the exit code;
// bad input is thrown as UserError and printed by main().
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace orch {

struct Options {
  std::string db_path = "orch.db";
  std::vector<std::string> plugin_dirs;
  std::string file;        // run, plan
  std::string sql;         // sql
  std::string experiment;  // report, best: empty = the latest
};

int run_command(const Options& options);
int plan_command(const Options& options);
int plugins_command(const Options& options);
int sql_command(const Options& options);
int report_command(const Options& options);
int best_command(const Options& options);

}  // namespace orch
