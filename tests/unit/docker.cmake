# Unit tests of the docker backend (no engine needed).
runlet_unit_test(test_docker_proto SOURCES test_docker_proto.c LIBS runlet_docker_base)
runlet_unit_test(test_docker_stream SOURCES test_docker_stream.c LIBS runlet_docker_base)
runlet_unit_test(test_docker_spec SOURCES test_docker_spec.c LIBS runlet_docker_base)
runlet_unit_test(test_docker_http SOURCES test_docker_http.c LIBS runlet_docker_base)
runlet_unit_test(test_docker_pool SOURCES test_docker_pool.c LIBS runlet_docker_base)
