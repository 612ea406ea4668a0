// The heap profile report; see report.hpp. Numbers are formatted by hand (no
// printf family), and sites are copied out of the table under its lock before
// symbolizing, so dladdr never runs with the profiler's lock held.
#include "profiling/report.hpp"

#include <cstdint>

#include "platform/number_text.hpp"
#include "platform/process_memory.hpp"
#include "profiling/symbolize.hpp"

namespace globalloc::profiling {
namespace {

// Text collected in a stack buffer, written out whenever it fills.
class Text {
 public:
  explicit Text(int fd) noexcept : fd_(fd) {}
  ~Text() { flush(); }
  Text(const Text&) = delete;
  Text& operator=(const Text&) = delete;

  Text& add(const char* text) noexcept {
    while (*text != '\0') put(*text++);
    return *this;
  }
  Text& add(std::uint64_t value) noexcept { return number(value, 10); }
  Text& hex(std::uint64_t value) noexcept { return add("0x").number(value, 16); }
  // "12.3 MiB": one decimal from KiB up.
  Text& size(std::uint64_t bytes) noexcept {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned unit = 0;
    std::uint64_t scale = 1;
    while (unit < 4 && bytes >= scale * 1024) {
      scale *= 1024;
      ++unit;
    }
    if (unit == 0) return add(bytes).add(" B");
    const std::uint64_t tenths = (bytes * 10 + scale / 2) / scale;
    return add(tenths / 10).add(".").add(tenths % 10).add(" ").add(units[unit]);
  }
  // "95.1%" of part in whole.
  Text& percent(std::uint64_t part, std::uint64_t whole) noexcept {
    if (whole == 0) return add("-");
    const std::uint64_t tenths = (part * 1000 + whole / 2) / whole;
    return add(tenths / 10).add(".").add(tenths % 10).add("%");
  }
  void flush() noexcept {
    platform::write_all(fd_, buffer_, length_);
    length_ = 0;
  }

 private:
  Text& number(std::uint64_t value, unsigned base) noexcept {
    char digits[platform::number_text_max];
    const unsigned count = platform::number_digits(value, base, digits);
    for (unsigned i = 0; i < count; ++i) put(digits[i]);
    return *this;
  }
  void put(char c) noexcept {
    if (length_ == sizeof buffer_) flush();
    buffer_[length_++] = c;
  }
  int fd_;
  std::size_t length_ = 0;
  char buffer_[2048];
};

void write_frame(Text& text, void* frame) noexcept {
  text.add("      ").hex(reinterpret_cast<std::uintptr_t>(frame));
  FrameDescription description{};
  if (!describe_frame(frame, &description)) {
    text.add(" ?\n");
    return;
  }
  if (description.symbol != nullptr) text.add(" ").add(description.symbol).add("+").hex(description.symbol_offset);
  text.add(" (").add(description.module != nullptr ? description.module : "?").add("+").hex(description.module_offset);
  text.add(")\n");
}

void write_ranking(Text& text, const SiteTable& table, SiteOrder order, unsigned top, const ProfileTotals& totals) {
  SiteSummary sites[max_ranked_sites];
  const unsigned count = table.top_sites(order, sites, top);
  const bool by_live = order == SiteOrder::live_bytes;
  text.add("top sites by ").add(by_live ? "live bytes" : "allocated bytes").add(" (").add(std::uint64_t{count});
  text.add(" of ").add(totals.sites).add(" sites):\n");
  for (unsigned i = 0; i < count; ++i) {
    const SiteFigures& figures = sites[i].figures;
    text.add("  #").add(std::uint64_t{i + 1u}).add(" live ").size(figures.live_bytes).add(" (");
    text.percent(figures.live_bytes, totals.figures.live_bytes).add(") in ~").add(figures.live_blocks);
    text.add(" blocks; allocated ").size(figures.allocated_bytes).add(" (");
    text.percent(figures.allocated_bytes, totals.figures.allocated_bytes).add(") in ~").add(figures.allocated_blocks);
    text.add(" blocks; ").add(figures.samples_total).add(" samples\n");
    // The allocator's own frames (its slow path, malloc, operator new) say
    // nothing about the program: the site starts at the allocation's caller.
    for (unsigned frame = allocator_frame_count(sites[i].frames, sites[i].depth); frame < sites[i].depth; ++frame) {
      write_frame(text, sites[i].frames[frame]);
    }
  }
}

}  // namespace

void write_profile_report(int fd, const SiteTable& table, const ReportSettings& settings) noexcept {
  const ProfileTotals totals = table.totals();
  unsigned top = settings.top_sites;
  if (top > max_ranked_sites) top = max_ranked_sites;
  Text text(fd);
  text.add("globalloc heap profile: ").add(totals.figures.samples_total).add(" samples, one per ");
  text.size(settings.mean_interval_bytes).add(" allocated on average; ").add(totals.sites).add(" sites; ");
  text.add(totals.samples_dropped).add(" samples dropped (tables full)");
  text.add(settings.running ? "\n" : "; sampling is stopped\n");
  text.add("  live now:              ").size(totals.figures.live_bytes).add(" in ~");
  text.add(totals.figures.live_blocks).add(" blocks\n");
  text.add("  allocated since start: ").size(totals.figures.allocated_bytes).add(" in ~");
  text.add(totals.figures.allocated_blocks).add(" blocks\n");
  write_ranking(text, table, SiteOrder::live_bytes, top, totals);
  write_ranking(text, table, SiteOrder::allocated_bytes, top, totals);
  text.add("end of globalloc heap profile\n");
}

void write_report_when_off(int fd) noexcept {
  Text text(fd);
  text.add("globalloc heap profile: profiling is off (GLOBALLOC_OPTIONS=prof=1 turns it on)\n");
}

}  // namespace globalloc::profiling
