// Run logging (see run_log.h).
#include "apps/trainer/run_log.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "engine/error.h"
#include "engine/log.h"

namespace asn::train {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

RunLog::RunLog(const std::string& dir, bool append) {
  const std::string path = dir + "/metrics.jsonl";
  jsonl_ = std::fopen(path.c_str(), append ? "a" : "w");
  if (!jsonl_) ASN_THROW(IoError, "cannot open '{}': {}", path, std::strerror(errno));
  std::filesystem::create_directories(dir + "/tensorboard");
  tb_ = std::make_unique<io::TensorBoardWriter>(dir + "/tensorboard");
  tty_ = ::isatty(STDERR_FILENO) != 0;
}

RunLog::~RunLog() {
  end_progress();
  if (jsonl_) std::fclose(jsonl_);
}

void RunLog::record(const std::string& prefix, int64_t step, const nlohmann::json& fields) {
  nlohmann::json line = fields;
  line["kind"] = prefix;
  line["step"] = step;
  const std::string s = line.dump();
  std::fprintf(jsonl_, "%s\n", s.c_str());
  std::fflush(jsonl_);
  for (auto it = fields.begin(); it != fields.end(); ++it)
    if (it.value().is_number()) tb_->add_scalar(prefix + "/" + it.key(), it.value().get<double>(), step);
  tb_->flush();
}

void RunLog::progress(int64_t step, int64_t total, int64_t epoch, double loss, double lr, double cps, double wait,
                      double eta) {
  const double frac = total > 0 ? static_cast<double>(step) / static_cast<double>(total) : 0;
  const int width = 24;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  const std::string text =
      fmt::format("[{}] {}/{} ep {} | loss {:.4f} | lr {:.3g} | {:.1f} clips/s | data wait {:.0f}% | ETA {}", bar, step,
                  total, epoch, loss, lr, cps, 100 * wait, format_duration(eta));
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
    std::fflush(stderr);
    line_open_ = true;
  } else {
    ASN_LOG_INFO("{}", text);
  }
}

void RunLog::end_progress() {
  if (line_open_) {
    std::fprintf(stderr, "\n");
    line_open_ = false;
  }
}

void RunLog::flush() {
  std::fflush(jsonl_);
  tb_->flush();
}

}  // namespace asn::train
