#include "host/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace orch {
namespace {

bool looks_numeric(const std::string& cell) {
  if (cell.empty()) return false;
  char first = cell[0];
  return (first >= '0' && first <= '9') || ((first == '-' || first == '.') && cell.size() > 1);
}

}  // namespace

std::string TextTable::render() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  widen(header_);
  for (const auto& row : rows_) widen(row);

  std::string out;
  auto emit = [&](const std::vector<std::string>& row, bool is_header) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      std::string pad(widths[i] - cell.size(), ' ');
      bool right = !is_header && looks_numeric(cell);
      line += (i ? "  " : "") + (right ? pad + cell : cell + pad);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header_, true);
  std::vector<std::string> rule;
  for (size_t width : widths) rule.emplace_back(width, '-');
  emit(rule, true);
  for (const auto& row : rows_) emit(row, false);
  return out;
}

std::string format_fixed(double value, int decimals) {
  if (std::isnan(value)) return "-";  // not measured
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string format_bytes(std::int64_t bytes) {
  if (bytes <= 0) return "-";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return format_fixed(value, unit == 0 ? 0 : 1) + " " + units[unit];
}

}  // namespace orch
