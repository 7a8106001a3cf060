# `runlet serve` against the real RabbitMQ started by
# scripts/services.d/rabbitmq.sh (label `serve`). Clients use kombu/py-amqp,
# the platform's AMQP library, from Debian's python3 (/usr/bin/python3).
set(RUNLET_SERVE_PY /usr/bin/python3)
set(RUNLET_SERVE_TEST ${CMAKE_CURRENT_SOURCE_DIR}/serve/serve_test.py)
set(RUNLET_SERVE_ENV
  "RUNLET_BIN=$<TARGET_FILE:runlet>;RUNLET_SOURCE_DIR=${CMAKE_SOURCE_DIR};RUNLET_BUILD_DIR=${CMAKE_BINARY_DIR}")

function(runlet_serve_test scenario timeout)
  cmake_parse_arguments(T "SERIAL" "" "LABELS" ${ARGN})
  add_test(NAME serve.${scenario} COMMAND ${RUNLET_SERVE_PY} ${RUNLET_SERVE_TEST} ${scenario})
  set_tests_properties(serve.${scenario} PROPERTIES
    LABELS "serve;integration;${T_LABELS}"
    ENVIRONMENT "${RUNLET_SERVE_ENV}"
    SKIP_RETURN_CODE 77
    TIMEOUT ${timeout})
  if(T_SERIAL)
    # restarts the shared broker: nothing else may use it meanwhile
    set_tests_properties(serve.${scenario} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()

runlet_serve_test(roundtrip 120)
runlet_serve_test(declare 180)
runlet_serve_test(bad 120)
runlet_serve_test(drain 120)
runlet_serve_test(poison 120)
runlet_serve_test(sigkill 240)
runlet_serve_test(tls 120)
runlet_serve_test(scaleout 180)
runlet_serve_test(noresults 120)
runlet_serve_test(bulk 300)
runlet_serve_test(restart 300 SERIAL)
runlet_serve_test(valgrind 300 LABELS no-asan)
