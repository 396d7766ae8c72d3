// What r2watch hands to other programs: CSV cells a spreadsheet cannot run as formulas, and the
// content types that are served as downloads rather than shown.
#include <gtest/gtest.h>

#include "core/common/csv.h"
#include "core/storage/content-type.h"
#include "wasm-bindings/codec/json.h"

namespace r2w {
namespace {

TEST(Csv, CellsThatWouldStartAFormulaAreNeutralizedAndQuoted) {
  EXPECT_EQ(csv_text_cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(csv_text_cell("+1"), "\"'+1\"");
  EXPECT_EQ(csv_text_cell("-2+3"), "\"'-2+3\"");
  EXPECT_EQ(csv_text_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
  EXPECT_EQ(csv_text_cell("\tcmd"), "\"'\tcmd\"");
  EXPECT_EQ(csv_text_cell("\rcmd"), "\"'\rcmd\"");
  EXPECT_EQ(csv_text_cell("=1,2"), "\"'=1,2\"");
}

TEST(Csv, OrdinaryCellsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(csv_text_cell("photos"), "photos");
  EXPECT_EQ(csv_text_cell(""), "");
  EXPECT_EQ(csv_text_cell("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_text_cell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_text_cell("'quoted"), "\"'quoted\"");
  EXPECT_EQ(csv_text_cell("a=b"), "a=b");
  EXPECT_EQ(csv_row({"a", "", "\"b,c\""}), "a,,\"b,c\"\n");
  EXPECT_TRUE(csv_formula_start("-"));
  EXPECT_FALSE(csv_formula_start("x-"));
}

TEST(ContentType, ActiveTypesAreDownloadsAndOthersAreNot) {
  for (const char* type : {"text/html",
                           "TEXT/HTML; charset=utf-8",
                           " text/html ",
                           "application/xhtml+xml",
                           "image/svg+xml",
                           "text/xml",
                           "application/xml",
                           "application/rss+xml",
                           "application/atom+xml",
                           "text/javascript",
                           "application/javascript",
                           "application/x-javascript",
                           "application/ecmascript",
                           "text/jscript",
                           "text/vbscript",
                           "application/x-shockwave-flash",
                           "application/pdf",
                           "text/xsl",
                           "multipart/x-mixed-replace; boundary=x",
                           "",
                           "html",
                           "text/html, text/plain",
                           "text/",
                           "/html",
                           "text/plain/html",
                           "text/h\"tml"}) {
    EXPECT_TRUE(storage::is_active_content_type(type)) << type;
  }
  for (const char* type :
       {"text/plain", "text/plain; charset=utf-8", "image/png", "image/jpeg", "application/json",
        "text/csv", "application/octet-stream", "application/gzip", "video/mp4", "audio/mpeg"}) {
    EXPECT_FALSE(storage::is_active_content_type(type)) << type;
  }
  EXPECT_EQ(storage::media_type(" Text/HTML ; charset=utf-8"), "text/html");
  EXPECT_EQ(storage::media_type("nonsense"), "");
}

}  // namespace
}  // namespace r2w
