#include "host/base/memory_budget.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "host/base/text.h"
#include "host/base/user_error.h"

namespace orch {
namespace {

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = kKiB * 1024;
constexpr std::int64_t kGiB = kMiB * 1024;
constexpr std::int64_t kTiB = kGiB * 1024;
constexpr std::int64_t kBudgetStep = 256 * kMiB;
constexpr const char* kExamples = "; write it like \"6GiB\", \"512MiB\" or \"80%\"";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Bytes per unit; 0 for "%" (handled apart), -1 for an unknown unit.
std::int64_t unit_bytes(const std::string& unit) {
  const std::string u = lower(unit);
  if (u.empty() || u == "b") return 1;
  if (u == "k" || u == "kib") return kKiB;
  if (u == "m" || u == "mib") return kMiB;
  if (u == "g" || u == "gib") return kGiB;
  if (u == "t" || u == "tib") return kTiB;
  if (u == "kb") return 1000;
  if (u == "mb") return 1000 * 1000;
  if (u == "gb") return 1000 * 1000 * 1000;
  if (u == "tb") return 1000LL * 1000 * 1000 * 1000;
  if (u == "%") return 0;
  return -1;
}

// "18GiB" or "768MiB": a round size to suggest in an error message.
std::string short_size(std::int64_t bytes) {
  if (bytes >= kGiB) return std::to_string(bytes / kGiB) + "GiB";
  return std::to_string(std::max<std::int64_t>(bytes / kMiB, 1)) + "MiB";
}

}  // namespace

MachineMemory read_machine_memory() {
  std::ifstream in("/proc/meminfo");
  if (!in) throw std::runtime_error("cannot read /proc/meminfo");
  MachineMemory machine;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    std::int64_t kib = 0;
    if (!(fields >> key >> kib)) continue;
    if (key == "MemTotal:") machine.total_bytes = kib * kKiB;
    if (key == "MemAvailable:") machine.available_bytes = kib * kKiB;
  }
  if (machine.total_bytes <= 0 || machine.available_bytes <= 0)
    throw std::runtime_error("/proc/meminfo has no MemTotal or MemAvailable");
  return machine;
}

const MachineMemory& machine_memory_at_start() {
  static const MachineMemory machine = read_machine_memory();
  return machine;
}

std::int64_t default_budget(const MachineMemory& machine, int parallel_runs) {
  const std::int64_t share = machine.available_bytes / 5 * 4 / std::max(1, parallel_runs);
  const std::int64_t budget = share / kBudgetStep * kBudgetStep;
  // On a nearly full machine rounding would reach 0: take one step (256 MiB), or all
  // that is available when even that is less, and let the probe find what fits.
  if (budget < kBudgetStep) return std::min(machine.available_bytes, kBudgetStep);
  return budget;
}

std::int64_t parse_budget(const std::string& text, const MachineMemory& machine,
                          const std::string& where) {
  const std::string quoted = where + " = \"" + text + "\" ";
  const auto fail = [&](const std::string& problem) {
    throw UserError(quoted + problem + kExamples);
  };
  const std::string s = trim(text);
  std::size_t i = 0;
  const bool negative = i < s.size() && s[i] == '-';
  if (negative) ++i;

  // The number is kept exact as integer digits: "1.5" is 15 over 10^1.
  const std::size_t int_begin = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  const std::string int_digits = s.substr(int_begin, i - int_begin);
  std::string frac_digits;
  bool has_point = false;
  if (i < s.size() && s[i] == '.') {
    has_point = true;
    const std::size_t frac_begin = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    frac_digits = s.substr(frac_begin, i - frac_begin);
  }
  while (i < s.size() && s[i] == ' ') ++i;
  const std::string unit = s.substr(i);
  const std::int64_t per_unit = unit_bytes(unit);
  if (int_digits.empty() || (has_point && frac_digits.empty()) || per_unit < 0)
    fail("is not a memory size");
  if (has_point && per_unit == 1) fail("is not a whole number of bytes");

  // Past 15 decimals the truncation changes the result by less than a byte.
  if (frac_digits.size() > 15) frac_digits.resize(15);
  const std::string int_trimmed =
      int_digits.substr(std::min(int_digits.find_first_not_of('0'), int_digits.size()));
  const bool huge = int_trimmed.size() > 18;
  const __int128 whole = huge ? 0 : std::stoll("0" + int_trimmed);
  const __int128 frac = frac_digits.empty() ? 0 : std::stoll(frac_digits);
  __int128 scale = 1;
  for (std::size_t k = 0; k < frac_digits.size(); ++k) scale *= 10;
  const bool zero = !huge && whole == 0 && frac == 0;

  if (negative && !zero) fail("is negative, and a memory limit must be more than 0");
  if (zero) fail(per_unit == 0 ? "must be more than 0%" : "must be more than 0");

  __int128 bytes = 0;
  if (per_unit == 0) {
    if (huge || whole > 100 || (whole == 100 && frac > 0))
      fail("is more than 100% of the available memory");
    bytes = (whole * scale + frac) * machine.available_bytes / (scale * 100);
  } else {
    // Check the whole part first so that the exact product below cannot overflow.
    if (huge || whole * per_unit > machine.total_bytes)
      bytes = machine.total_bytes + 1;
    else
      bytes = (whole * scale + frac) * per_unit / scale;
  }
  if (bytes > machine.total_bytes)
    throw UserError(quoted + "is more than this machine has (" +
                    describe_bytes(machine.total_bytes) + "); write a smaller size like \"" +
                    short_size(default_budget(machine)) + "\" or a share like \"80%\"");
  if (bytes == 0) fail("is less than one byte, and must be more than 0");
  return static_cast<std::int64_t>(bytes);
}

std::string describe_bytes(std::int64_t bytes) {
  const std::int64_t size = bytes < 0 ? -bytes : bytes;
  if (size < kKiB) return std::to_string(bytes) + " B";
  const char* names[] = {"KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  double value = static_cast<double>(bytes) / kKiB;
  while (unit < 3 && (value >= 1024 || value <= -1024)) {
    value /= 1024;
    ++unit;
  }
  char out[48];
  std::snprintf(out, sizeof out, "%.1f %s", value, names[unit]);
  return out;
}

}  // namespace orch
