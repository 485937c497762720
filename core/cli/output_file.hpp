// Where a command writes an MPEG-TS stream: a file, or standard output for "-".
#pragma once

#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "p2plive/error.hpp"

namespace p2plive::cli {

class OutputFile {
 public:
  static Result<std::shared_ptr<OutputFile>> open(const std::string& path);
  ~OutputFile();
  // Written through at once, so a player reading the file follows live.
  void write(std::span<const std::uint8_t> bytes);

  explicit OutputFile(std::FILE* file, bool owned) : file_(file), owned_(owned) {}

 private:
  std::FILE* file_;
  bool owned_;
};

}  // namespace p2plive::cli
