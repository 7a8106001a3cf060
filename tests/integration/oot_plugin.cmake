# A sixth language added without rebuilding runlet: the sample bash plugin in
# tests/integration/oot/ is compiled against the installed plugin.h only,
# dropped into a fresh plugin dir and used by `runlet run` and
# `runlet plugin-test` through a config that names it.
add_test(NAME integration.oot_plugin
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/oot/test_oot.sh
          ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/oot)
set_tests_properties(integration.oot_plugin PROPERTIES TIMEOUT 300
  LABELS "integration;plugins")
