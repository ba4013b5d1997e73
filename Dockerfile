# sluice in a container (docs/deployment.md#docker).
#
#   docker build -t sluice .
#   docker run --rm -p 8080:8080 -v "$PWD/haproxy.cfg:/etc/sluice/haproxy.cfg:ro" sluice
#   docker kill --signal=HUP <container>     # reload the configuration, drop no connection
#
# Deno comes from the npm registry (the npm package "deno" ships the runtime binary). The build
# stage then tries `deno task compile`, which downloads Deno's base runtime (denort) on first use:
# where that download is reachable the image runs the single binary dist/sluice; where it is not,
# the image runs main.ts with `deno run` and the same permissions. Either way it runs as an
# unprivileged user. `docker build --target compiled` makes a smaller image with the binary only
# (it fails where the binary could not be built).

ARG DENO_VERSION=2.9.6

FROM node:20-bookworm-slim AS build
ARG DENO_VERSION
# The runtime binary itself (Deno.execPath()), whatever npm's shim looks like.
RUN npm install -g "deno@${DENO_VERSION}" \
    && mkdir -p /opt/deno \
    && cp "$(deno eval 'console.log(Deno.execPath())')" /opt/deno/deno \
    && /opt/deno/deno --version
WORKDIR /opt/sluice
COPY . .
# Fill Deno's cache (DENO_DIR) at build time; the runtime stage hands it to the sluice user.
ENV DENO_DIR=/opt/deno-cache
RUN deno cache main.ts mod.ts
RUN deno task compile || echo "deno compile unavailable here: the image runs main.ts with deno run"

FROM debian:bookworm-slim AS compiled
COPY --from=build /opt/sluice/dist/sluice /usr/local/bin/sluice
COPY examples/http-lb.cfg /etc/sluice/haproxy.cfg
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin sluice
USER sluice
ENV SLUICE_HTTP_ADDR=:8080
EXPOSE 8080 8404
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["-f", "/etc/sluice/haproxy.cfg"]

FROM debian:bookworm-slim AS runtime
COPY --from=build /opt/deno/deno /usr/local/bin/deno
COPY --from=build /opt/deno-cache /opt/deno-cache
COPY --from=build /opt/sluice /opt/sluice
COPY examples/http-lb.cfg /etc/sluice/haproxy.cfg
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin sluice \
    && chown -R sluice:sluice /opt/deno-cache
USER sluice
WORKDIR /opt/sluice
ENV DENO_DIR=/opt/deno-cache NO_COLOR=1 SLUICE_HTTP_ADDR=:8080
EXPOSE 8080 8404
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/sluice/deploy/docker-entrypoint.sh"]
CMD ["-f", "/etc/sluice/haproxy.cfg"]
