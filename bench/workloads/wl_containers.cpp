// wl-containers: what ordinary C++ code asks of an allocator. std::map of
// strings, std::unordered_map with string values, shared_ptr graphs, and
// sorting a vector of strings; strings are long enough to live on the heap.
#include "workload.hpp"

#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace {
constexpr const char* kName = "wl-containers";

std::string random_string(workload::Random& random) {
  // 20..80 characters: beyond the small-string buffer, so each one allocates.
  std::string text(random.between(20, 80), 'a');
  for (char& c : text) c = static_cast<char>('a' + random.next() % 26);
  return text;
}

std::uint64_t hash_string(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

std::uint64_t ordered_map_round(workload::Random& random, std::size_t count) {
  std::map<std::string, std::uint64_t> words;
  for (std::size_t i = 0; i < count; ++i) words[random_string(random)] += i;
  // Erase every other entry, then walk what is left in order.
  bool erase = false;
  for (auto it = words.begin(); it != words.end();) {
    it = erase ? words.erase(it) : std::next(it);
    erase = !erase;
  }
  std::uint64_t sum = 0;
  for (const auto& [key, value] : words) sum = workload::mix(sum, hash_string(key) + value);
  return sum;
}

std::uint64_t hash_map_round(workload::Random& random, std::size_t count) {
  std::unordered_map<std::uint64_t, std::string> table;
  for (std::size_t i = 0; i < count; ++i) table[random.next() % (count * 2)] = random_string(random);
  for (std::size_t i = 0; i < count / 2; ++i) table.erase(random.next() % (count * 2));
  // Unordered iteration order is fixed for one library, but combine with a
  // commutative sum anyway so only contents matter.
  std::uint64_t sum = 0;
  for (const auto& [key, value] : table) sum += workload::mix(key, hash_string(value));
  return sum;
}

struct Node {
  std::uint64_t value;
  std::shared_ptr<Node> next;
  std::vector<std::shared_ptr<Node>> children;
};

std::uint64_t shared_pointer_round(workload::Random& random, std::size_t count) {
  std::vector<std::shared_ptr<Node>> roots;
  std::shared_ptr<Node> previous;
  for (std::size_t i = 0; i < count; ++i) {
    auto node = std::make_shared<Node>();
    node->value = random.next() & 0xffff;
    // Each neighbouring pair gets at most one edge, backwards (next) or
    // forwards (children), so no cycle forms and every chain stays short.
    if ((i % 3) == 0)
      node->next = previous;
    else if (previous && (i % 7) != 0)
      previous->children.push_back(node);
    if ((i % 50) == 0) roots.push_back(node);
    previous = node;
  }
  previous.reset();
  std::uint64_t sum = 0;
  for (const auto& root : roots) {
    sum = workload::mix(sum, root->value + root->children.size());
    for (const auto& child : root->children) sum += child->value;
  }
  return sum;
}

std::uint64_t sort_round(workload::Random& random, std::size_t count) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < count; ++i) lines.push_back(random_string(random));
  std::sort(lines.begin(), lines.end());
  for (std::size_t i = 1; i < lines.size(); ++i)
    if (lines[i - 1] > lines[i]) workload::fail(kName, "sort order wrong", i);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < lines.size(); i += 97) sum = workload::mix(sum, hash_string(lines[i]));
  return sum;
}
}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::one,
                                 "maps of strings, unordered_map, shared_ptr, sorting strings");
  const std::size_t rounds = workload::scaled(options, 12, 1);
  const std::size_t count = 40'000;
  workload::Random random(7);
  std::uint64_t checksum = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    checksum = workload::mix(checksum, ordered_map_round(random, count));
    checksum = workload::mix(checksum, hash_map_round(random, count));
    checksum = workload::mix(checksum, shared_pointer_round(random, count));
    checksum = workload::mix(checksum, sort_round(random, count));
  }
  workload::print_checksum(checksum);
  return 0;
}
