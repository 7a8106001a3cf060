# A language image for offline machines and CI: the debootstrap base
# (runlet-base:bookworm, made by scripts/images.sh) plus one toolchain from
# Debian's mirror. Built with `docker build --network host`.
ARG BASE=runlet-base:bookworm
FROM ${BASE}
ARG PACKAGES
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${PACKAGES} \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
