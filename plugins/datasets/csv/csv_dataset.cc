// "csv": a classification set from a delimited text file of numeric feature columns and
// one label column. Rows are split into training and validation by a seeded shuffle, so a
// file sorted by label still gives both splits every class.
#include <orch/orch.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "common/in_memory_dataset.h"
#include "common/number_text.h"
#include "csv/csv_reader.h"

namespace orch_datasets {
namespace {

// Integer labels are class indices; this many classes means a mistake (ids, not classes).
constexpr std::int64_t kMaxClasses = 100000;

struct Table {
  std::vector<std::string> columns;  // header names, or "0", "1", ... without a header
  std::vector<float> features;       // rows x (columns - 1), row-major
  std::vector<std::string> labels;   // one per row
  std::int64_t rows = 0;
};

std::string describe_column(const std::vector<std::string>& columns, std::size_t index,
                            bool header) {
  return header ? "column '" + columns[index] + "'" : "column " + std::to_string(index);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool parse_int(const std::string& text, std::int64_t& value) {
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// The label column: by name, or by 0-based index (the only way without a header).
std::size_t find_label(const std::vector<std::string>& columns, const std::string& label,
                       bool header, const std::string& path) {
  if (header) {
    auto it = std::find(columns.begin(), columns.end(), label);
    if (it != columns.end()) return static_cast<std::size_t>(it - columns.begin());
  }
  std::int64_t index = -1;
  if (parse_int(label, index) && index >= 0 && index < static_cast<std::int64_t>(columns.size())) {
    return static_cast<std::size_t>(index);
  }
  if (header) {
    throw std::invalid_argument(path + ": no column '" + label + "' in the header; columns are: " +
                                join(columns) + "; set dataset.label");
  }
  throw std::invalid_argument(path +
                              ": dataset.header = false, so dataset.label must be the "
                              "label column's 0-based index (0 to " +
                              std::to_string(columns.size() - 1) + "), not '" + label + "'");
}

Table read_table(const std::string& path, char delimiter, bool header, const std::string& label) {
  csv::Reader reader(path, delimiter);
  Table table;
  std::vector<std::string> fields;
  if (!reader.next(fields)) {
    throw std::runtime_error(path + ": the file is empty; expected " +
                             std::string(header ? "a header line and " : "") +
                             "rows of numbers with a label column");
  }
  std::size_t width = fields.size();
  bool first_is_data = !header;
  if (header) {
    table.columns = fields;
  } else {
    for (std::size_t i = 0; i < width; ++i) table.columns.push_back(std::to_string(i));
  }
  if (width < 2) {
    throw std::runtime_error(reader.where() +
                             "1 field; expected feature columns and a label "
                             "column separated by '" +
                             std::string(1, delimiter) +
                             "' (set dataset.delimiter if the file uses another)");
  }
  std::size_t label_index = find_label(table.columns, label, header, path);
  std::string expected = header ? "like the header" : "like line " + std::to_string(reader.line());

  while (first_is_data || reader.next(fields)) {
    first_is_data = false;
    if (fields.size() != width) {
      throw std::runtime_error(reader.where() + std::to_string(fields.size()) +
                               " fields, expected " + std::to_string(width) + " " + expected);
    }
    for (std::size_t i = 0; i < width; ++i) {
      const std::string& cell = fields[i];
      if (i == label_index) {
        if (cell.empty()) {
          throw std::runtime_error(reader.where() + describe_column(table.columns, i, header) +
                                   ": the label is empty");
        }
        table.labels.push_back(cell);
        continue;
      }
      double value = 0;
      auto result = std::from_chars(cell.data(), cell.data() + cell.size(), value);
      if (cell.empty() || result.ec != std::errc() || result.ptr != cell.data() + cell.size() ||
          !std::isfinite(value)) {
        throw std::runtime_error(
            reader.where() + describe_column(table.columns, i, header) + ": '" + cell +
            "' is not a number" + (cell.empty() ? " (the cell is empty)" : "") +
            "; feature columns must be numeric (only the label column may hold text)");
      }
      table.features.push_back(static_cast<float>(value));
    }
    ++table.rows;
  }
  if (table.rows == 0) {
    throw std::runtime_error(path + ": no data rows" + (header ? " after the header" : ""));
  }
  table.columns.erase(table.columns.begin() + static_cast<std::ptrdiff_t>(label_index));
  return table;
}

// Class indices: the integers themselves when every label is an integer >= 0, otherwise
// the distinct label texts in sorted order.
torch::Tensor class_indices(const Table& table, const std::string& path, const std::string& label,
                            std::int64_t& classes) {
  auto targets = torch::empty({table.rows}, torch::kLong);
  auto out = targets.accessor<std::int64_t, 1>();
  std::set<std::string> distinct(table.labels.begin(), table.labels.end());
  if (distinct.size() < 2) {
    throw std::runtime_error(path + ": the label column '" + label + "' has only one value ('" +
                             *distinct.begin() + "'); a classifier needs at least 2 classes");
  }
  bool integers = std::all_of(table.labels.begin(), table.labels.end(), [](const std::string& l) {
    std::int64_t v = 0;
    return parse_int(l, v) && v >= 0;
  });
  if (integers) {
    classes = 0;
    for (std::int64_t r = 0; r < table.rows; ++r) {
      parse_int(table.labels[r], out[r]);
      classes = std::max(classes, out[r] + 1);
    }
    if (classes > kMaxClasses) {
      throw std::runtime_error(path + ": integer label " + std::to_string(classes - 1) +
                               " would mean " + std::to_string(classes) +
                               " classes (integer labels are class indices); number the classes "
                               "0, 1, 2, ...");
    }
    return targets;
  }
  std::map<std::string, std::int64_t> index;
  for (const auto& text : distinct) index.emplace(text, static_cast<std::int64_t>(index.size()));
  for (std::int64_t r = 0; r < table.rows; ++r) out[r] = index.at(table.labels[r]);
  classes = static_cast<std::int64_t>(distinct.size());
  return targets;
}

class CsvDataset : public InMemoryDataset {
 public:
  explicit CsvDataset(const orch::Params& params) {
    const std::string& path = params.Str("path");
    const std::string& delimiter = params.Str("delimiter");
    if (delimiter.size() != 1) {
      throw std::invalid_argument("dataset.delimiter must be one character, got '" + delimiter +
                                  "'; for tabs write delimiter = \"\\t\"");
    }
    Table table = read_table(path, delimiter[0], params.Bool("header"), params.Str("label"));
    auto targets = class_indices(table, path, params.Str("label"), classes_);
    features_ = static_cast<std::int64_t>(table.columns.size());
    auto inputs =
        torch::from_blob(table.features.data(), {table.rows, features_}, torch::kFloat).clone();

    const HeldOutRows rows =
        held_out_rows(table.rows, params.Real("val_fraction"), params.Int("seed"));
    if (rows.train.size(0) < 1) {
      throw std::runtime_error(path + ": " + std::to_string(table.rows) +
                               " rows leave none for training with val_fraction = " +
                               number_text(params.Real("val_fraction")) +
                               "; add rows or lower dataset.val_fraction");
    }
    train_ = {inputs.index_select(0, rows.train), targets.index_select(0, rows.train), {}};
    val_ = {inputs.index_select(0, rows.val), targets.index_select(0, rows.val), {}};

    if (params.Bool("standardize")) {
      // Training statistics only, so validation stays unseen; constant columns are centred.
      auto mean = train_.inputs.mean(0, true);
      auto std = train_.inputs.std(0, false, true);
      std = torch::where(std > 1e-12, std, torch::ones_like(std));
      train_.inputs = (train_.inputs - mean) / std;
      val_.inputs = (val_.inputs - mean) / std;
    }
  }

  orch::DatasetInfo describe() const override {
    orch::DatasetInfo info;
    info.input_shape = {features_};
    info.classes = classes_;
    return info;
  }

 private:
  std::int64_t features_ = 0;
  std::int64_t classes_ = 0;
};

}  // namespace
}  // namespace orch_datasets

ORCH_PLUGIN("csv", "1.0.0") {
  using orch::ParamSpec;
  registry.add_dataset<orch_datasets::CsvDataset>(
      "csv",
      {ParamSpec::Str("path", "data.csv", "the CSV file").path(),
       ParamSpec::Str(
           "label", "label",
           "the label column: its name, or its 0-based index (needed with header = false)"),
       ParamSpec::Bool("header", true, "the first line names the columns"),
       ParamSpec::Str("delimiter", ",", "the field separator, one character (\"\\t\" for tabs)"),
       ParamSpec::Real("val_fraction", 0.2,
                       "fraction of the rows, chosen by a seeded shuffle, held out for validation")
           .range(0, 0.9),
       ParamSpec::Int("seed", 0, "seed of the train/validation shuffle").at_least(0),
       ParamSpec::Bool(
           "standardize", true,
           "scale every feature to zero mean and unit variance (training statistics)")});
}
