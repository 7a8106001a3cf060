# End-to-end tests of `runlet run` (native backend, real python3 and g++).
add_test(NAME integration.run
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/test_run.py ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.run PROPERTIES TIMEOUT 900 LABELS "integration")
