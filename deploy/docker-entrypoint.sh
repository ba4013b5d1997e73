#!/bin/sh
# The Docker image's entrypoint: the compiled binary when the build could make one, else
# `deno run` with the same permissions as `deno task compile` bakes in (docs/deployment.md).
set -eu
if [ -x /opt/sluice/dist/sluice ]; then
  exec /opt/sluice/dist/sluice "$@"
fi
exec deno run --allow-net --allow-read --allow-write --allow-env --allow-ffi --unstable-net --unstable-worker-options \
  --v8-flags=--max-semi-space-size=4 --no-prompt /opt/sluice/main.ts "$@"
