// libFuzzer: the track titles, from what DJ software writes to its file to what a viewer reads out of the
// MPEG-TS it plays: clean_title, id3_title and TsTitleReader. The first byte says where the TS bytes are
// split between feeds, as the network splits them. What comes out must be a clean title: valid UTF-8, no
// control characters, at most max_title_bytes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "media/id3.hpp"
#include "media/ts_titles.hpp"

using namespace p2plive;

namespace {

void check_clean(const std::string& title) {
  if (title.size() > max_title_bytes || clean_title(title) != title) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  const std::string cleaned =
      clean_title(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  check_clean(cleaned);
  if (auto title = id3_title(bytes)) check_clean(*title);
  // A tag we wrote must read back as the title it holds.
  if (id3_title(id3_title_tag(cleaned)) != cleaned && !cleaned.empty()) std::abort();

  TsTitleReader reader;
  const std::size_t step = 1 + data[0];
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    reader.feed(bytes.subspan(at, std::min(step, bytes.size() - at)));
    while (auto t = reader.poll_title()) check_clean(t->text);
  }
  (void)reader.has_video();
  return 0;
}
