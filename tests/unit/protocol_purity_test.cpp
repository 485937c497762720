// The sans-IO rule, checked: the protocol folder and its layers include no socket, asio, clock or thread header.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#ifndef PROTOCOL_DIR
#error "PROTOCOL_DIR must name core/src/protocol"
#endif

TEST(ProtocolPurity, NoIoClockOrThreadHeadersInTheProtocol) {
  const std::regex forbidden(
      R"(#\s*include\s*[<"](asio[^>"]*|sys/socket\.h|netinet/[^>"]*|arpa/[^>"]*|thread|mutex|future|ctime|time\.h|sys/time\.h|unistd\.h)[>"])");
  const std::regex clock_use(R"((steady_clock|system_clock|high_resolution_clock)::now)");
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(PROTOCOL_DIR)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      EXPECT_FALSE(std::regex_search(line, forbidden)) << entry.path() << ":" << n << ": " << line;
      EXPECT_FALSE(std::regex_search(line, clock_use)) << entry.path() << ":" << n << ": " << line;
    }
    ++files;
  }
  EXPECT_GE(files, 6);
}
