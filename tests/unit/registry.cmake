# Plugin loader tests, with fixture plugins built as modules.
foreach(fx good badabi nosym)
  add_library(fixture_plugin_${fx} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/plugin_${fx}.c)
  set_target_properties(fixture_plugin_${fx} PROPERTIES PREFIX "" OUTPUT_NAME "runlet-${fx}"
    C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fixtures)
  target_include_directories(fixture_plugin_${fx} PRIVATE ${CMAKE_SOURCE_DIR}/include)
endforeach()
runlet_unit_test(test_registry SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_registry.c
  ${CMAKE_SOURCE_DIR}/core/registry.c ${CMAKE_SOURCE_DIR}/core/config.c ${CMAKE_SOURCE_DIR}/core/config_schema.c
  LIBS ${CMAKE_DL_LIBS} PkgConfig::YAML)
add_dependencies(test_registry fixture_plugin_good fixture_plugin_badabi fixture_plugin_nosym)
target_compile_definitions(test_registry PRIVATE FIXTURE_DIR="${CMAKE_BINARY_DIR}/tests/fixtures")

runlet_unit_test(test_plan SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_plan.c
  ${CMAKE_SOURCE_DIR}/core/plan.c ${CMAKE_SOURCE_DIR}/core/host.c ${CMAKE_SOURCE_DIR}/core/log.c
  ${CMAKE_SOURCE_DIR}/core/verdict.c ${CMAKE_SOURCE_DIR}/core/result.c ${CMAKE_SOURCE_DIR}/core/utf8.c
  LIBS runlet_wire PkgConfig::JANSSON)
