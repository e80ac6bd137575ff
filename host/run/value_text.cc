#include "host/run/value_text.h"

#include <cstdio>
#include <cstdlib>

namespace orch {

std::string to_toml(const Value& value) {
  struct Printer {
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const {
      std::string out = "\"";
      for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    std::string operator()(double v) const {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", v);
      std::string out = buffer;
      // Shortest form that reads back to the same double.
      for (int precision = 1; precision < 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, v);
        if (std::strtod(buffer, nullptr) == v) {
          out = buffer;
          break;
        }
      }
      // %g writes 20 as "2e+01"; people write numbers of ordinary size without exponent.
      double magnitude = v < 0 ? -v : v;
      if (out.find('e') != std::string::npos && magnitude >= 1e-4 && magnitude < 1e15) {
        for (int decimals = 0; decimals < 17; ++decimals) {
          std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
          if (std::strtod(buffer, nullptr) == v) {
            out = buffer;
            break;
          }
        }
      }
      if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
      return out;
    }
  };
  return std::visit(Printer{}, value);
}

std::string describe_range(const ParamSpec& spec) {
  auto number = [&spec](double v) {
    if (spec.type == ParamType::kInt) return std::to_string(static_cast<long long>(v));
    std::string text = to_toml(Value(v));
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) {
      text.resize(text.size() - 2);
    }
    return text;
  };
  std::string out;
  if (!spec.choices.empty()) {
    out = "one of";
    for (size_t i = 0; i < spec.choices.size(); ++i) {
      out += (i ? ", " : " ") + spec.choices[i];
    }
    return out;
  }
  const std::string type = type_name(spec.type);
  if (spec.min && spec.max)
    return type + " in [" + number(*spec.min) + ", " + number(*spec.max) + "]";
  if (spec.min) return type + " >= " + number(*spec.min);
  if (spec.max) return type + " <= " + number(*spec.max);
  return "";
}

}  // namespace orch
