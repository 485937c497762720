#include "output_file.hpp"

namespace p2plive::cli {

Result<std::shared_ptr<OutputFile>> OutputFile::open(const std::string& path) {
  if (path == "-") return std::make_shared<OutputFile>(stdout, false);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return Errc::output_open_failed;
  return std::make_shared<OutputFile>(file, true);
}

OutputFile::~OutputFile() {
  if (owned_) std::fclose(file_);
  else std::fflush(file_);
}

void OutputFile::write(std::span<const std::uint8_t> bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), file_);
  std::fflush(file_);
}

}  // namespace p2plive::cli
