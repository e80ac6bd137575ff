// A plain-text table for terminals and logs: columns padded to their widest cell,
// numbers right-aligned.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
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

// TextTable's layout written row by row into a buffer, for tables too large to keep as
// cells (`orch plan` of 100,000 runs): the column widths come first.
class TableWriter {
 public:
  explicit TableWriter(std::vector<size_t> widths) : widths_(std::move(widths)) {}
  // The header row and the rule under it.
  void header(const std::vector<std::string>& names, std::string& out) const;
  void row(std::initializer_list<std::string_view> cells, std::string& out) const;
  void row(const std::vector<std::string>& cells, std::string& out) const;

 private:
  template <class Cells>
  void line(const Cells& cells, bool is_header, std::string& out) const;
  std::vector<size_t> widths_;
};

std::string format_fixed(double value, int decimals);  // "0.123"; "-" for NaN (not measured)
std::string format_bytes(std::int64_t bytes);          // "183.4 MiB" (describe_bytes); "-" for none

}  // namespace orch
