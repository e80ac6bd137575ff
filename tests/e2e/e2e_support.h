// What every end-to-end test needs: a program's captured result, text helpers, temp
// directories and files, and read-only queries of the database orch wrote.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace orch::e2e {

struct RunResult {
  int exit_code = -1;  // 128 + signal when the program died of a signal
  std::string out;
  std::string err;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline bool has_line_starting_with(const std::string& text, const std::string& prefix) {
  for (const auto& line : lines_of(text)) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// A fresh directory under /tmp named after the suite, e.g. "orch_cli_test_Ab12Cd".
inline std::string make_temp_dir(const std::string& suite) {
  std::string pattern = "/tmp/orch_" + suite + "_XXXXXX";
  return ::mkdtemp(pattern.data()) ? pattern : "";
}

inline std::string write_file_in(const std::string& dir, const std::string& name,
                                 const std::string& text) {
  std::ofstream(dir + "/" + name, std::ios::binary) << text;
  return dir + "/" + name;
}

// Values of queries against the database orch wrote, opened read-only like a user would.
inline std::int64_t count(const std::string& db, const std::string& sql) {
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  return database.execAndGet(sql).getInt64();
}

inline std::string text_value(const std::string& db, const std::string& sql) {
  SQLite::Database database(db, SQLite::OPEN_READONLY);
  SQLite::Statement query(database, sql);
  if (!query.executeStep() || query.getColumn(0).isNull()) return "";
  return query.getColumn(0).getString();
}

}  // namespace orch::e2e
