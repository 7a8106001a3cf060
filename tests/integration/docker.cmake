# The docker backend against a real dockerd (scripts/services.d/dockerd.sh):
# images built offline (docker.setup runs scripts/images.sh, reusing what
# exists), the five plugins' cases in containers, hardening, isolation of
# concurrent jobs, cleanup after a crash, on-demand image builds, the warm
# pool, and no container or volume left at the end. Skips (77) without an engine; under
# CI=true that is a failure.
set(DOCKER_TEST ${CMAKE_CURRENT_SOURCE_DIR}/docker/docker_test.py)
set(DOCKER_CONFIG ${CMAKE_SOURCE_DIR}/config.local.yaml)

add_test(NAME docker.setup
  COMMAND python3 ${DOCKER_TEST} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} setup)
set_tests_properties(docker.setup PROPERTIES TIMEOUT 3000
  FIXTURES_SETUP docker_images LABELS "integration;docker" RESOURCE_LOCK docker_images)

foreach(c languages hardening isolation isolation_bind crash_cleanup on_demand engine_missing)
  add_test(NAME docker.${c}
    COMMAND python3 ${DOCKER_TEST} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${c})
  set_tests_properties(docker.${c} PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77
    FIXTURES_REQUIRED "docker_images;docker_leftovers" LABELS "integration;docker")
endforeach()

foreach(p python go js csharp cpp)
  add_test(NAME docker.plugin.${p}
    COMMAND $<TARGET_FILE:runlet> plugin-test --backend docker --config ${DOCKER_CONFIG}
            ${p} ${CMAKE_SOURCE_DIR}/plugins/${p}/cases
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(docker.plugin.${p} PROPERTIES TIMEOUT 900
    FIXTURES_REQUIRED "docker_images;docker_leftovers" LABELS "integration;docker;no-asan")
endforeach()

# The hostile suite (tests/hostile/hostile.py, unchanged) on the docker
# backend: its own config with backend: docker and the local images.
foreach(g resources escape compile)
  add_test(NAME docker.hostile.${g}
    COMMAND python3 ${DOCKER_TEST} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} hostile-${g})
  set_tests_properties(docker.hostile.${g} PROPERTIES TIMEOUT 1800 SKIP_RETURN_CODE 77
    RUN_SERIAL TRUE FIXTURES_REQUIRED "docker_images;docker_leftovers"
    LABELS "integration;docker;hostile;no-asan")
endforeach()

# The warm pool (docker.pool_size 2 on top of the same config): every
# language through warm containers, single use, an idle one killed and
# replaced, a crashed runlet's pool swept; pool_timing prints latency with
# and without the pool (it asserts only that the jobs are judged).
foreach(c pool_languages pool_replace pool_crash pool_timing)
  add_test(NAME docker.${c}
    COMMAND python3 ${DOCKER_TEST} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${c})
  set_tests_properties(docker.${c} PROPERTIES TIMEOUT 1800 SKIP_RETURN_CODE 77
    FIXTURES_REQUIRED "docker_images;docker_leftovers" LABELS "integration;docker")
endforeach()
set_tests_properties(docker.pool_timing PROPERTIES RUN_SERIAL TRUE)
# A killed runlet's containers are any starting runlet's to sweep: the
# checks that they outlived it race the other docker tests' runlets.
set_tests_properties(docker.pool_crash docker.crash_cleanup PROPERTIES RUN_SERIAL TRUE)

add_test(NAME docker.no_leftovers
  COMMAND python3 ${DOCKER_TEST} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} no_leftovers)
set_tests_properties(docker.no_leftovers PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
  FIXTURES_CLEANUP docker_leftovers LABELS "integration;docker")
