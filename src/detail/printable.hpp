#pragma once
// Private: text from a file, made safe to quote in a one-line error message.
#include <cstddef>
#include <string>

#include <fmt/format.h>

namespace anodiff::detail {

/// `text` as printable ASCII on one line: other bytes as \xNN, trailing blanks and newlines dropped, cut after
/// `limit` characters ("..." marks the cut). A hostile file can then neither split nor flood a message.
inline std::string printable(const std::string& text, std::size_t limit = 200) {
  std::size_t n = text.size();
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ')) --n;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (out.size() >= limit) return out + "...";
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && u < 0x7f) {
      out += text[i];
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

}  // namespace anodiff::detail
