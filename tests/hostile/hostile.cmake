# The hostile-submission suite: real `runlet run` on the native sandbox with
# bombs, escapes and compile-time attacks; each case is followed by three
# checks (host untouched, nothing left running, next submission judged).
# Needs root (exit 77 = skip otherwise), python3, g++ and go.
foreach(group resources escape compile)
  add_test(NAME hostile.${group}
    COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/hostile.py ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${group})
  set_tests_properties(hostile.${group} PROPERTIES
    LABELS "hostile;no-asan" TIMEOUT 900 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endforeach()
