# A runner image of one language: the language's image (build arg IMAGE) plus
# runlet-runner copied from the shared image (build arg SHARED) and the user
# sandbox (uid/gid 1001). runlet starts it as
#   /runlet/runlet-runner --plan <runner_mountpoint>/plan
# as uid 1001, with a read-only root, a tmpfs and no network.
ARG IMAGE
ARG SHARED=runner_shared
FROM ${SHARED} AS shared
FROM ${IMAGE}
USER 0
RUN grep -q '^sandbox:' /etc/group || echo 'sandbox:x:1001:' >> /etc/group; \
    grep -q '^sandbox:' /etc/passwd || echo 'sandbox:x:1001:1001:sandbox:/home/sandbox:/bin/sh' >> /etc/passwd
COPY --from=shared /runlet/runlet-runner /runlet/runlet-runner
USER 1001:1001
WORKDIR /tmp
ENTRYPOINT ["/runlet/runlet-runner"]
