// Per-sample generators and mode names.
#include "engine/data/sample.h"

namespace asn::data {

const char* mode_name(Mode m) { return m == Mode::kTrain ? "train" : "eval"; }

namespace {
// SplitMix64's finaliser: a bijective 64-bit mix.
uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t hash_combine64(uint64_t a, uint64_t b) { return mix64(mix64(a) ^ b); }

Generator sample_generator(uint64_t seed, uint64_t epoch, int64_t index) {
  return Generator(hash_combine64(hash_combine64(seed, epoch), static_cast<uint64_t>(index)), 0);
}

}  // namespace asn::data
