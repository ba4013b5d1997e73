/**
 * `deno task compile`: builds the single binary `dist/sluice` with the
 * narrowest permissions that work (network for listeners and servers, read
 * for certificates and configuration files, write for unix sockets, FFI to
 * keep SIGUSR1 from opening Deno's debugger) and
 * the one unstable API sluice uses (net: unix datagram sockets for syslog).
 *
 * `deno compile` downloads its base runtime (denort) the first time. Offline
 * that fails; this script then prints one line saying so and exits 1. Set
 * DENORT_BIN to a local denort binary of the same Deno version to build
 * offline.
 */
const root = new URL("..", import.meta.url).pathname;
const args = [
  "compile",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  // ${VAR} expansion in configuration files.
  "--allow-env",
  // SIGUSR1 must not open Deno's debugger: sluice replaces the runtime's
  // handler through libc (lib/worker/usr1_guard.ts).
  "--allow-ffi",
  // Unix datagram sockets (syslog to /dev/log) are in Deno's unstable net
  // API. deno.json enables it as well; saying it here keeps the binary right
  // whichever configuration file deno compile finds.
  "--unstable-net",
  // Worker threads start with narrowed permissions (Worker's
  // deno.permissions option, unstable in Deno 2.9).
  "--unstable-worker-options",
  // A young generation of 4 MiB per semi-space instead of V8's 16: peak RSS
  // at 1,000 connections 116 -> 98 MiB, throughput unchanged (pinned bench,
  // docs/performance.md).
  "--v8-flags=--max-semi-space-size=4",
  "--no-prompt",
  // The demo's configuration file, read next to main.ts.
  "--include",
  `${root}examples/demo.cfg`,
  // The worker threads' entry modules (HTTP workers, and TLS workers of
  // tls-isolation), which main.ts loads only by URL.
  "--include",
  `${root}lib/worker/thread_main.ts`,
  "--include",
  `${root}lib/worker/tls_main.ts`,
  "--output",
  `${root}dist/sluice`,
  `${root}main.ts`,
];
const r = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "piped" })
  .output();
const err = new TextDecoder().decode(r.stderr);
if (r.success) {
  console.log(`built ${root}dist/sluice`);
  Deno.exit(0);
}
if (/dl\.deno\.land|error sending request|dns error|denort/i.test(err)) {
  console.error(
    "sluice compile: deno compile could not download its base runtime (denort) from dl.deno.land " +
      "(this machine is offline); run it where dl.deno.land is reachable, or set DENORT_BIN to a " +
      `local denort ${Deno.version.deno} binary`,
  );
  Deno.exit(1);
}
console.error(err.trim());
Deno.exit(r.code || 1);
