/**
 * `deno task bench`: sluice beside HAProxy, nginx and naive Deno relays in
 * one run of the shared pinned harness (`../shared/bench/anchors.sh`: wrk and
 * the nginx backend on CPU 0, the proxy alone on CPU 1, medians of rounds),
 * so that every figure quoted in docs/performance.md is a per-core ratio.
 *
 *     deno task bench [--io node|ffi] [--log none|file] [--rounds 3]
 *                     [--phases "small bulk many"] [--targets "direct haproxy_http"]
 *     deno task bench --threads "1 2 4" [--rounds 3]   (bench/threads.ts)
 *
 * `--log file` writes the access log to a file in a temporary directory (the
 * harness sends sluice's standard output to its own log file either way).
 * The summary is printed at the end and left in $TMPDIR/sluice-anchors/.
 * Needs root for apt-get when haproxy, nginx or wrk are missing (the harness
 * installs them).
 */
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    io: { type: "string", default: "ffi" },
    log: { type: "string", default: "none" },
    rounds: { type: "string", default: "3" },
    phases: { type: "string", default: "small bulk many" },
    targets: { type: "string", default: "direct haproxy_http" },
    name: { type: "string" },
    threads: { type: "string" },
  },
}).values;

// `--threads "1 2 4"`: worker threads compared in one run (bench/threads.ts),
// instead of the harness, which gives the proxy one core.
if (args.threads !== undefined) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./threads.ts", import.meta.url).pathname,
      "--threads",
      args.threads,
      "--rounds",
      args.rounds,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(r.code);
}

const root = new URL("..", import.meta.url).pathname;
const harness = new URL("../../shared/bench/anchors.sh", import.meta.url).pathname;
try {
  Deno.statSync(harness);
} catch {
  console.error(`bench: the shared harness is not at ${harness} (clone ../shared beside sluice)`);
  Deno.exit(2);
}
if (args.io !== "node" && args.io !== "ffi") {
  console.error(`bench: --io takes node or ffi, not "${args.io}"`);
  Deno.exit(2);
}
let logFlag = "--log none";
let logDir: string | null = null;
if (args.log === "file") {
  logDir = Deno.makeTempDirSync({ prefix: "sluice-bench-log-" });
  logFlag = `--log file:${logDir}/access.log`;
} else if (args.log !== "none") {
  console.error(`bench: --log takes none or file, not "${args.log}"`);
  Deno.exit(2);
}
const name = args.name ?? `sluice_${args.io}${args.log === "file" ? "_log" : ""}`;
// `--http-reuse always`: the harness's HAProxy runs with `http-reuse always` too.
// The V8 flag is the one every launch path of sluice passes (deno.json, compile, unit, image).
const cmd =
  `${Deno.execPath()} run -A --unstable-worker-options --v8-flags=--max-semi-space-size=4 ${root}main.ts --mode http --io ${args.io} ${logFlag} ` +
  "--http-reuse always --listen 127.0.0.1:{port} --server {server}";
const child = new Deno.Command("bash", {
  args: [harness],
  cwd: root,
  env: {
    PROJECT_CMD: cmd,
    PROJECT_CWD: root,
    PROJECT_NAME: name,
    TARGETS: args.targets,
    MANY_TARGETS: args.targets,
    ROUNDS: args.rounds,
    PHASES: args.phases,
  },
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const status = await child.status;
if (logDir !== null) Deno.removeSync(logDir, { recursive: true });
Deno.exit(status.code);
