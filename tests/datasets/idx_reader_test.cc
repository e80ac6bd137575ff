// The IDX reader on small files written here: what it accepts and how it explains the rest.
#include "mnist/idx_reader.h"

#include <filesystem>

#include "tests/datasets/dataset_support.h"

namespace orch::testing {
namespace {

namespace idx = orch_datasets::idx;

class IdxReaderTest : public TempDir {
 protected:
  std::string file(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    write_file(path, bytes);
    return path;
  }
  std::string error_reading(const std::string& path, int rank) {
    return error_of([&] { idx::read(path, rank); });
  }
};

TEST_F(IdxReaderTest, ReadsDimensionsAndBytes) {
  std::string path =
      file("images", idx_bytes({2, 2, 3}, {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}));
  idx::Array array = idx::read(path, 3);
  EXPECT_EQ(array.dims, (std::vector<std::int64_t>{2, 2, 3}));
  ASSERT_EQ(array.bytes.size(), 12u);
  EXPECT_EQ(array.bytes[1], 1);
  EXPECT_EQ(array.bytes[11], 255);
}

TEST_F(IdxReaderTest, ExplainsATruncatedFile) {
  std::string bytes = idx_bytes({3}, {1, 2, 3});
  std::string path = file("labels", bytes.substr(0, bytes.size() - 1));
  std::string error = error_reading(path, 1);
  EXPECT_NE(error.find(path + ": 10 bytes, but its header (3) needs 11; the file is truncated"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("scripts/fetch-mnist.sh"), std::string::npos) << error;

  std::string header_cut = file("cut", bytes.substr(0, 6));
  EXPECT_NE(error_reading(header_cut, 1).find("ends inside its header"), std::string::npos);
  EXPECT_NE(error_reading(file("empty", ""), 1).find("too short for an IDX header"),
            std::string::npos);
}

TEST_F(IdxReaderTest, ExplainsAFileWithTrailingBytes) {
  std::string path = file("labels", idx_bytes({3}, {1, 2, 3, 4}));
  EXPECT_NE(error_reading(path, 1).find("longer than its header says"), std::string::npos);
}

TEST_F(IdxReaderTest, RejectsAWrongMagicNumberOrType) {
  std::string text = file("text", "label,a,b\n1,2,3\n");
  EXPECT_NE(error_reading(text, 1).find(text + ": not an IDX file"), std::string::npos);

  std::string floats = idx_bytes({1}, {0, 0, 0, 0});
  floats[2] = 0x0D;
  std::string path = file("floats", floats);
  EXPECT_NE(error_reading(path, 1).find("values of type float are not supported"),
            std::string::npos);
}

TEST_F(IdxReaderTest, RejectsTheWrongNumberOfDimensions) {
  std::string labels = file("labels", idx_bytes({4}, {1, 2, 3, 4}));
  std::string error = error_reading(labels, 3);
  EXPECT_NE(error.find("1 dimensions, expected 3 (images)"), std::string::npos) << error;
}

TEST_F(IdxReaderTest, SaysHowToDecompressGzip) {
  file("train-images-idx3-ubyte.gz", "\x1f\x8b\x08 compressed");
  std::string error = error_of([&] { idx::find(dir_, "train-images-idx3-ubyte"); });
  std::string gz = dir_ + "/train-images-idx3-ubyte.gz";
  EXPECT_NE(error.find(gz + " must be decompressed first: gunzip -k " + gz), std::string::npos)
      << error;

  // Compressed content under the plain name.
  std::string plain = file("t10k-labels-idx1-ubyte", "\x1f\x8b\x08 compressed");
  EXPECT_NE(error_reading(plain, 1).find("is gzip-compressed"), std::string::npos);
}

TEST_F(IdxReaderTest, FindsEitherSpellingAndNamesWhatIsMissing) {
  std::string dotted = file("train-labels.idx1-ubyte", idx_bytes({1}, {7}));
  EXPECT_EQ(idx::find(dir_, "train-labels-idx1-ubyte"), dotted);
  std::string plain = file("train-labels-idx1-ubyte", idx_bytes({1}, {7}));
  EXPECT_EQ(idx::find(dir_, "train-labels-idx1-ubyte"), plain) << "the standard name first";

  std::string error = error_of([&] { idx::find(dir_, "t10k-images-idx3-ubyte"); });
  EXPECT_NE(error.find("missing file t10k-images-idx3-ubyte in " + dir_ +
                       " (also looked for t10k-images.idx3-ubyte); run scripts/fetch-mnist.sh"),
            std::string::npos)
      << error;

  std::string no_dir = error_of([&] { idx::find(dir_ + "/nope", "t10k-images-idx3-ubyte"); });
  EXPECT_NE(no_dir.find("MNIST directory '" + dir_ + "/nope' does not exist"), std::string::npos)
      << no_dir;
}

}  // namespace
}  // namespace orch::testing
