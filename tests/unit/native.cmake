# Native backend: pure parts (cgroup paths, features, budget, mount table,
# removal) and real sandbox runs with a probe in the runner's place.
runlet_unit_test(test_native SOURCES test_native.c LIBS runlet_native)
add_executable(test_native_probe test_native_probe.c)
target_link_libraries(test_native_probe PRIVATE runlet_wire_plain)
target_link_options(test_native_probe PRIVATE -static)
set_target_properties(test_native_probe PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
runlet_unit_test(test_native_sandbox SOURCES test_native_sandbox.c LIBS runlet_native)
add_dependencies(test_native_sandbox test_native_probe runlet-runner)
set_tests_properties(unit.test_native_sandbox PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# The pool of pre-forked single-use sandboxes (as root).
foreach(t test_native_pool test_native_pool_runner)
  runlet_unit_test(${t} SOURCES ${t}.c test_native_poollib.c LIBS runlet_native)
  add_dependencies(${t} test_native_probe runlet-runner)
  set_tests_properties(unit.${t} PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endforeach()
# `runlet doctor` on this host: every required feature present (as root).
add_test(NAME unit.native_doctor
  COMMAND sh -c "[ \"$(id -u)\" = 0 ] || { echo 'SKIP: doctor needs root'; exit 77; }; exec \"$0\" doctor" $<TARGET_FILE:runlet>)
set_tests_properties(unit.native_doctor PROPERTIES SKIP_RETURN_CODE 77
  PASS_REGULAR_EXPRESSION "result: ready")
