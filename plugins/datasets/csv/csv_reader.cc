#include "csv/csv_reader.h"

#include <filesystem>
#include <stdexcept>
#include <utility>

namespace orch_datasets::csv {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string trimmed(const std::string& text, std::size_t begin, std::size_t end) {
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

Reader::Reader(std::string path, char delimiter)
    : path_(std::move(path)), delimiter_(delimiter), in_(path_) {
  if (std::filesystem::is_directory(path_)) {
    throw std::runtime_error(path_ +
                             ": is a directory, not a CSV file; set dataset.path to a file");
  }
  if (!in_) {
    throw std::runtime_error(
        path_ + ": cannot open the file (" +
        (std::filesystem::exists(path_) ? "permission denied?" : "it does not exist") +
        "); set dataset.path to a CSV file");
  }
}

bool Reader::next(std::vector<std::string>& fields) {
  fields.clear();
  while (std::getline(in_, text_)) {
    ++line_;
    std::size_t i = 0;
    while (i < text_.size() && is_space(text_[i])) ++i;
    if (i == text_.size()) continue;  // blank line

    std::size_t pos = 0;
    while (true) {
      std::size_t start = pos;
      while (start < text_.size() && is_space(text_[start]) && text_[start] != delimiter_) ++start;
      if (start < text_.size() && text_[start] == '"') {
        std::string field;
        std::size_t j = start + 1;
        while (true) {
          if (j >= text_.size()) {
            throw std::runtime_error(where() +
                                     "a quoted field is not closed (quoted fields "
                                     "cannot span lines)");
          }
          if (text_[j] == '"') {
            if (j + 1 < text_.size() && text_[j + 1] == '"') {
              field += '"';
              j += 2;
              continue;
            }
            ++j;
            break;
          }
          field += text_[j++];
        }
        while (j < text_.size() && text_[j] != delimiter_) {
          if (!is_space(text_[j])) {
            throw std::runtime_error(where() + "text after the closing quote of field " +
                                     std::to_string(fields.size() + 1));
          }
          ++j;
        }
        fields.push_back(std::move(field));
        if (j >= text_.size()) return true;
        pos = j + 1;
      } else {
        std::size_t end = text_.find(delimiter_, pos);
        if (end == std::string::npos) {
          fields.push_back(trimmed(text_, pos, text_.size()));
          return true;
        }
        fields.push_back(trimmed(text_, pos, end));
        pos = end + 1;
      }
    }
  }
  return false;
}

}  // namespace orch_datasets::csv
