# The runner protocol codec.
runlet_unit_test(test_wire SOURCES test_wire.c LIBS runlet_wire)
