#include "host/catalog/plugin_catalog.h"

#include <gtest/gtest.h>

#include "orch/plugin.h"
#include "tests/host/test_paths.h"

namespace orch {
namespace {

using testing::builtin_plugins;
using testing::fixture_dir;

bool any_contains(const std::vector<std::string>& lines, const std::string& file,
                  const std::string& text) {
  for (const auto& line : lines) {
    if (line.find(file) != std::string::npos && line.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(PluginCatalogTest, BuiltinPluginsLoadWithTheirParameters) {
  PluginCatalog catalog;
  catalog.load_directory(builtin_plugins());
  EXPECT_TRUE(catalog.refusals().empty());
  const PluginEntry* mlp = catalog.find(PluginKind::kModel, "mlp");
  ASSERT_NE(mlp, nullptr);
  EXPECT_NE(mlp->file.find("orch_model_mlp"), std::string::npos);
  EXPECT_EQ(mlp->library, "mlp 1.0.0");
  std::vector<std::string> names;
  for (const auto& spec : mlp->params) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"hidden", "layers"}));
  EXPECT_NE(catalog.find(PluginKind::kBackend, "cpu"), nullptr);
  EXPECT_NE(catalog.find(PluginKind::kDataset, "synthetic"), nullptr);
  // Kinds are separate name spaces.
  EXPECT_EQ(catalog.find(PluginKind::kBackend, "mlp"), nullptr);
}

TEST(PluginCatalogTest, EachBadLibraryIsRefusedWithOneSentenceAndTheRestStayUsable) {
  PluginCatalog catalog;
  catalog.load_directory(builtin_plugins());
  catalog.load_directory(fixture_dir("refused"));
  const auto& refusals = catalog.refusals();
  EXPECT_EQ(refusals.size(), 5u);
  EXPECT_TRUE(any_contains(refusals, "not_a_library.so", "not a loadable shared library"));
  EXPECT_TRUE(any_contains(refusals, "orch_fixture_no_entry.so", "without the orch entry point"));
  EXPECT_TRUE(any_contains(refusals, "orch_fixture_wrong_abi.so",
                           "built for orch plugin ABI " + std::to_string(kAbiVersion + 998) +
                               ", but this orch uses ABI " + std::to_string(kAbiVersion)));
  // Refused by its symbols' names, before anything of it is called (its entry points are
  // addresses stored in data, which called as functions would crash the host).
  EXPECT_TRUE(any_contains(refusals, "orch_fixture_old_sdk.so",
                           "older than plugin ABI 3 (Boost.DLL entry points); this orch uses "
                           "ABI " +
                               std::to_string(kAbiVersion) + "; rebuild the plugin"));
  EXPECT_TRUE(any_contains(refusals, "orch_fixture_duplicate.so",
                           "model 'mlp' refused: the name is already taken by"));
  for (const auto& refusal : refusals) {
    EXPECT_EQ(refusal.find('\n'), std::string::npos) << "one line each: " << refusal;
  }
  // The first "mlp" keeps its place; the duplicate library's other model is usable.
  EXPECT_NE(catalog.find(PluginKind::kModel, "mlp")->file.find("orch_model_mlp"),
            std::string::npos);
  EXPECT_NE(catalog.find(PluginKind::kModel, "fixture_unique"), nullptr);
  EXPECT_EQ(catalog.find(PluginKind::kModel, "from_the_future"), nullptr);
}

TEST(PluginCatalogTest, AMissingDirectoryIsNotAnError) {
  PluginCatalog catalog;
  catalog.load_directory("/nonexistent/orch/plugins");
  EXPECT_TRUE(catalog.refusals().empty());
  EXPECT_EQ(catalog.names(PluginKind::kModel), "(none found)");
}

TEST(PluginCatalogTest, FactoriesBuildObjectsFromTheLoadedLibrary) {
  PluginCatalog catalog;
  catalog.load_directory(fixture_dir("faulty"));
  EXPECT_EQ(catalog.names(PluginKind::kModel),
            "segfaults, aborts, throws, hangs, impossible_allocation, heap_fragmenter, memory_hog");
  const PluginEntry* throws = catalog.find(PluginKind::kModel, "throws");
  ASSERT_NE(throws, nullptr);
  EXPECT_TRUE(static_cast<bool>(throws->make_model));
}

}  // namespace
}  // namespace orch
