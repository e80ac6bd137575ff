// Reads a delimited text file one row at a time, keeping the line number for messages.
// Fields may be quoted ("a, b" or "say ""hi"""); a quoted field cannot span lines.
// Blank lines are skipped. No torch here.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace orch_datasets::csv {

class Reader {
 public:
  // Throws std::runtime_error when the file cannot be opened.
  Reader(std::string path, char delimiter);

  // The next non-blank row, split into fields with surrounding spaces removed; false at
  // the end of the file. Throws std::runtime_error on a quote that is not closed.
  bool next(std::vector<std::string>& fields);

  // The line (1-based) of the row `next` returned last.
  std::int64_t line() const { return line_; }
  // "path:line: " for messages about the current row.
  std::string where() const { return path_ + ":" + std::to_string(line_) + ": "; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  char delimiter_;
  std::ifstream in_;
  std::string text_;
  std::int64_t line_ = 0;
};

}  // namespace orch_datasets::csv
