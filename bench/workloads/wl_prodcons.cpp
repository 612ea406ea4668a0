// wl-prodcons: producer threads allocate and fill blocks, consumer threads
// verify and free them, connected by bounded queues. Every free is a remote
// free (a different thread from the one that allocated), the pattern of
// pipelines and message passing.
#include "workload.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

namespace {
constexpr const char* kName = "wl-prodcons";

struct Message {
  unsigned char* block;
  std::size_t size;
  std::uint64_t tag;
};

// A bounded queue of batches: producers block when it is full, so memory in
// flight stays bounded whatever the scheduling.
class BoundedQueue {
public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  void push(std::vector<Message>&& batch) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(batch));
    not_empty_.notify_one();
  }
  // Returns false once closed and drained.
  bool pop(std::vector<Message>& batch) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return false;
    batch = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

private:
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::vector<Message>> items_;
  std::size_t capacity_;
  bool closed_ = false;
};

constexpr std::size_t kBatch = 64;
}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::many,
                                 "producers allocate, consumers free, bounded queues between");
  const unsigned pairs = std::max(1u, options.threads / 2);
  const std::size_t per_producer = workload::scaled(options, 3'000'000 / pairs, kBatch);

  std::vector<BoundedQueue*> queues;
  for (unsigned i = 0; i < pairs; ++i) queues.push_back(new BoundedQueue(16));
  std::vector<std::uint64_t> consumed(pairs, 0);
  std::vector<std::size_t> counts(pairs, 0);
  std::vector<std::thread> threads;

  for (unsigned p = 0; p < pairs; ++p) {
    threads.emplace_back([&, p] {
      workload::Random random(1000 + p);
      std::vector<Message> batch;
      batch.reserve(kBatch);
      for (std::size_t i = 0; i < per_producer; ++i) {
        std::size_t size = random.between(16, 256);
        std::uint64_t tag = (std::uint64_t{p} << 40) | i;
        auto* block = static_cast<unsigned char*>(workload::checked_malloc(kName, size));
        std::memcpy(block, &tag, sizeof tag);
        block[size - 1] = workload::pattern_byte(tag, size - 1);
        batch.push_back({block, size, tag});
        if (batch.size() == kBatch) {
          queues[p]->push(std::move(batch));
          batch = {};
          batch.reserve(kBatch);
        }
      }
      if (!batch.empty()) queues[p]->push(std::move(batch));
      queues[p]->close();
    });
    threads.emplace_back([&, p] {
      std::vector<Message> batch;
      std::uint64_t sum = 0;
      std::size_t expected = 0;
      while (queues[p]->pop(batch)) {
        for (const Message& message : batch) {
          std::uint64_t stored;
          std::memcpy(&stored, message.block, sizeof stored);
          if (stored != message.tag) workload::fail(kName, "block head changed", message.tag);
          if ((message.tag & 0xffffffffffULL) != expected)
            workload::fail(kName, "message out of order", message.tag);
          if (message.block[message.size - 1] !=
              workload::pattern_byte(message.tag, message.size - 1))
            workload::fail(kName, "block tail changed", message.tag);
          sum += workload::mix(message.tag, message.size);
          ++expected;
          std::free(message.block);
        }
      }
      consumed[p] = sum;
      counts[p] = expected;
    });
  }
  for (auto& thread : threads) thread.join();

  std::uint64_t checksum = 0;
  for (unsigned p = 0; p < pairs; ++p) {
    if (counts[p] != per_producer) workload::fail(kName, "messages lost", counts[p]);
    checksum = workload::mix(checksum, consumed[p]);
    delete queues[p];
  }
  workload::print_checksum(checksum);
  return 0;
}
