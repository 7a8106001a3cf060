# The five language plugins against their fixture cases: `runlet plugin-test
# <plugin> plugins/<plugin>/cases` on the native backend, with the real
# toolchains. The harness synthesizes its config from the plugin's defaults:
# the tests run in the build dir (no config.yaml there) with CONFIG_PATH unset.
foreach(p python go js csharp cpp)
  add_test(NAME plugin.${p}
    COMMAND $<TARGET_FILE:runlet> plugin-test --backend native ${p}
            ${CMAKE_SOURCE_DIR}/plugins/${p}/cases
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  set_tests_properties(plugin.${p} PROPERTIES TIMEOUT 900
    LABELS "integration;plugins")
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.22)
    set_tests_properties(plugin.${p} PROPERTIES
      ENVIRONMENT_MODIFICATION "CONFIG_PATH=unset:")
  endif()
endforeach()
