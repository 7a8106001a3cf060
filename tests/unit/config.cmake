# Unit tests of the config loader (core/config.c, core/config_schema.c),
# built straight from its sources.
runlet_unit_test(test_config
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_config.c
          ${CMAKE_SOURCE_DIR}/core/config.c
          ${CMAKE_SOURCE_DIR}/core/config_schema.c
  LIBS PkgConfig::YAML)
target_compile_definitions(test_config PRIVATE RUNLET_TEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
