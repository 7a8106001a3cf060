# runlet as a container: `runlet serve` on the docker backend, talking to the
# host's Docker Engine through its socket. Built from the repository root:
#   docker build -f deploy/runlet.dockerfile -t runlet .
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      libyaml-dev librabbitmq-dev libcurl4-openssl-dev libjansson-dev \
      libseccomp-dev libarchive-dev python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNLET_TESTS=OFF \
 && cmake --build /build -j"$(nproc)"

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libyaml-0-2 librabbitmq4 libcurl4 \
      libjansson4 libseccomp2 libarchive13 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/runlet /build/runlet-runner /opt/runlet/
COPY --from=build /build/plugins/ /opt/runlet/plugins/
COPY config.yaml /etc/runlet/config.yaml
COPY dockerfiles /opt/runlet/dockerfiles
RUN find /opt/runlet/plugins -type f ! -name '*.so' -delete \
 && find /opt/runlet/plugins -mindepth 1 -type d -empty -delete \
 && chmod -R go-w /opt/runlet
WORKDIR /opt/runlet
ENV CONFIG_PATH=/etc/runlet/config.yaml RUNLET_STATE_DIR=/var/lib/runlet
VOLUME /var/lib/runlet
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/runlet/runlet"]
CMD ["serve", "--backend", "docker"]
