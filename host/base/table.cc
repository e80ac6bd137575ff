#include "host/base/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "host/base/memory_budget.h"

namespace orch {
namespace {

bool looks_numeric(std::string_view cell) {
  if (cell.empty()) return false;
  char first = cell[0];
  return (first >= '0' && first <= '9') || ((first == '-' || first == '.') && cell.size() > 1);
}

}  // namespace

template <class Cells>
void TableWriter::line(const Cells& cells, bool is_header, std::string& out) const {
  const size_t start = out.size();
  auto cell = cells.begin();
  for (size_t i = 0; i < widths_.size(); ++i) {
    std::string_view text;
    if (cell != cells.end()) text = *cell++;
    const size_t pad = widths_[i] > text.size() ? widths_[i] - text.size() : 0;
    const bool right = !is_header && looks_numeric(text);
    if (i) out.append(2, ' ');
    if (right) out.append(pad, ' ');
    out.append(text);
    if (!right) out.append(pad, ' ');
  }
  while (out.size() > start && out.back() == ' ') out.pop_back();
  out += '\n';
}

void TableWriter::header(const std::vector<std::string>& names, std::string& out) const {
  line(names, true, out);
  std::vector<std::string> rule;
  for (size_t width : widths_) rule.emplace_back(width, '-');
  line(rule, true, out);
}

void TableWriter::row(std::initializer_list<std::string_view> cells, std::string& out) const {
  line(cells, false, out);
}

void TableWriter::row(const std::vector<std::string>& cells, std::string& out) const {
  line(cells, false, out);
}

std::string TextTable::render() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  widen(header_);
  for (const auto& row : rows_) widen(row);

  TableWriter writer(std::move(widths));
  std::string out;
  writer.header(header_, out);
  for (const auto& row : rows_) writer.row(row, out);
  return out;
}

std::string format_fixed(double value, int decimals) {
  if (std::isnan(value)) return "-";  // not measured
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string format_bytes(std::int64_t bytes) { return bytes <= 0 ? "-" : describe_bytes(bytes); }

}  // namespace orch
