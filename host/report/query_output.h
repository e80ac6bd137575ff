// `orch sql --format csv|json`: a query's rows for programs rather than people. CSV is
// RFC 4180 (a header line; fields quoted when they hold a comma, a quote or a line break;
// NULL as an empty field). JSON is one object, versioned so scripts can rely on its shape:
//   {"format": "orch.sql", "version": 1, "columns": ["id", ...], "rows": [[1, ...], ...]}
// with numbers as numbers (reals exact), text as strings, NULL as null.
#pragma once

#include <string>

#include "storage/store.h"

namespace orch {

inline constexpr int kSqlJsonVersion = 1;

std::string render_csv(const storage::QueryResult& result);
std::string render_json(const storage::QueryResult& result);

}  // namespace orch
