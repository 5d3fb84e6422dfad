// The seeded generator of src/random.ts (Rng), value for value: xoshiro128** with its state seeded by four
// outputs of a splitmix-style counter hash, so a native kernel draws the stream the TypeScript one would.
#pragma once

#include <cstdint>

class ck_rng {
 public:
  explicit ck_rng(uint32_t seed) : counter_(seed) {
    for (uint32_t& s : s_) s = splitmix();
  }

  uint32_t next_u32() {
    const uint32_t result = rotl(s_[1] * 5u, 7) * 9u;
    const uint32_t t = s_[1] << 9;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 11);
    return result;
  }

 private:
  static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

  uint32_t splitmix() {
    counter_ += 0x9e3779b9u;
    uint32_t z = counter_;
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    return z ^ (z >> 16);
  }

  uint32_t counter_;
  uint32_t s_[4];
};
