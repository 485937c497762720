#include "output_file.hpp"

namespace p2plive::cli {

// Unbuffered: each chunk is one write(2), at once, so that a player on a pipe gets it live (and a buffered
// stream flushed after every chunk made three or four writes of one).
Result<std::shared_ptr<OutputFile>> OutputFile::open(const std::string& path) {
  std::FILE* file = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (!file) return Errc::output_open_failed;
  std::setvbuf(file, nullptr, _IONBF, 0);
  return std::make_shared<OutputFile>(file, file != stdout);
}

OutputFile::~OutputFile() {
  if (owned_) std::fclose(file_);
  else std::fflush(file_);
}

void OutputFile::write(std::span<const std::uint8_t> bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), file_);
}

}  // namespace p2plive::cli
