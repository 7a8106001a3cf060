# Unit tests of broker/: backoff, broker address resolution, message
# metadata, attempt counts, declaration arguments, the worker pool, and the
# contract's defaults in the config. Built from the broker's sources (no
# broker or core needed at run time).
runlet_unit_test(test_broker
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_broker.c
          ${CMAKE_SOURCE_DIR}/tests/unit/test_broker_pool.c
          ${CMAKE_SOURCE_DIR}/broker/backoff.c
          ${CMAKE_SOURCE_DIR}/broker/conn.c
          ${CMAKE_SOURCE_DIR}/broker/message.c
          ${CMAKE_SOURCE_DIR}/broker/attempts.c
          ${CMAKE_SOURCE_DIR}/broker/topology.c
          ${CMAKE_SOURCE_DIR}/broker/pool.c
          ${CMAKE_SOURCE_DIR}/core/config.c
          ${CMAKE_SOURCE_DIR}/core/config_schema.c
  LIBS PkgConfig::RABBITMQ PkgConfig::JANSSON PkgConfig::YAML Threads::Threads)
set_tests_properties(unit.test_broker PROPERTIES LABELS "unit;serve")
