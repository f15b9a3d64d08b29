// libFuzzer target: the CSV reader (CsvTable, StepTable) and the CSV writer's round trip: what is read is written
// back with CsvWriter and must read back the same.
#include <cmath>
#include <cstring>

#include "anodiff/io/csv.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = anodiff::fuzz::scratch() / "input.csv";
  const auto copy = anodiff::fuzz::scratch() / "copy.csv";
  anodiff::fuzz::write_file(file, data, size);
  for (bool complete_lines_only : {false, true}) {
    anodiff::fuzz::expect_input_errors_only([&] {
      const auto t = anodiff::CsvTable::read(file, complete_lines_only);
      for (const auto& name : t.names()) {
        for (std::size_t r = 0; r < t.rows(); ++r) (void)t.text(r, name);
      }
      // Written back as it was read (fields never hold a comma or a line break), then read again: the same table.
      {
        std::string header;
        for (std::size_t c = 0; c < t.names().size(); ++c) header += (c ? "," : "") + t.names()[c];
        anodiff::CsvWriter w(copy, header);
        for (std::size_t r = 0; r < t.rows(); ++r) {
          std::string line;
          for (std::size_t c = 0; c < t.names().size(); ++c) line += (c ? "," : "") + t.text(r, t.names()[c]);
          w.raw(line);
        }
        w.flush();
      }
      const auto back = anodiff::CsvTable::read(copy);
      // The format's own losses, left out of the comparison: a carriage return ending a line is taken for CRLF, a
      // byte-order mark starting the file is dropped, a row of one empty field is a blank line (skipped, as gnuplot's
      // block separators are).
      bool lossy = t.names().size() == 1 || t.names().front().rfind("\xEF\xBB\xBF", 0) == 0;
      for (const auto& name : t.names()) {
        lossy = lossy || name.find('\r') != std::string::npos;
        for (std::size_t r = 0; r < t.rows(); ++r) lossy = lossy || t.text(r, name).find('\r') != std::string::npos;
      }
      if (!lossy) {
        if (back.names() != t.names() || back.rows() != t.rows()) std::abort();
        for (const auto& name : t.names()) {
          for (std::size_t r = 0; r < t.rows(); ++r) {
            if (back.text(r, name) != t.text(r, name)) std::abort();
          }
        }
      }
      for (const auto& name : t.names()) (void)t.numbers(name);
    });
  }
  anodiff::fuzz::expect_input_errors_only([&] {
    const auto s = anodiff::StepTable::read_csv(file);
    (void)s.column("loss");
    // The step table's writer: every finite value and NaN read back as written (9 significant digits).
    s.write_csv(copy);
    const auto back = anodiff::StepTable::read_csv(copy);
    bool lossy = s.names.size() == 1 || s.names.front().rfind("\xEF\xBB\xBF", 0) == 0;
    for (const auto& name : s.names) lossy = lossy || name.find('\r') != std::string::npos;
    if (!lossy && (back.names != s.names || back.rows() != s.rows())) std::abort();
  });
  return 0;
}
