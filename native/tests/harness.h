// A minimal test harness: CK_TEST registers a case, CK_CHECK records a failure with its location and goes on.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

struct ck_test_case {
  const char* name;
  std::function<void()> fn;
};

std::vector<ck_test_case>& ck_test_registry();
void ck_test_fail(const char* file, int line, const std::string& msg);

struct ck_test_register {
  ck_test_register(const char* name, std::function<void()> fn) { ck_test_registry().push_back({name, std::move(fn)}); }
};

#define CK_TEST_CAT2(a, b) a##b
#define CK_TEST_CAT(a, b) CK_TEST_CAT2(a, b)
#define CK_TEST(name)                                                                   \
  static void name();                                                                   \
  static const ck_test_register CK_TEST_CAT(ck_test_reg_, name)(#name, name);           \
  static void name()

// Returns from the enclosing function on failure (for a void function).
#define CK_CHECK(cond, msg)                                             \
  do {                                                                  \
    if (!(cond)) {                                                      \
      ck_test_fail(__FILE__, __LINE__, std::string(#cond) + ": " + (msg)); \
      return;                                                           \
    }                                                                   \
  } while (0)
