# runlet's shared image: runlet-runner (a static binary) at /runlet/runlet-runner.
# The build context runlet sends holds this file and runlet-runner.
FROM scratch
COPY runlet-runner /runlet/runlet-runner
