#include "host/sweep/sweep_ranges.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include "host/base/user_error.h"
#include "host/sweep/param_check.h"

namespace orch {
namespace {

constexpr const char* kHowToWrite =
    "a range is { from = A, to = B, step = S } or { from = A, to = B, count = N }, with "
    "scale = \"log\" for log-spaced points";

// 0.1 * 3 is 0.30000000000000004; the value a user would write is 0.3.
double tidy(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);
  return std::strtod(text, nullptr);
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);
  return text;
}

struct RangeSpec {
  double from = 0, to = 0;
  std::optional<double> step;
  std::optional<std::int64_t> count;
  bool log = false;
};

class RangeReader {
 public:
  RangeReader(const toml::table& range, ParamType type, const std::string& key,
              const std::string& file, bool sampled)
      : range_(range), type_(type), key_(key), file_(file), sampled_(sampled) {}

  std::vector<Value> values() {
    if (type_ == ParamType::kStr || type_ == ParamType::kBool) {
      throw fail(where(file_, range_), std::string("is a ") + type_name(type_) +
                                           " parameter; a range needs a number parameter, "
                                           "so give a list of values instead");
    }
    RangeSpec spec = read();
    if (!spec.step && !spec.count) return {number(spec.from), number(spec.to)};
    return spec.step ? by_step(spec) : by_count(spec);
  }

  RangeSpec read() {
    RangeSpec spec;
    std::optional<double> from, to;
    for (const auto& [raw_key, node] : range_) {
      std::string name(raw_key.str());
      const std::string at = where(file_, raw_key);
      if (name == "from" || name == "to" || name == "step") {
        if (!node.is_number()) {
          throw fail(at, "range: " + name + " must be a number, not " + kind_of(node));
        }
        double value = *node.value<double>();
        if (type_ == ParamType::kInt && value != std::floor(value)) {
          throw fail(at, "range: " + name + " = " + number_text(value) +
                             " must be a whole number, since " + key_ + " is an integer parameter");
        }
        (name == "from" ? from : name == "to" ? to : spec.step) = value;
        if (name == "step" && value == 0) {
          throw fail(at,
                     "range: step = 0 never reaches `to`; give a step other than 0, or "
                     "count = N points");
        }
      } else if (name == "count") {
        auto count = node.value_exact<std::int64_t>();
        if (!count || *count < 1) {
          throw fail(at, "range: count must be an integer >= 1 (the number of points)");
        }
        spec.count = *count;
      } else if (name == "scale") {
        auto scale = node.value_exact<std::string>();
        if (!scale || (*scale != "linear" && *scale != "log")) {
          throw fail(at, "range: scale must be \"linear\" (the default) or \"log\"");
        }
        spec.log = *scale == "log";
      } else {
        throw fail(at, "range has an unknown key '" + name + "'; " + kHowToWrite);
      }
    }
    const std::string at = where(file_, range_);
    if (!from || !to) throw fail(at, "range needs both from and to; " + std::string(kHowToWrite));
    spec.from = *from;
    spec.to = *to;
    if (spec.step && spec.count) {
      throw fail(at, "range gives both step and count; give one of them");
    }
    if (!spec.step && !spec.count && !sampled_) {
      throw fail(at, "range needs step = S or count = N; " + std::string(kHowToWrite) +
                         " (a sampled [search] takes { from = A, to = B } alone)");
    }
    if (spec.log && spec.step) {
      throw fail(at, "range: a log range takes count = N (points per range), not step");
    }
    if (spec.log && (spec.from <= 0 || spec.to <= 0)) {
      throw fail(at, "range: a log range needs from and to above 0");
    }
    if (spec.step && spec.to != spec.from && (*spec.step > 0) != (spec.to > spec.from)) {
      throw fail(at, "range: step = " + number_text(*spec.step) + " goes away from to = " +
                         number_text(spec.to) + "; use step = " + number_text(-*spec.step));
    }
    return spec;
  }

 private:
  UserError fail(const std::string& at, const std::string& what) const {
    return UserError(at + ": sweep \"" + key_ + "\" " + what);
  }

  Value number(double value) const {
    if (type_ == ParamType::kInt) return Value(static_cast<std::int64_t>(value));
    return Value(value);
  }

  void check_size(double points) const {
    if (points > static_cast<double>(kMaxRangeValues)) {
      throw fail(where(file_, range_), "range gives " + number_text(std::floor(points)) +
                                           " values; at most " + std::to_string(kMaxRangeValues) +
                                           " per range (a larger step or a smaller count)");
    }
  }

  std::vector<Value> by_step(const RangeSpec& spec) const {
    const double step = *spec.step;
    // `to` is included when it lands on a step, give or take rounding.
    double points = std::floor((spec.to - spec.from) / step + 1e-9) + 1;
    check_size(points);
    std::vector<Value> out;
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(points); ++i) {
      if (type_ == ParamType::kInt) {
        out.emplace_back(static_cast<std::int64_t>(spec.from) +
                         i * static_cast<std::int64_t>(step));
      } else {
        double value = spec.from + static_cast<double>(i) * step;
        if (std::abs(value - spec.to) <= 1e-9 * std::abs(step)) value = spec.to;
        out.emplace_back(tidy(value));
      }
    }
    return out;
  }

  static double point(const RangeSpec& spec, std::int64_t i, std::int64_t count) {
    if (i == 0 || count == 1) return spec.from;
    if (i == count - 1) return spec.to;
    double t = static_cast<double>(i) / static_cast<double>(count - 1);
    if (spec.log)
      return std::exp(std::log(spec.from) + t * (std::log(spec.to) - std::log(spec.from)));
    return spec.from + t * (spec.to - spec.from);
  }

  static bool rounds_apart(const RangeSpec& spec, std::int64_t count) {
    std::set<std::int64_t> seen;
    for (std::int64_t i = 0; i < count; ++i) {
      if (!seen.insert(std::llround(point(spec, i, count))).second) return false;
    }
    return true;
  }

  std::vector<Value> by_count(const RangeSpec& spec) const {
    const std::int64_t count = *spec.count;
    check_size(static_cast<double>(count));
    if (type_ == ParamType::kInt && !rounds_apart(spec, count)) {
      std::int64_t fewer = count - 1;
      while (fewer > 1 && !rounds_apart(spec, fewer)) --fewer;
      throw fail(where(file_, range_), "range gives the same integer twice after rounding (" +
                                           key_ +
                                           " is an integer parameter); use fewer points: count = " +
                                           std::to_string(fewer) + " or less");
    }
    std::vector<Value> out;
    for (std::int64_t i = 0; i < count; ++i) {
      double value = point(spec, i, count);
      if (type_ == ParamType::kInt) {
        out.emplace_back(static_cast<std::int64_t>(std::llround(value)));
      } else {
        out.emplace_back(tidy(value));
      }
    }
    return out;
  }

  const toml::table& range_;
  ParamType type_;
  const std::string& key_;
  const std::string& file_;
  bool sampled_;
};

}  // namespace

std::vector<Value> range_values(const toml::table& range, ParamType type, const std::string& key,
                                const std::string& file, bool sampled) {
  return RangeReader(range, type, key, file, sampled).values();
}

SweptRange range_bounds(const toml::table& range, ParamType type) {
  const std::string no_key, no_file;
  RangeSpec spec = RangeReader(range, type, no_key, no_file, true).read();
  SweptRange bounds;
  bounds.from = std::min(spec.from, spec.to);
  bounds.to = std::max(spec.from, spec.to);
  bounds.step = spec.step ? std::abs(*spec.step) : 0;
  bounds.log = spec.log;
  bounds.integer = type == ParamType::kInt;
  return bounds;
}

}  // namespace orch
