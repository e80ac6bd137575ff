#include "host/guard/worker_events.h"

#include <unistd.h>

#include <cerrno>
#include <limits>
#include <nlohmann/json.hpp>

namespace orch {
namespace {

using nlohmann::json;

const char* kind_text(WorkerEvent::Kind kind) {
  switch (kind) {
    case WorkerEvent::Kind::kStarted:
      return "started";
    case WorkerEvent::Kind::kReady:
      return "ready";
    case WorkerEvent::Kind::kProgress:
      return "progress";
    case WorkerEvent::Kind::kEpoch:
      return "epoch";
    case WorkerEvent::Kind::kTrial:
      return "trial";
    case WorkerEvent::Kind::kFinished:
      return "finished";
    case WorkerEvent::Kind::kError:
      return "error";
    case WorkerEvent::Kind::kCheckpoint:
      return "checkpoint";
  }
  return "?";
}

}  // namespace

std::string encode_event(const WorkerEvent& event) {
  json out = {{"event", kind_text(event.kind)}};
  switch (event.kind) {
    case WorkerEvent::Kind::kStarted:
      out["pid"] = event.pid;
      out["backend"] = event.backend;
      out["train_size"] = event.train_size;
      break;
    case WorkerEvent::Kind::kProgress:
      out["epoch"] = event.epoch.epoch;
      out["epochs"] = event.epochs;
      out["step"] = event.epoch.steps;
      out["steps_per_epoch"] = event.steps_per_epoch;
      out["samples_per_s"] = event.epoch.samples_per_s;
      break;
    case WorkerEvent::Kind::kEpoch: {
      const auto& e = event.epoch;
      out["epoch"] = e.epoch;
      out["seconds"] = e.seconds;
      out["warmup_seconds"] = e.warmup_seconds;
      out["steps"] = e.steps;
      out["timed_samples"] = e.timed_samples;
      out["samples_per_s"] = e.samples_per_s;
      out["train_loss"] = e.train_loss;
      out["train_accuracy"] = e.train_accuracy;
      out["val_loss"] = e.val_loss;
      out["val_accuracy"] = e.val_accuracy;
      out["val_seconds"] = e.val_seconds;
      out["warmup_steps"] = e.warmup_steps;
      out["data_seconds"] = e.data_seconds;
      out["compute_seconds"] = e.compute_seconds;
      out["step_median_s"] = e.step_median_s;
      out["step_p95_s"] = e.step_p95_s;
      out["median_epoch_s"] = e.median_epoch_s;
      out["median_epoch_low_s"] = e.median_epoch_low_s;
      out["median_epoch_high_s"] = e.median_epoch_high_s;
      out["median_samples_per_s"] = e.median_samples_per_s;
      out["untimed_seconds"] = e.untimed_seconds;
      out["step_dispersion"] = e.step_dispersion;
      out["step_seconds"] = e.step_seconds;
      if (e.resumed) out["resumed"] = true;
      break;
    }
    case WorkerEvent::Kind::kTrial:
      out["steps"] = event.trial_steps;
      out["plateau_step"] = event.plateau_step;
      out["growth_bytes"] = event.growth_bytes;
      out["peak_rss_bytes"] = event.peak_rss_bytes;
      break;
    case WorkerEvent::Kind::kReady:
      break;
    case WorkerEvent::Kind::kFinished:
      out["peak_rss_bytes"] = event.peak_rss_bytes;
      break;
    case WorkerEvent::Kind::kCheckpoint:
      out["epoch"] = event.epoch.epoch;
      out["message"] = event.message;
      break;
    case WorkerEvent::Kind::kError:
      out["message"] = event.message;
      out["out_of_memory"] = event.out_of_memory;
      out["peak_rss_bytes"] = event.peak_rss_bytes;
      break;
  }
  // Invalid UTF-8 in a plugin's exception text must not throw here.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

// JSON has no NaN: an unmeasured value travels as null and comes back as NaN.
double measured(const nlohmann::json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || !it->is_number()) return std::numeric_limits<double>::quiet_NaN();
  return it->get<double>();
}

std::optional<WorkerEvent> decode_event(const std::string& line) {
  json in = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object() || !in.contains("event")) return std::nullopt;
  try {
    WorkerEvent event;
    std::string kind = in.at("event").get<std::string>();
    if (kind == "started") {
      event.kind = WorkerEvent::Kind::kStarted;
      event.pid = in.value("pid", 0);
      event.backend = in.value("backend", "");
      event.train_size = in.value("train_size", std::int64_t{0});
    } else if (kind == "ready") {
      event.kind = WorkerEvent::Kind::kReady;
    } else if (kind == "progress") {
      event.kind = WorkerEvent::Kind::kProgress;
      event.epoch.epoch = in.at("epoch").get<int>();
      event.epochs = in.value("epochs", std::int64_t{0});
      event.epoch.steps = in.value("step", std::int64_t{0});
      event.steps_per_epoch = in.value("steps_per_epoch", std::int64_t{0});
      event.epoch.samples_per_s = in.value("samples_per_s", 0.0);
    } else if (kind == "epoch") {
      event.kind = WorkerEvent::Kind::kEpoch;
      auto& e = event.epoch;
      e.epoch = in.at("epoch").get<int>();
      e.seconds = in.value("seconds", 0.0);
      e.warmup_seconds = in.value("warmup_seconds", 0.0);
      e.steps = in.value("steps", std::int64_t{0});
      e.timed_samples = in.value("timed_samples", std::int64_t{0});
      e.samples_per_s = in.value("samples_per_s", 0.0);
      e.train_loss = measured(in, "train_loss");
      e.train_accuracy = measured(in, "train_accuracy");
      e.val_loss = measured(in, "val_loss");
      e.val_accuracy = measured(in, "val_accuracy");
      e.val_seconds = measured(in, "val_seconds");
      e.warmup_steps = in.value("warmup_steps", std::int64_t{0});
      e.data_seconds = in.value("data_seconds", 0.0);
      e.compute_seconds = in.value("compute_seconds", 0.0);
      e.step_median_s = in.value("step_median_s", 0.0);
      e.step_p95_s = in.value("step_p95_s", 0.0);
      e.median_epoch_s = measured(in, "median_epoch_s");
      e.median_epoch_low_s = measured(in, "median_epoch_low_s");
      e.median_epoch_high_s = measured(in, "median_epoch_high_s");
      e.median_samples_per_s = measured(in, "median_samples_per_s");
      e.untimed_seconds = measured(in, "untimed_seconds");
      e.step_dispersion = measured(in, "step_dispersion");
      e.step_seconds = in.value("step_seconds", std::vector<double>{});
      e.resumed = in.value("resumed", false);
    } else if (kind == "trial") {
      event.kind = WorkerEvent::Kind::kTrial;
      event.trial_steps = in.value("steps", std::int64_t{0});
      event.plateau_step = in.value("plateau_step", std::int64_t{0});
      event.growth_bytes = in.value("growth_bytes", std::int64_t{0});
      event.peak_rss_bytes = in.value("peak_rss_bytes", std::int64_t{0});
    } else if (kind == "finished") {
      event.kind = WorkerEvent::Kind::kFinished;
      event.peak_rss_bytes = in.value("peak_rss_bytes", std::int64_t{0});
    } else if (kind == "checkpoint") {
      event.kind = WorkerEvent::Kind::kCheckpoint;
      event.epoch.epoch = in.at("epoch").get<int>();
      event.message = in.value("message", "");
    } else if (kind == "error") {
      event.kind = WorkerEvent::Kind::kError;
      event.message = in.value("message", "");
      event.out_of_memory = in.value("out_of_memory", false);
      event.peak_rss_bytes = in.value("peak_rss_bytes", std::int64_t{0});
    } else {
      return std::nullopt;
    }
    return event;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

void EventWriter::send(const WorkerEvent& event) {
  std::string line = encode_event(event) + "\n";
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t written = ::write(fd_, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // the host is gone; nothing left to tell
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
}

}  // namespace orch
