#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "anodiff/io/csv.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/landscape/landscape_grid.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/output/plot.hpp"
#include "detail/gnuplot.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
using anodiff::test::TempDir;

namespace {
void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("CsvTable: what CsvWriter writes reads back, by column name", "[csv]") {
  TempDir dir;
  {
    CsvWriter w(dir.path / "t.csv", "step,loss,name");
    w.row("{},{},{}", 1, 0.5, "a");
    w.row("{},{},{}", 2, csv_number(NAN), "b");
    w.raw("");  // a blank line (gnuplot's block separator) is skipped
    w.row("{},{},{}", 3, 0.25, "c");
  }
  const auto t = CsvTable::read(dir.path / "t.csv");
  REQUIRE(t.rows() == 3);
  CHECK(t.names() == std::vector<std::string>{"step", "loss", "name"});
  CHECK(t.number(2, "step") == 3);
  CHECK(std::isnan(t.number(1, "loss")));
  CHECK(t.text(2, "name") == "c");
  CHECK(t.has("loss"));
  CHECK_FALSE(t.has("lr"));
  CHECK_THAT(message_of([&] { (void)t.column("lr"); }), Catch::Contains("expected a column 'lr'"));
  CHECK_THAT(message_of([&] { (void)t.number(0, "name"); }),
             Catch::Contains("t.csv:2: column 'name': expected a number, found 'a'"));
}

TEST_CASE("CsvTable: CRLF line ends and a UTF-8 byte-order mark, as Python and spreadsheets write", "[csv]") {
  TempDir dir;
  write_bytes(dir.path / "steps.csv", "\xEF\xBB\xBFstep,epoch,loss\r\n0,0,\r\n1,1,2.5\r\n");
  const auto t = CsvTable::read(dir.path / "steps.csv");
  REQUIRE(t.rows() == 2);
  CHECK(t.names().front() == "step");
  CHECK(t.number(1, "loss") == 2.5);
  CHECK(std::isnan(t.number(0, "loss")));
  const auto steps = StepTable::read_csv(dir.path / "steps.csv");
  REQUIRE(steps.column("loss") != nullptr);
  CHECK(steps.column("loss")->at(1) == 2.5);
}

TEST_CASE("CsvTable: bad files are refused with the file, line and what was found", "[csv]") {
  TempDir dir;
  CHECK_THAT(message_of([&] { (void)CsvTable::read(dir.path / "missing.csv"); }), Catch::Contains("missing.csv: cannot open"));
  write_bytes(dir.path / "empty.csv", "");
  CHECK_THAT(message_of([&] { (void)CsvTable::read(dir.path / "empty.csv"); }), Catch::Contains("found an empty file"));
  write_bytes(dir.path / "short.csv", "a,b\n1,2\n3\n");
  CHECK_THAT(message_of([&] { (void)CsvTable::read(dir.path / "short.csv"); }),
             Catch::Contains("short.csv:3: expected 2 fields, found 1"));
}

TEST_CASE("CsvTable: a torn last line (a writer killed mid-line) is left out on request", "[csv]") {
  TempDir dir;
  write_bytes(dir.path / "surface.csv", "i,j,x,y,loss,accuracy\n0,0,-1,0,2.5,0.5\n1,0,1,0,2.5,0.");
  CHECK(CsvTable::read(dir.path / "surface.csv", true).rows() == 1);
  CHECK(CsvTable::read(dir.path / "surface.csv").rows() == 2);
  // The landscape reader merges the complete points only.
  const auto g = read_landscape(dir.path, Axis{-1, 1, 2}, Axis{0, 0, 1});
  CHECK(g.evaluated() == 1);
  CHECK(g.loss[0] == 2.5);
  CHECK(std::isnan(g.loss[1]));
}

// Regression tests of the mutation test (fuzz/mutate.py): a hostile steps.csv or layout.csv beside a trajectory.
TEST_CASE("CsvTable and ParameterLayout: hostile fields are quoted on one printable line", "[csv][errors]") {
  TempDir dir;
  write_bytes(dir / "steps.csv", "step,lo\x01ss\n1,\xff\xfe\rx\n");
  const auto msg = message_of([&] { StepTable::read_csv(dir / "steps.csv"); });
  CHECK_THAT(msg, Catch::Contains("steps.csv:2") && Catch::Contains("lo\\x01ss") && Catch::Contains("\\xff\\xfe\\x0dx"));
  CHECK(msg.find('\r') == std::string::npos);
  write_bytes(dir / "layout.csv", "name,offset,size,shape,group\nw,0,4,4,0\xff\n");
  CHECK_THAT(message_of([&] { (void)ParameterLayout::read_csv(dir / "layout.csv"); }),
             Catch::Contains("layout.csv:2") && Catch::Contains("0\\xff"));
}

TEST_CASE("ParameterLayout: sizes and offsets that overflow 64 bits are refused", "[csv][errors]") {
  TempDir dir;
  auto message = [&](const std::string& rows) {
    write_bytes(dir / "layout.csv", "name,offset,size,shape,group\n" + rows);
    return message_of([&] { (void)ParameterLayout::read_csv(dir / "layout.csv"); });
  };
  // 2^32 x 2^32 wrapped around to 0 = size.
  CHECK_THAT(message("a,0,0,4294967296x4294967296,0\n"), Catch::Contains("layout.csv:2") && Catch::Contains("fits 64 bits"));
  CHECK_THAT(message("a,0,4,4,0\nb,18446744073709551615,4,4,0\n"), Catch::Contains("layout.csv:3"));
  CHECK_THAT(message("a,0,4,4,99999999999\n"), Catch::Contains("group"));
  CHECK(message("a,0,4,2x2,0\nb,4,3,3,-1\n") == "no error");
}

// Regression test of issue 15's review of the gnuplot writer's inputs: titles and file names were written in double
// quotes, inside which gnuplot runs `commands` in backquotes (a model file named `...`.pt titles a landscape plot).
TEST_CASE("gnuplot scripts: titles and file names are single-quoted, never run as commands", "[csv][errors]") {
  CHECK(detail::gnuplot_quoted("it's `x`") == "'it''s `x`'");
  CHECK(detail::gnuplot_quoted("two\nlines") == "'two lines'");
  TempDir dir;
  const auto marker = dir / "ran";
  Plot p{"`touch " + marker.string() + "`", "x \"label\"", "y\\", false, false, {}, {}};
  write_bytes(dir / "d.csv", "a,b\n1,2\n2,3\n");
  p.series.push_back({dir / "d.csv", "'a':'b'", "`touch " + marker.string() + "`", "lines"});
  const std::string script = detail::plot_script(p, dir / "p.png");
  CHECK(script.find("set title '`touch ") != std::string::npos);
  CHECK(script.find("set xlabel 'x \"label\"'") != std::string::npos);
  (void)draw(p, dir / "p.png");  // false without gnuplot; either way the title is only text
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("CsvWriter modes: append keeps the rows written, durable replaces the file whole at flush()", "[csv]") {
  TempDir dir;
  const auto p = dir.path / "m.csv";
  auto text = [&] {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  {
    CsvWriter w(p, "a,b", CsvWriter::Mode::append);  // no file yet: created with its header
    w.row("{},{}", 1, 2);
    w.flush();
  }
  {
    CsvWriter w(p, "a,b", CsvWriter::Mode::append);  // the header taken as written, the row appended
    w.row("{},{}", 3, 4);
    w.flush();
  }
  CHECK(text() == "a,b\n1,2\n3,4\n");
  {
    CsvWriter w(p, "x", CsvWriter::Mode::durable);
    w.row("{}", 5);
    w.raw("");
    CHECK(text() == "a,b\n1,2\n3,4\n");  // nothing replaced before flush(): a reader sees the old file whole
    w.flush();
    CHECK(text() == "x\n5\n\n");
    w.row("{}", 6);
  }  // rows after the last flush() are not written
  CHECK(text() == "x\n5\n\n");
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);  // no temporary file left beside it
  {
    CsvWriter w(p, "c", CsvWriter::Mode::create);  // create truncates
    w.flush();
  }
  CHECK(text() == "c\n");
}
