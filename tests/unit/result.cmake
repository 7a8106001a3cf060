# Unit tests of the result model and the UTF-8 helpers (core/result.c,
# core/utf8.c), built straight from their sources.
runlet_unit_test(test_result
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_result.c
          ${CMAKE_SOURCE_DIR}/core/result.c
          ${CMAKE_SOURCE_DIR}/core/utf8.c
  LIBS PkgConfig::JANSSON)
