#include "host/base/table.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

TEST(TableTest, ColumnsAlignAndNumbersAreRightAligned) {
  TextTable table({"name", "value"});
  table.add_row({"a", "5"});
  table.add_row({"longer", "12.50"});
  EXPECT_EQ(table.render(),
            "name    value\n"
            "------  -----\n"
            "a           5\n"
            "longer  12.50\n");
}

TEST(TableTest, BytesArePrintedInBinaryUnits) {
  EXPECT_EQ(format_bytes(0), "-");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(3 * 1024 * 1024 + 512 * 1024), "3.5 MiB");
}

}  // namespace
}  // namespace orch
