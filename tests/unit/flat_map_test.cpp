// core/flat_map.h: FlatMap against std::unordered_map on random operations
// (exact keys, with erase and clear, across many rehashes), and string tables
// whose keys collide on purpose (find_if tells the entries apart).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tfm/core/flat_map.h"

using namespace tfm;

TEST_CASE("FlatMap agrees with std::unordered_map under inserts, erases and clears") {
  std::mt19937_64 rng(7);
  FlatMap<std::uint32_t> map(4);
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

TEST_CASE("FlatMap string tables tell entries of one key apart by their value") {
  std::vector<std::string> words;
  FlatMap<std::uint32_t, std::uint32_t> ids(2);
  // Key by a 3-bit hash: most words share a key with others.
  const auto key = [](const std::string& word) { return string_key<std::uint32_t>(word) & 7u; };
  const auto find = [&](const std::string& word) {
    return ids.find_if(key(word), [&](std::uint32_t id) { return words[id] == word; });
  };
  for (int i = 0; i < 300; ++i) {
    const std::string word = "w" + std::to_string(i * 7919 % 200);
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

TEST_CASE("string_key is hash_string, never the empty-slot key") {
  CHECK(string_key("tfm") == hash_string("tfm"));
  CHECK(string_key<std::uint32_t>("tfm") == std::uint32_t(hash_string("tfm")));
}
