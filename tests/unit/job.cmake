# Unit tests of the job model (core/job.c), built straight from its sources
# and the config loader's (the declared languages and caps come from a config).
runlet_unit_test(test_job
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_job.c
          ${CMAKE_SOURCE_DIR}/core/job.c
          ${CMAKE_SOURCE_DIR}/core/config.c
          ${CMAKE_SOURCE_DIR}/core/config_schema.c
  LIBS PkgConfig::JANSSON PkgConfig::YAML)
