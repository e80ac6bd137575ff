// End-to-end tests of `orch report --html`: the real binary writes the page from a real
// sweep, and a real headless Chromium parses it, runs its script and draws it.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;

namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
const std::string kChromium = "/usr/bin/chromium";

// A hung orch or browser must fail its test, not stall the whole suite.
constexpr auto kTimeout = std::chrono::seconds(90);

// The sweep's name has every character HTML and SQL treat specially.
const std::string kName = "tiny <&\"'> sweep";
const std::string kEscapedName = "tiny &lt;&amp;&quot;&#39;&gt; sweep";

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The 2x2 sweep of cli_test: 256 samples, a 16-wide MLP, one thread.
std::string experiment_text() {
  return "[experiment]\nname = \"tiny <&\\\"'> sweep\"\nseed = 7\n\n"
         "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
         "[dataset]\nplugin = \"synthetic\"\nsamples = 256\nval_samples = 64\nfeatures = 8\n\n"
         "[model]\nplugin = \"mlp\"\nhidden = 16\n\n"
         "[train]\nepochs = 1\nbatch_size = 8\nwarmup_steps = 1\n\n"
         "[sweep]\n\"train.batch_size\" = [4, 8]\n\"train.epochs\" = [1, 2]\n";
}

// Runs a program in dir with stdout and stderr captured apart; env entries are NAME=VALUE.
RunResult run_in(const std::string& dir, const std::string& program,
                 const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  return orch::e2e::run_in(dir, program, args, env, kTimeout);
}

// Headless Chromium with a fresh profile and HOME, nothing fetched in the background, and
// the page's console (where an uncaught script error would show) logged to stderr.
RunResult run_chromium(const std::string& dir, std::vector<std::string> args) {
  const std::string profile = dir + "/chromium-profile";
  fs::create_directories(profile);
  std::vector<std::string> argv{"--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-dev-shm-usage",
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--enable-logging=stderr",
                                "--v=0",
                                "--user-data-dir=" + profile};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_in(dir, kChromium, argv, {"HOME=" + profile});
}

// One sweep and one report for the whole suite (each orch start loads LibTorch).
class HtmlReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("html_test"));
    std::ofstream(*dir_ + "/sweep.toml", std::ios::binary) << experiment_text();
    sweep_ = new RunResult(run_in(*dir_, kOrch, {"run", "sweep.toml", "--db", "history.db"}));
    report_ =
        new RunResult(run_in(*dir_, kOrch, {"report", "--db", "history.db", "--html", "out.html"}));
    html_ = new std::string(read_text(*dir_ + "/out.html"));
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    delete sweep_;
    delete report_;
    delete html_;
  }
  void SetUp() override {
    ASSERT_FALSE(dir_->empty()) << "mkdtemp failed";
    ASSERT_EQ(sweep_->exit_code, 0) << sweep_->err << sweep_->out;
    ASSERT_EQ(report_->exit_code, 0) << report_->err << report_->out;
  }

  static std::string path(const std::string& name) { return *dir_ + "/" + name; }

  static std::vector<std::int64_t> ok_run_ids() {
    SQLite::Database db(path("history.db"), SQLite::OPEN_READONLY);
    SQLite::Statement query(db, "SELECT id FROM runs WHERE status = 'ok' ORDER BY id");
    std::vector<std::int64_t> ids;
    while (query.executeStep()) ids.push_back(query.getColumn(0).getInt64());
    return ids;
  }

  // Two per swept parameter (time, memory) and two per ok run (loss, accuracy).
  static std::size_t expected_charts() { return 2 * 2 + 2 * ok_run_ids().size(); }

  static std::string* dir_;
  static RunResult* sweep_;
  static RunResult* report_;
  static std::string* html_;
};
std::string* HtmlReportTest::dir_ = nullptr;
RunResult* HtmlReportTest::sweep_ = nullptr;
RunResult* HtmlReportTest::report_ = nullptr;
std::string* HtmlReportTest::html_ = nullptr;

// A skip, never a pass: the page is only known to render where a browser drew it.
#define SKIP_WITHOUT_CHROMIUM()                                                        \
  if (!fs::exists(kChromium)) {                                                        \
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)"; \
  }

TEST_F(HtmlReportTest, ReportStillPrintsTheTablesAndSaysWhereThePageIs) {
  EXPECT_TRUE(contains(report_->out, "best (lowest epoch_s): ")) << report_->out;
  EXPECT_TRUE(contains(report_->out, "HTML report: out.html")) << report_->out;
  EXPECT_FALSE(fs::exists(path("out.html.tmp")));
}

TEST_F(HtmlReportTest, PageNeedsNoNetwork) {
  const std::string& html = *html_;
  ASSERT_FALSE(html.empty());
  EXPECT_FALSE(contains(html, "http://")) << "the page must not load anything";
  EXPECT_FALSE(contains(html, "https://")) << "the page must not load anything";
  for (const char* reference : {"src=", "href=", "<link", "@import", "url("}) {
    EXPECT_FALSE(contains(html, reference)) << "found " << reference;
  }
  EXPECT_EQ(occurrences(html, "<script"), 1u) << "one small inline script only";
}

TEST_F(HtmlReportTest, HeaderNamesTheExperimentObjectiveBestAndMachine) {
  const std::string& html = *html_;
  EXPECT_TRUE(contains(html, "<h1>orch report: " + kEscapedName + "</h1>")) << html;
  EXPECT_FALSE(contains(html, kName)) << "the name must be escaped";
  EXPECT_TRUE(contains(html, "objective: lowest epoch_s"));
  EXPECT_TRUE(contains(html, "<pre class=\"best\">best (lowest epoch_s): train.batch_size="));
  // The machine comes from the experiment row, found by a name with a quote in it.
  EXPECT_TRUE(contains(html, "<td>cores</td>")) << html;
  EXPECT_TRUE(contains(html, "<td>torch</td>")) << html;
  // orch doctor's facts, in words: the BLAS as "kind ..., library ..., loaded ...".
  EXPECT_TRUE(contains(html, "<td>blas</td><td>kind ")) << html;
  EXPECT_TRUE(contains(html, "<td>usable_cpus</td>")) << html;
}

TEST_F(HtmlReportTest, ChartsForEachSweptParameterAndEachOkRun) {
  const std::string& html = *html_;
  for (const char* key : {"train.batch_size", "train.epochs"}) {
    for (const char* chart : {"time:", "memory:"}) {
      EXPECT_EQ(
          occurrences(html, "<svg class=\"chart\" data-chart=\"" + std::string(chart) + key + "\""),
          1u)
          << chart << key;
    }
  }
  auto ids = ok_run_ids();
  EXPECT_EQ(ids.size(), 4u);
  for (auto id : ids) {
    EXPECT_EQ(occurrences(html, "data-chart=\"loss:" + std::to_string(id) + "\""), 1u) << id;
    EXPECT_EQ(occurrences(html, "data-chart=\"accuracy:" + std::to_string(id) + "\""), 1u) << id;
  }
  EXPECT_EQ(occurrences(html, "<svg class=\"chart\""), expected_charts());
  // Every chart is labelled for people and screen readers.
  EXPECT_EQ(occurrences(html, "<title>"), expected_charts() + 1);
  EXPECT_EQ(occurrences(html, "class=\"xlabel\""), expected_charts());
  EXPECT_EQ(occurrences(html, "class=\"ylabel\""), expected_charts());
  EXPECT_TRUE(contains(html, ">epoch time (s)</text>"));
  EXPECT_TRUE(contains(html, ">peak RSS (MiB)</text>"));
  EXPECT_TRUE(contains(html, ">train loss</text>"));
  EXPECT_TRUE(contains(html, ">val loss</text>"));
  EXPECT_TRUE(contains(html, ">val accuracy</text>"));
  // Nothing ran out of memory, so no chart claims it.
  EXPECT_FALSE(contains(html, "out of memory</text>"));
}

TEST_F(HtmlReportTest, RunAndConfigurationTablesHaveTheTextReportsColumns) {
  const std::string& html = *html_;
  EXPECT_TRUE(contains(html, "<th>run</th><th>configuration</th><th>repeat</th><th>status</th>"));
  EXPECT_TRUE(contains(html, "<th>configuration</th><th>ok runs</th><th>epoch_s (mean)</th>"));
  EXPECT_EQ(occurrences(html, "<td>ok</td>"), 4u);
  EXPECT_EQ(occurrences(html, "<td>best</td>"), 1u);
  EXPECT_TRUE(contains(html, "<td>train.batch_size=4 train.epochs=2</td>"));
}

TEST_F(HtmlReportTest, ChromiumRendersThePageWithEveryChartAndNoScriptError) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string url = "file://" + fs::absolute(path("out.html")).string();
  RunResult dom = run_chromium(*dir_, {"--dump-dom", url});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  std::smatch body;
  ASSERT_TRUE(std::regex_search(dom.out, body, std::regex("<body[^>]*>"))) << dom.out;
  EXPECT_TRUE(contains(body.str(), "data-charts=\"" + std::to_string(expected_charts()) + "\""))
      << body.str();
  EXPECT_TRUE(contains(dom.out, "<svg"));
  EXPECT_FALSE(contains(dom.err, "Uncaught")) << dom.err;

  const std::string png = path("report.png");
  RunResult shot = run_chromium(*dir_, {"--screenshot=" + png, "--window-size=1280,2000", url});
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  EXPECT_GT(fs::file_size(png), 10u * 1024) << "a page of charts is more than a blank image";
  EXPECT_FALSE(contains(shot.err, "Uncaught")) << shot.err;
}

// Guards the check above: an uncaught error in a page does reach chromium's stderr.
TEST_F(HtmlReportTest, ChromiumWouldReportAnUncaughtScriptError) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string page = path("broken.html");
  std::ofstream(page) << "<!DOCTYPE html><body><script>no_such_function();</script></body>";
  RunResult dom = run_chromium(*dir_, {"--dump-dom", "file://" + page});
  EXPECT_TRUE(contains(dom.err, "Uncaught")) << dom.err;
}

TEST_F(HtmlReportTest, UnwritablePathExits2NamingItAndLeavesNothing) {
  const std::string target = path("no/such/dir/out.html");
  RunResult result = run_in(*dir_, kOrch, {"report", "--db", "history.db", "--html", target});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.err.rfind("orch: error: ", 0), 0u) << result.err;
  EXPECT_TRUE(contains(result.err, target)) << result.err;
  EXPECT_TRUE(result.out.empty()) << "nothing printed when the page cannot be written";
  EXPECT_FALSE(fs::exists(path("no")));
  EXPECT_FALSE(fs::exists(target + ".tmp"));
}

// Writing over a directory fails at the rename: the temporary file must not stay behind.
TEST_F(HtmlReportTest, PathThatIsADirectoryExits2AndLeavesNoTemporaryFile) {
  const std::string target = path("a_directory");
  fs::create_directories(target);
  RunResult result = run_in(*dir_, kOrch, {"report", "--db", "history.db", "--html", target});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(contains(result.err, target)) << result.err;
  EXPECT_FALSE(fs::exists(target + ".tmp"));
  EXPECT_TRUE(fs::is_empty(target));
}

}  // namespace
