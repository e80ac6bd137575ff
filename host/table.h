// A plain-text table for terminals and logs: columns padded to their widest cell,
// numbers right-aligned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orch {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string format_fixed(double value, int decimals);  // "0.123"; "-" for NaN (not measured)
std::string format_bytes(std::int64_t bytes);          // "183.4 MiB"

}  // namespace orch
