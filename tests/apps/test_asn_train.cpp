// asn-train end to end through the binary: SIGINT writes a checkpoint and exits 75, --resume
// finishes the run; eval of the checkpoint; predict on a real video file; check-data reporting a
// broken video; a corrupted checkpoint is a clear error.
#include <catch2/catch.hpp>

#include <algorithm>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/process.h"

namespace fs = std::filesystem;

namespace {

std::string tool() { return std::string(ASN_BINARY_DIR) + "/apps/asn-train/asn-train"; }

std::pair<int, std::string> run(const std::string& cmd) { return asn::test::run_command(cmd); }

// Small synthetic run: 64 training clips of 4x16x16, batch 8 -> 8 steps per epoch.
std::string small_args(const std::string& dir, int epochs) {
  return " train.device=\"cpu\" train.threads=2 train.log_every=1 loader.batch_size=8"
         " data.synthetic.num_train=64 data.synthetic.num_val=16 data.synthetic.video_frames=8"
         " data.synthetic.height=16 data.synthetic.width=16"
         " data.clip.num_frames=4 data.clip.height=16 data.clip.width=16"
         " lr_schedule.warmup_steps=2 train.epochs=" + std::to_string(epochs) + " output_dir=" + dir;
}

}  // namespace

TEST_CASE("asn-train: SIGINT checkpoints and exits 75; --resume finishes", "[apps][train]") {
  const std::string dir = "/tmp/asn_sigint_run";
  fs::remove_all(dir);
  // Run the tool itself (no shell in between, so the signal reaches it), output to a log file.
  std::vector<std::string> args{tool(), "train"};
  {
    std::istringstream words(small_args(dir, 40));
    for (std::string w; words >> w;) args.push_back(w);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open("/tmp/asn_sigint_run.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Wait for the first logged step, then interrupt.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream m(dir + "/metrics.jsonl");
    std::string line;
    started = static_cast<bool>(std::getline(m, line));
  }
  REQUIRE(started);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream log("/tmp/asn_sigint_run.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  INFO(text);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 75);
  REQUIRE_THAT(text, Catch::Contains("stopped after step") && Catch::Contains("--resume"));
  bool have_ckpt = false;
  int64_t stopped_step = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ckpt-", 0) != 0) continue;
    have_ckpt = true;
    stopped_step = std::max<int64_t>(stopped_step, std::stoll(name.substr(5, 8)));
  }
  REQUIRE(have_ckpt);

  // Resume with fewer epochs so it finishes quickly: the config comes from the checkpoint, the
  // override shortens it to the end of the epoch the signal interrupted (8 steps per epoch; how
  // far the run got before the signal depends on the machine's speed).
  const int64_t epochs = stopped_step / 8 + 1;
  auto [rc, out] = run(tool() + " train --resume " + dir + " train.epochs=" + std::to_string(epochs));
  INFO(out);
  REQUIRE(rc == 0);
  REQUIRE_THAT(out, Catch::Contains("done:") && Catch::Contains("validation"));

  // eval of the best checkpoint.
  auto [erc, eout] = run(tool() + " eval " + dir + "/best.safetensors");
  INFO(eout);
  REQUIRE(erc == 0);
  REQUIRE_THAT(eout, Catch::Contains("top-1") && Catch::Contains("16 items"));

  // A truncated checkpoint is a clear error naming the file.
  fs::copy_file(dir + "/best.safetensors", dir + "/broken.safetensors");
  fs::resize_file(dir + "/broken.safetensors", fs::file_size(dir + "/broken.safetensors") / 2);
  auto [brc, bout] = run(tool() + " eval " + dir + "/broken.safetensors");
  REQUIRE(brc == 2);
  REQUIRE_THAT(bout, Catch::Contains("broken.safetensors") && Catch::Contains("truncated"));
  fs::remove_all(dir);
}

TEST_CASE("asn-train: predict on a video file and check-data on a broken list",
          "[apps][train][ffmpeg]") {
  const std::string dir = "/tmp/asn_predict_run";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto [trc, tout] = run(tool() + " train" + small_args(dir, 1));
  INFO(tout);
  REQUIRE(trc == 0);
  // A real encoded video: 12 frames of a moving test pattern.
  auto [frc, fout] = run("ffmpeg -loglevel error -y -f lavfi -i testsrc=size=32x32:rate=10 -frames:v 12 -c:v ffv1 " + dir +
                         "/clip.mkv");
  REQUIRE(frc == 0);
  std::ofstream(dir + "/names.txt") << "right\nleft\ndown\nup\n";
  auto [prc, pout] = run(tool() + " predict " + dir + "/best.safetensors " + dir + "/clip.mkv --top 3 --class-names " +
                         dir + "/names.txt");
  INFO(pout);
  REQUIRE(prc == 0);
  REQUIRE_THAT(pout, Catch::Contains("clip.mkv") && Catch::Contains(" 1. ") && Catch::Contains(" 3. "));
  // check-data: a list with one good and one garbage video.
  std::ofstream(dir + "/bad.mp4") << "this is not a video";
  std::ofstream(dir + "/train.txt") << dir << "/clip.mkv 0\n" << dir << "/bad.mp4 1\n";
  auto [crc, cout] = run(tool() + " check-data data='{\"type\": \"list\", \"train\": \"" + dir +
                         "/train.txt\", \"num_classes\": 2, \"clip\": {\"num_frames\": 4, \"height\": 16, \"width\": 16}}'");
  INFO(cout);
  REQUIRE(crc == 1);
  REQUIRE_THAT(cout, Catch::Contains("bad.mp4"));
  fs::remove_all(dir);
}

TEST_CASE("asn-train: eval uses a checkpoint's weight average unless --no-ema", "[apps][train]") {
  const std::string dir = "/tmp/asn_train_ema";
  fs::remove_all(dir);
  auto [trc, tout] = run(tool() + " train" + small_args(dir, 1) + " train.ema_decay=0.9 train.ema_dynamic_decay=false");
  INFO(tout);
  REQUIRE(trc == 0);
  auto [erc, eout] = run(tool() + " eval " + dir + "/best.safetensors");
  INFO(eout);
  REQUIRE(erc == 0);
  REQUIRE_THAT(eout, Catch::Contains("evaluating the moving average of the weights") && Catch::Contains("16 items"));
  auto [rrc, rout] = run(tool() + " eval " + dir + "/best.safetensors --no-ema");
  INFO(rout);
  REQUIRE(rrc == 0);
  REQUIRE_THAT(rout, !Catch::Contains("moving average") && Catch::Contains("16 items"));
  fs::remove_all(dir);
}
