# Compile cache tests.
runlet_unit_test(test_cache SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_cache.c
  ${CMAKE_SOURCE_DIR}/core/cache.c LIBS runlet_wire PkgConfig::CRYPTO Threads::Threads)
