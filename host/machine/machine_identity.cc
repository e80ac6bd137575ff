#include "host/machine/machine_identity.h"

#include <torch/version.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/base/user_error.h"
#include "host/machine/blas_library.h"
#include "host/machine/machine.h"
#include "host/machine/machine_facts.h"
#include "host/run/run_key.h"

namespace orch {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

// Rounded, so that the few MiB the kernel reserves differently after an update do not
// make another machine.
std::int64_t whole_gib(std::int64_t bytes) {
  return static_cast<std::int64_t>(std::llround(static_cast<double>(bytes) / kGiB));
}

// "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz" -> "Intel Xeon Gold 6248".
std::string short_cpu_model(std::string model) {
  for (const char* noise : {"(R)", "(r)", "(TM)", "(tm)", " CPU", " Processor"}) {
    for (auto at = model.find(noise); at != std::string::npos; at = model.find(noise)) {
      model.erase(at, std::string(noise).size());
    }
  }
  if (auto at = model.find(" @"); at != std::string::npos) model.erase(at);
  std::istringstream words(model);
  std::string word, text;
  while (words >> word) text += (text.empty() ? "" : " ") + word;
  return text.empty() ? "unknown CPU" : text;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> nvidia_information_texts() {
  std::vector<std::string> texts;
  std::error_code error;
  for (const auto& gpu : std::filesystem::directory_iterator("/proc/driver/nvidia/gpus", error)) {
    texts.push_back(slurp(gpu.path() / "information"));
  }
  return texts;
}

// The key schema 11's migration gave this host's older rows: adopted by this machine.
std::string recorded_key() {
  const nlohmann::json host = describe_machine();
  auto text = [&](const char* key) {
    const auto& value = host.value(key, nlohmann::json());
    return value.is_string() ? value.get<std::string>() : value.is_null() ? "" : value.dump();
  };
  return "recorded:" + text("hostname") + "/" + text("cpu") + "/" + text("cores") + "/" +
         text("memory_bytes");
}

}  // namespace

SpeedFacts read_speed_facts() {
  const MachineFacts machine = read_machine_facts();
  SpeedFacts facts;
  facts.cpu_model = cpu_model();
  int cores = static_cast<int>(machine.usable_cpus.size());
  if (cores == 0) cores = static_cast<int>(machine.hardware_threads);
  if (machine.cpu_quota_cores) {
    cores = std::min(cores, std::max(1, static_cast<int>(std::ceil(*machine.cpu_quota_cores))));
  }
  facts.cores = cores;
  facts.memory_bytes =
      static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE);
  facts.accelerator = describe_gpu_models(nvidia_information_texts());
  facts.torch = TORCH_VERSION;
  facts.blas = blas_kind_id(machine.blas.kind);
  return facts;
}

std::string describe_gpu_models(const std::vector<std::string>& information_texts) {
  std::map<std::string, int> counts;
  for (const auto& text : information_texts) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("Model:", 0) != 0) continue;
      std::istringstream words(line.substr(6));
      std::string word, model;
      while (words >> word) model += (model.empty() ? "" : " ") + word;
      if (!model.empty()) ++counts[model];
    }
  }
  std::string text;
  for (const auto& [model, count] : counts) {
    text += (text.empty() ? "" : ", ") + model + (count > 1 ? " x" + std::to_string(count) : "");
  }
  return text;
}

std::string machine_fingerprint(const SpeedFacts& facts) {
  // One "key=value" line per fact, in a fixed order: the hash of equal facts never changes.
  const std::string canonical = "cpu=" + facts.cpu_model +
                                "\ncores=" + std::to_string(facts.cores) +
                                "\nmemory_gib=" + std::to_string(whole_gib(facts.memory_bytes)) +
                                "\naccelerator=" + facts.accelerator + "\ntorch=" + facts.torch +
                                "\nblas=" + facts.blas + "\n";
  return stable_hash(canonical).substr(0, 12);
}

std::string default_machine_name(const SpeedFacts& facts) {
  return short_cpu_model(facts.cpu_model) + ", " + std::to_string(facts.cores) +
         (facts.cores == 1 ? " core, " : " cores, ") +
         std::to_string(whole_gib(facts.memory_bytes)) + " GiB" +
         (facts.accelerator.empty() ? "" : ", " + facts.accelerator);
}

std::string speed_facts_json(const SpeedFacts& facts) {
  return nlohmann::json{{"cpu", facts.cpu_model},
                        {"cores", facts.cores},
                        {"memory_gib", whole_gib(facts.memory_bytes)},
                        {"accelerator", facts.accelerator},
                        {"torch", facts.torch},
                        {"blas", facts.blas}}
      .dump();
}

storage::MachineRecord this_machine(const std::string& name) {
  const bool named = !name.empty();
  if (named && name.find_first_not_of(" \t") == std::string::npos) {
    throw UserError("--machine: the name is blank; give a name such as --machine laptop");
  }
  if (name.size() > 64) {
    throw UserError("--machine: the name '" + name.substr(0, 64) +
                    "...' is longer than 64 characters; a report prints it as a column heading");
  }
  const SpeedFacts facts = read_speed_facts();
  storage::MachineRecord record;
  record.fingerprint = machine_fingerprint(facts);
  record.name = named ? name : default_machine_name(facts);
  record.facts_json = speed_facts_json(facts);
  record.recorded_key = recorded_key();
  record.named_by_user = named;
  return record;
}

}  // namespace orch
