// The one unit-test binary: every tests/unit/*_test.cpp links into it.
//
// A test case that cannot run on this machine (no bf16 instructions, no
// python3-torch) calls tfm::test::skip_test_case(reason) and returns; after
// the run each one is listed as "SKIPPED: <test case>: <reason>", which
// tests/run-tests.sh counts as a skipped test, so no skip passes silently.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace {

std::string g_current_test_case;
std::vector<std::pair<std::string, std::string>> g_skipped;  // test case, reason

// Remembers the test case that runs, for skip_test_case().
struct CurrentTestCase : doctest::IReporter {
  explicit CurrentTestCase(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& data) override { g_current_test_case = data.m_name; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("current-test-case", 1, CurrentTestCase);

}  // namespace

namespace tfm::test {

void skip_test_case(const std::string& reason) { g_skipped.emplace_back(g_current_test_case, reason); }

}  // namespace tfm::test

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;
  for (const auto& [test_case, reason] : g_skipped)
    std::printf("SKIPPED: %s: %s\n", test_case.c_str(), reason.c_str());
  return result;
}
