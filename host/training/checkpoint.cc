#include "host/training/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "host/run/checkpoint_files.h"

namespace orch::training {
namespace {

at::Tensor generator_state(at::Generator& generator) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(at::Generator& generator, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

std::int64_t read_int(torch::serialize::InputArchive& archive, const char* key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

// `bytes` to `path` through `path`.partial: written, synced, renamed, and the folder synced,
// so that after a crash the file is either the old one, absent, or whole.
void write_atomically(const std::string& path, const std::string& bytes) {
  const std::string partial = path + ".partial";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + partial + ": " + std::strerror(errno));
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(partial.c_str());
      throw std::runtime_error("cannot write " + partial + ": " + why);
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(partial.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(partial.c_str());
    throw std::runtime_error("cannot store " + path + ": " + why);
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // the rename itself survives a power cut
    ::close(dir_fd);
  }
}

}  // namespace

Checkpointer::Checkpointer(const TrainOptions& options, std::string prefix, std::string resume_from,
                           Notify notify, std::vector<int> at_epochs)
    : options_(options),
      prefix_(std::move(prefix)),
      resume_from_(std::move(resume_from)),
      notify_(std::move(notify)),
      at_epochs_(std::move(at_epochs)),
      last_saved_(Clock::now()) {}

LoopState Checkpointer::resume(Model& model, Stepper& stepper, at::Generator& shuffle) {
  LoopState state;
  if (resume_from_.empty()) return state;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(resume_from_);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.module().load(model_archive);
    if (stepper.optimizer() != nullptr) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      stepper.optimizer()->load(optimizer_archive);
    }
    stepper.resume_at(read_int(archive, "optimizer_steps"));
    state.epochs_done = read_int(archive, "epochs_done");
    state.batches = read_int(archive, "batches");
    at::Tensor shuffle_state;
    archive.read("shuffle_generator", shuffle_state);
    set_generator_state(shuffle, shuffle_state);
    at::Tensor global_state;
    archive.read("cpu_generator", global_state);
    auto global = at::detail::getDefaultCPUGenerator();
    set_generator_state(global, global_state);
  } catch (const std::exception& e) {
    const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
    throw std::runtime_error("cannot resume from the checkpoint " + resume_from_ + ": " +
                             (torch_error ? torch_error->what_without_backtrace() : e.what()) +
                             "; remove it to train from the start");
  }
  last_saved_ = Clock::now();
  return state;
}

bool Checkpointer::due(const LoopState& state) const {
  if (prefix_.empty() || options_.inference) return false;
  // After the last epoch a checkpoint only serves one that is kept.
  if (state.epochs_done >= options_.epochs && !options_.keep_checkpoints) return false;
  if (std::find(at_epochs_.begin(), at_epochs_.end(), state.epochs_done) != at_epochs_.end()) {
    return true;
  }
  if (options_.checkpoint_minutes < 0) return false;
  const double minutes = seconds_between(last_saved_, Clock::now()) / 60;
  return minutes >= options_.checkpoint_minutes;
}

void Checkpointer::after_epoch(const LoopState& state, Model& model, Stepper& stepper,
                               at::Generator& shuffle) {
  if (!due(state)) return;
  try {
    save(state, model, stepper, shuffle);
  } catch (const std::exception& e) {
    const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
    notify_(state.epochs_done, torch_error ? torch_error->what_without_backtrace() : e.what());
  }
}

void Checkpointer::save(const LoopState& state, Model& model, Stepper& stepper,
                        at::Generator& shuffle) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.module().save(model_archive);
  archive.write("model", model_archive);
  if (stepper.optimizer() != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    stepper.optimizer()->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  archive.write("optimizer_steps", c10::IValue(stepper.steps_done()));
  archive.write("epochs_done", c10::IValue(state.epochs_done));
  archive.write("batches", c10::IValue(state.batches));
  archive.write("shuffle_generator", generator_state(shuffle));
  auto global = at::detail::getDefaultCPUGenerator();
  archive.write("cpu_generator", generator_state(global));
  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string data = bytes.str();

  // The budget is checked before anything is written.
  const std::string dir = std::filesystem::path(prefix_).parent_path().string();
  const std::string why_not =
      checkpoint_does_not_fit(options_, dir, static_cast<std::int64_t>(data.size()));
  if (!why_not.empty()) {
    notify_(state.epochs_done, why_not);
    return;
  }
  const std::string path = checkpoint_path(prefix_, state.epochs_done);
  write_atomically(path, data);
  remove_checkpoints(prefix_, path);  // the older ones, only once the new one is whole
  last_saved_ = Clock::now();
  notify_(state.epochs_done, "");
}

}  // namespace orch::training
