// Store's search points: what a search ([search] strategy = random, sobol, bayes)
// suggested, so that it resumes, and is shared by several orch processes, as one search.
#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdio>
#include <cstdlib>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {
namespace {

// Coordinates as a JSON array of numbers; %.17g reads back as the same double.
std::string coordinates_text(const std::vector<double>& coordinates) {
  std::string text = "[";
  for (size_t i = 0; i < coordinates.size(); ++i) {
    char number[32];
    std::snprintf(number, sizeof number, "%.17g", coordinates[i]);
    text += (i ? "," : "") + std::string(number);
  }
  return text + "]";
}

std::vector<double> coordinates_of(const std::string& text) {
  std::vector<double> coordinates;
  const char* at = text.c_str();
  while (*at != '\0') {
    if (*at == '[' || *at == ',' || *at == ']' || *at == ' ') {
      ++at;
      continue;
    }
    char* end = nullptr;
    coordinates.push_back(std::strtod(at, &end));
    if (end == at) break;  // not a number: a file edited by hand; keep what was read
    at = end;
  }
  return coordinates;
}

}  // namespace

bool Store::add_search_point(const std::string& experiment_name, const SearchPointRecord& point) {
  return guarded(path_, "record search point " + std::to_string(point.index), [&] {
    SQLite::Statement insert(
        *db_, std::string("INSERT OR IGNORE INTO search_points(experiment, point_index, "
                          "strategy, config_key, swept, coordinates, created_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ") +
                  kNow + ")");
    insert.bind(1, experiment_name);
    insert.bind(2, point.index);
    insert.bind(3, point.strategy);
    insert.bind(4, point.config_key);
    insert.bind(5, point.swept);
    insert.bind(6, coordinates_text(point.coordinates));
    return insert.exec() == 1;
  });
}

std::vector<SearchPointRecord> Store::search_points(const std::string& experiment_name) {
  return guarded(path_, "read search points", [&] {
    SQLite::Statement query(*db_,
                            "SELECT point_index, strategy, config_key, swept, coordinates "
                            "FROM search_points WHERE experiment = ? ORDER BY point_index");
    query.bind(1, experiment_name);
    std::vector<SearchPointRecord> points;
    while (query.executeStep()) {
      SearchPointRecord point;
      point.index = query.getColumn(0).getInt();
      point.strategy = text_of(query.getColumn(1));
      point.config_key = text_of(query.getColumn(2));
      point.swept = text_of(query.getColumn(3));
      point.coordinates = coordinates_of(text_of(query.getColumn(4)));
      points.push_back(std::move(point));
    }
    return points;
  });
}

}  // namespace orch::storage
