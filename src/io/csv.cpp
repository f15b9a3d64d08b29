#include "anodiff/io/csv.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "detail/npy.hpp"
#include "detail/printable.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

bool has_content(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return !ec && size > 0;
}

}  // namespace

CsvWriter::CsvWriter(const fs::path& path, const std::string& header, Mode mode) : path_(path), mode_(mode) {
  if (mode_ == Mode::append && !has_content(path)) mode_ = Mode::create;
  if (mode_ == Mode::durable) {
    text_ = header + '\n';
    return;
  }
  out_.open(path, mode_ == Mode::append ? std::ios::out | std::ios::app : std::ios::out | std::ios::trunc);
  if (!out_) {
    throw IoError(fmt::format("{}: cannot {} the file", path.string(), mode_ == Mode::append ? "open" : "create"));
  }
  if (mode_ == Mode::create) out_ << header << '\n';
  check();
}

void CsvWriter::raw(const std::string& line) {
  if (mode_ == Mode::durable) {
    text_ += line;
    text_ += '\n';
    return;
  }
  out_ << line << '\n';
  check();
}

void CsvWriter::flush() {
  if (mode_ == Mode::durable) {
    detail::write_file_durably(path_, text_, nullptr, 0);
    return;
  }
  out_.flush();
  check();
}

void CsvWriter::check() const {
  if (!out_) {
    const int err = errno;  // as the failed write() left it (ENOSPC, EFBIG, EIO)
    throw IoError(fmt::format("{}: write failed: {}", path_.string(), err != 0 ? std::strerror(err) : "is the disk full?"));
  }
}

namespace {
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while (true) {
    const auto comma = line.find(',', pos);
    fields.push_back(line.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) return fields;
    pos = comma + 1;
  }
}
}  // namespace

CsvTable CsvTable::read(const fs::path& path, bool complete_lines_only) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open: expected a CSV file", path.string()));
  CsvTable t;
  t.path_ = path;
  std::string line;
  std::size_t line_no = 0;
  auto next = [&]() {
    if (!std::getline(in, line)) return false;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    return true;
  };
  if (!next() || line.empty()) {
    throw InputError(fmt::format("{}: expected a header line of column names, found an empty file", path.string()));
  }
  t.names_ = split_fields(line);
  while (next()) {
    if (line.empty()) continue;
    if (complete_lines_only && in.eof()) break;  // no newline: the line was being written
    auto fields = split_fields(line);
    if (fields.size() != t.names_.size()) {
      throw InputError(fmt::format("{}:{}: expected {} fields, found {}", path.string(), line_no, t.names_.size(),
                                   fields.size()));
    }
    t.rows_.push_back(std::move(fields));
    t.line_.push_back(line_no);
  }
  return t;
}

bool CsvTable::has(const std::string& name) const {
  for (const auto& n : names_) {
    if (n == name) return true;
  }
  return false;
}

std::size_t CsvTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return i;
  }
  std::string found;
  for (std::size_t i = 0; i < names_.size(); ++i) found += (i ? "," : "") + names_[i];
  throw InputError(fmt::format("{}: expected a column '{}', found the columns {}", path_.string(), name,
                               detail::printable(found)));
}

const std::string& CsvTable::text(std::size_t row, const std::string& name) const {
  return rows_.at(row)[column(name)];
}

double CsvTable::number(std::size_t row, const std::string& name) const {
  const std::string& field = text(row, name);
  if (field.empty()) return std::numeric_limits<double>::quiet_NaN();
  char* end = nullptr;
  const double v = std::strtod(field.c_str(), &end);
  if (end == field.c_str() || *end != '\0') {
    throw InputError(fmt::format("{}:{}: column '{}': expected a number, found '{}'", path_.string(), line_[row],
                                 detail::printable(name), detail::printable(field)));
  }
  return v;
}

std::vector<double> CsvTable::numbers(const std::string& name) const {
  std::vector<double> v;
  v.reserve(rows_.size());
  for (std::size_t r = 0; r < rows_.size(); ++r) v.push_back(number(r, name));
  return v;
}

}  // namespace anodiff
