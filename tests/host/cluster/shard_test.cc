// Splitting a sweep into shards for Slurm array tasks, where shard databases live, and the
// manifest `orch submit` leaves beside them.
#include "host/cluster/shard.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "host/base/user_error.h"
#include "host/cluster/shard_manifest.h"
#include "tests/support/unit_test_support.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

using orch::testing::contains;

std::vector<RunSpec> plan_of(int size) {
  std::vector<RunSpec> runs(size);
  for (int i = 0; i < size; ++i) {
    runs[i].index = i;
    runs[i].key = "key" + std::to_string(i);
  }
  return runs;
}

TEST(ShardTest, EveryRunIsInExactlyOneShardAndShardsDifferByAtMostOne) {
  for (int count = 1; count <= 12; ++count) {
    for (int size = 0; size <= 30; ++size) {
      const auto runs = plan_of(size);
      std::map<std::string, int> seen;
      size_t smallest = runs.size(), largest = 0;
      for (int index = 0; index < count; ++index) {
        const ShardSpec shard{index, count};
        const auto mine = runs_of_shard(runs, shard);
        smallest = std::min(smallest, mine.size());
        largest = std::max(largest, mine.size());
        for (const auto& run : mine) {
          ++seen[run.key];
          EXPECT_TRUE(in_shard(run.index, shard));
        }
      }
      ASSERT_EQ(seen.size(), runs.size()) << count << " shards of " << size << " runs";
      for (const auto& [key, times] : seen) {
        EXPECT_EQ(times, 1) << key << " in " << count << " shards of " << size << " runs";
      }
      EXPECT_LE(largest - smallest, 1u) << count << " shards of " << size << " runs";
    }
  }
}

TEST(ShardTest, ParsesShardsAsSlurmNumbersArrayTasks) {
  const ShardSpec first = parse_shard("0/1");
  EXPECT_EQ(first.index, 0);
  EXPECT_EQ(first.count, 1);
  const ShardSpec last = parse_shard("9/10");
  EXPECT_EQ(last.index, 9);
  EXPECT_EQ(last.count, 10);
}

TEST(ShardTest, RefusesWhatIsNotAShardSayingHowToWriteOne) {
  for (const std::string text : {"3/3", "-1/2", "a/b", "2", "1/0", "", "1/", "/2", "1/2/3"}) {
    try {
      parse_shard(text);
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const UserError& e) {
      EXPECT_TRUE(contains(e.what(), "--shard: '" + text + "' is not a shard"));
      EXPECT_TRUE(contains(e.what(), "0 <= I < N"));
    }
  }
}

TEST(ShardTest, ShardDatabasesLiveBesideTheMainDatabase) {
  EXPECT_EQ(shard_directory("/data/runs/orch.db", "quickstart"),
            "/data/runs/orch-shards/quickstart");
  EXPECT_EQ(shard_database("/data/runs/orch-shards/quickstart", 3),
            "/data/runs/orch-shards/quickstart/shard-3.db");
  // A relative --db is taken from the current directory, as the tasks need an absolute path.
  EXPECT_EQ(shard_directory("h.db", "x"), (fs::current_path() / "h-shards" / "x").string());
}

class ManifestTest : public orch::testing::FreshDirectoryTest {
 protected:
  static ShardManifest sample() {
    ShardManifest manifest;
    manifest.experiment = "quickstart";
    manifest.file = "/exp/quickstart.toml";
    manifest.shards = 2;
    manifest.runs = {{"k0", "train.batch_size=2", 0},
                     {"k1", "train.batch_size=4", 1},
                     {"k2", "train.batch_size=8", 0}};
    manifest.job_id = "4242";
    manifest.created_at = "2024-05-01T10:00:00Z";
    manifest.command = "/bin/orch --db /d/shard-${SLURM_ARRAY_TASK_ID}.db run /exp/q.toml";
    manifest.memory_limit = "2048MiB";
    manifest.overrides = {"train.epochs=1", "train.lr = 0.01"};
    return manifest;
  }
};

TEST_F(ManifestTest, WhatIsWrittenIsReadBack) {
  const std::string path = manifest_path(dir_.string());
  EXPECT_EQ(path, (dir_ / "manifest.json").string());
  write_manifest(path, sample());
  const ShardManifest read = read_manifest(path);
  EXPECT_EQ(read.experiment, "quickstart");
  EXPECT_EQ(read.file, "/exp/quickstart.toml");
  EXPECT_EQ(read.shards, 2);
  ASSERT_EQ(read.runs.size(), 3u);
  EXPECT_EQ(read.runs[1].key, "k1");
  EXPECT_EQ(read.runs[1].swept, "train.batch_size=4");
  EXPECT_EQ(read.runs[1].shard, 1);
  EXPECT_EQ(read.job_id, "4242");
  EXPECT_EQ(read.created_at, "2024-05-01T10:00:00Z");
  EXPECT_EQ(read.command, sample().command);
  EXPECT_EQ(read.memory_limit, "2048MiB");
  EXPECT_EQ(read.overrides, sample().overrides);
  EXPECT_FALSE(read.auto_batch_size);
  ASSERT_EQ(read.runs_of(0).size(), 2u);
  EXPECT_EQ(read.runs_of(0)[1].key, "k2");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(ManifestTest, UnreadableManifestsAreRefusedNamingTheFile) {
  const std::string missing = (dir_ / "none.json").string();
  try {
    read_manifest(missing);
    ADD_FAILURE() << "a missing manifest was read";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), missing));
  }
  const std::string broken = (dir_ / "broken.json").string();
  std::ofstream(broken) << "{\"experiment\": ";
  try {
    read_manifest(broken);
    ADD_FAILURE() << "a broken manifest was read";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), broken + " is not valid JSON"));
    EXPECT_TRUE(contains(e.what(), "submit again"));
  }
  const std::string partial = (dir_ / "partial.json").string();
  std::ofstream(partial) << "{\"manifest_version\": 1, \"experiment\": \"x\"}";
  try {
    read_manifest(partial);
    ADD_FAILURE() << "an incomplete manifest was read";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), partial + " is incomplete"));
  }
}

TEST_F(ManifestTest, ManifestsBesideADatabaseAreFoundInOrder) {
  const std::string db = (dir_ / "orch.db").string();
  EXPECT_TRUE(manifests_beside(db).empty());
  for (const std::string name : {"zeta", "alpha"}) {
    fs::create_directories(shard_directory(db, name));
    write_manifest(manifest_path(shard_directory(db, name)), sample());
  }
  fs::create_directories(shard_directory(db, "not-submitted"));
  const auto found = manifests_beside(db);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], (dir_ / "orch-shards" / "alpha" / "manifest.json").string());
  EXPECT_EQ(found[1], (dir_ / "orch-shards" / "zeta" / "manifest.json").string());
  EXPECT_TRUE(manifests_beside((dir_ / "other.db").string()).empty());
}

}  // namespace
}  // namespace orch
