#include "host/report/query_output.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace orch {
namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

nlohmann::ordered_json json_cell(const std::string& text, storage::CellKind kind) {
  switch (kind) {
    case storage::CellKind::kNull:
      return nullptr;
    case storage::CellKind::kInteger:
      return std::strtoll(text.c_str(), nullptr, 10);
    case storage::CellKind::kReal:
      return std::strtod(text.c_str(), nullptr);
    case storage::CellKind::kText:
    case storage::CellKind::kBlob:
      break;
  }
  return text;
}

}  // namespace

std::string render_csv(const storage::QueryResult& result) {
  std::string out;
  for (size_t c = 0; c < result.columns.size(); ++c) {
    out += (c ? "," : "") + csv_field(result.columns[c]);
  }
  out += "\r\n";
  for (size_t r = 0; r < result.rows.size(); ++r) {
    for (size_t c = 0; c < result.rows[r].size(); ++c) {
      const bool null = result.kinds[r][c] == storage::CellKind::kNull;
      out += (c ? "," : "") + (null ? std::string() : csv_field(result.rows[r][c]));
    }
    out += "\r\n";
  }
  return out;
}

std::string render_json(const storage::QueryResult& result) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (size_t r = 0; r < result.rows.size(); ++r) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (size_t c = 0; c < result.rows[r].size(); ++c) {
      row.push_back(json_cell(result.rows[r][c], result.kinds[r][c]));
    }
    rows.push_back(std::move(row));
  }
  nlohmann::ordered_json document = {{"format", "orch.sql"},
                                     {"version", kSqlJsonVersion},
                                     {"columns", result.columns},
                                     {"rows", std::move(rows)}};
  return document.dump() + "\n";
}

}  // namespace orch
