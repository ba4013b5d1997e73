#!/bin/sh
# Static files: `sluice --static` next to nginx serving the same directory.
#   - a 1 KiB file with wrk, 64 connections, keep-alive (requests/s, latency);
#   - a 64 MiB file with curl, one download at a time (MB/s, best of 5).
# Pinned: the server on CPU 1, wrk and curl on CPU 0. One nginx worker,
# sendfile on, access log off; sluice with --log none.
# Needs nginx, wrk, curl, taskset. Usage: bench/static_bench.sh [SECONDS]
# Run it on a quiet machine: figures from a crowded one say little.
set -eu
SECS=${1:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/sluice-static-bench.XXXXXX)
chmod 755 "$DIR"
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

mkdir "$DIR/www"
head -c 1024 /dev/urandom >"$DIR/www/1k.bin"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$DIR/www/64m.bin"
chmod 755 "$DIR/www"
chmod 644 "$DIR/www/1k.bin" "$DIR/www/64m.bin"

NGINX_PORT=18481
SLUICE_PORT=18482
cat >"$DIR/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    root $DIR/www;
  }
}
CONF

wait_port() {
  i=0
  until curl -s -o /dev/null "http://127.0.0.1:$1/1k.bin"; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "port $1 did not open" >&2; exit 1; }
    sleep 0.1
  done
}

taskset -c 1 nginx -c "$DIR/nginx.conf" &
PIDS="$PIDS $!"
taskset -c 1 deno run --allow-net --allow-ffi --allow-read="$DIR/www" \
  --v8-flags=--max-semi-space-size=4 "$ROOT/main.ts" \
  --static "$DIR/www" --listen "127.0.0.1:$SLUICE_PORT" --log none --maxconn 4096 &
PIDS="$PIDS $!"
wait_port $NGINX_PORT
wait_port $SLUICE_PORT

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
for name in nginx sluice; do
  port=$NGINX_PORT
  [ $name = sluice ] && port=$SLUICE_PORT
  taskset -c 0 wrk -t1 -c64 -d2s "http://127.0.0.1:$port/1k.bin" >/dev/null # warm up
  out=$(taskset -c 0 wrk -t1 -c64 -d"${SECS}s" --latency "http://127.0.0.1:$port/1k.bin")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr '\n' ' ')
  echo "1 KiB c64 $name: $rps req/s, p99 $p99 $errs"
done
for name in nginx sluice; do
  port=$NGINX_PORT
  [ $name = sluice ] && port=$SLUICE_PORT
  best=0
  for _ in 1 2 3 4 5; do
    bps=$(taskset -c 0 curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$port/64m.bin")
    best=$(echo "$bps $best" | awk '{print ($1 > $2) ? $1 : $2}')
  done
  echo "64 MiB $name: $(echo "$best" | awk '{printf "%.0f", $1 / 1e6}') MB/s (best of 5)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
