# Docker images for the docker backend, built offline (scripts/images.sh):
#   make images   debootstrap base, language images, runlet's runner images,
#                 and config.local.yaml naming the local language images.
# `make test` builds them first: the docker integration tests use them.
.PHONY: images
images: build
	@bash scripts/images.sh

test: images
