# runlet-runner tests: the real static binary driven through plans.
add_executable(runner_helper ${CMAKE_CURRENT_SOURCE_DIR}/runner_helper.c)
target_link_libraries(runner_helper PRIVATE Threads::Threads)
set_target_properties(runner_helper PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

add_library(runner_testlib STATIC ${CMAKE_CURRENT_SOURCE_DIR}/runner_testlib.c)
target_include_directories(runner_testlib PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(runner_testlib PUBLIC runlet_wire PkgConfig::CMOCKA)
runlet_sanitize(runner_testlib)

runlet_unit_test(test_runner SOURCES test_runner.c LIBS runner_testlib)
add_dependencies(test_runner runlet-runner runner_helper)

runlet_unit_test(test_runner_sandbox SOURCES test_runner_sandbox.c LIBS runner_testlib)
add_dependencies(test_runner_sandbox runlet-runner runner_helper)

runlet_unit_test(test_runner_cg
  SOURCES test_runner_cg.c ${CMAKE_SOURCE_DIR}/runner/cgroup.c ${CMAKE_SOURCE_DIR}/runner/util.c
  LIBS runlet_wire
  WRAP mkdir rmdir)

foreach(t test_runner_plan test_runner_cgroups test_runner_par)
  runlet_unit_test(${t} SOURCES ${t}.c LIBS runner_testlib)
  add_dependencies(${t} runlet-runner runner_helper)
endforeach()
# every part skipped (no root, no cgroup hierarchy): exit 77
set_tests_properties(unit.test_runner_sandbox unit.test_runner_cgroups PROPERTIES SKIP_RETURN_CODE 77)
