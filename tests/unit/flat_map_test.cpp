// core/flat_map.h: FlatMap against std::unordered_map on random operations
// (exact keys, with erase and clear, across many rehashes), clear() followed
// by reuse over many rounds (plain slots, and stamped slots whose 8-bit
// stamp wraps), and string tables whose keys collide on purpose (find_if
// tells the entries apart).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tfm/core/flat_map.h"

using namespace tfm;

using PlainMap = FlatMap<std::uint32_t>;
using StampedMap = FlatMap<std::uint32_t, std::uint64_t, std::uint32_t>;
using ByteStampedMap = FlatMap<std::uint32_t, std::uint64_t, std::uint8_t>;  // wraps every 255 clears

TEST_CASE_TEMPLATE("FlatMap agrees with std::unordered_map under inserts, erases and clears", Map,
                   PlainMap, StampedMap, ByteStampedMap) {
  std::mt19937_64 rng(7);
  Map map(4);
  std::unordered_map<std::uint64_t, std::uint32_t> want;
  for (int op = 0; op < 200000; ++op) {
    // Few distinct keys, so inserts meet present keys and erases find some;
    // one key in eight with its low bits equal, for long probe runs.
    std::uint64_t key = rng() % 5000;
    if (key % 8 == 0) key <<= 40;
    const auto choice = rng() % 100;
    if (choice < 60) {
      bool added;
      std::uint32_t& value = map.get(key, std::uint32_t(op), added);
      CHECK(added == (want.count(key) == 0));
      if (added) want[key] = std::uint32_t(op);
      CHECK(value == want[key]);
    } else if (choice < 95) {
      map.erase(key);
      want.erase(key);
    } else if (choice == 99 && op % 7 == 0) {
      map.clear();
      want.clear();
    }
    const std::uint32_t* found = map.find(key);
    REQUIRE((found != nullptr) == (want.count(key) != 0));
    if (found) CHECK(*found == want[key]);
    REQUIRE(map.size() == want.size());
  }
  for (const auto& [key, value] : want) {
    REQUIRE(map.find(key) != nullptr);
    CHECK(*map.find(key) == value);
  }
}

// Keys of every round come from one small range, so a round's keys sit in
// slots that earlier rounds wrote with other values; a slot that survived a
// clear would show as a key found or a value of another round.
TEST_CASE_TEMPLATE("FlatMap after clear() is a fresh map, round after round", Map,
                   PlainMap, StampedMap, ByteStampedMap) {
  constexpr std::uint64_t kKeys = 1201;
  const auto key_of = [](std::uint64_t k) { return k % 5 == 0 ? k << 40 : k; };  // some share low bits
  std::mt19937_64 rng(11);
  Map map(2);
  for (std::uint32_t round = 0; round < 600; ++round) {  // the 8-bit stamp wraps twice
    // Round 0 fills many slots (under the first stamp) that later small
    // rounds leave alone; every 97th round is larger than the last, and some
    // grow the table, stale slots and all.
    const std::size_t entries = round == 0 ? 600 : round % 97 == 0 ? 400 + 2 * round : rng() % 67;
    std::unordered_map<std::uint64_t, std::uint32_t> want;
    for (std::size_t e = 0; e < entries; ++e) {
      const std::uint64_t key = key_of(rng() % kKeys);
      const std::uint32_t value = round * 10000 + std::uint32_t(e);
      bool added;
      const std::uint32_t got = map.get(key, value, added);
      REQUIRE(added == (want.count(key) == 0));
      if (added) want[key] = value;
      REQUIRE(got == want[key]);
      if (e % 9 == 4) {
        map.erase(key);
        want.erase(key);
      }
    }
    REQUIRE(map.size() == want.size());
    for (std::uint64_t k = 0; k < kKeys; ++k) {
      const std::uint32_t* found = map.find(key_of(k));
      const auto it = want.find(key_of(k));
      REQUIRE((found != nullptr) == (it != want.end()));
      if (found) REQUIRE(*found == it->second);
    }
    map.clear();
    REQUIRE(map.size() == 0);
    for (std::uint64_t k = 0; k < kKeys; ++k) REQUIRE(map.find(key_of(k)) == nullptr);
  }
}

TEST_CASE_TEMPLATE("FlatMap string tables tell entries of one key apart by their value", Map,
                   FlatMap<std::uint32_t, std::uint32_t>, FlatMap<std::uint32_t, std::uint32_t, std::uint8_t>) {
  std::vector<std::string> words;
  Map ids(2);
  // Key by a 3-bit hash: most words share a key with others.
  const auto key = [](const std::string& word) { return string_key<std::uint32_t>(word) & 7u; };
  const auto find = [&](const std::string& word) {
    return ids.find_if(key(word), [&](std::uint32_t id) { return words[id] == word; });
  };
  // Two rounds: the second fills the slots the first left behind its clear.
  for (int round = 0; round < 2; ++round) {
    words.clear();
    for (int i = 0; i < 300; ++i) {
      const std::string word = "w" + std::to_string((i + round) * 7919 % 200);
      if (find(word)) continue;
      ids.insert(key(word), std::uint32_t(words.size()));
      words.push_back(word);
    }
    CHECK(words.size() == 200);
    CHECK(ids.size() == words.size());
    for (std::size_t id = 0; id < words.size(); ++id) {
      const std::uint32_t* found = find(words[id]);
      REQUIRE(found != nullptr);
      CHECK(*found == id);
    }
    CHECK(find("absent") == nullptr);
    ids.clear();
    CHECK(ids.size() == 0);
    CHECK(find(words[0]) == nullptr);
  }
}

TEST_CASE("string_key is hash_string, never the empty-slot key") {
  CHECK(string_key("tfm") == hash_string("tfm"));
  CHECK(string_key<std::uint32_t>("tfm") == std::uint32_t(hash_string("tfm")));
}
