/**
 * `deno task bench:threads`: what worker threads cost and add, in one run,
 * for 1, 2 and 4 threads (`--threads "1 2 4"`):
 *
 * - **small**: wrk at 64 connections on 100-byte responses from the harness's
 *   nginx backend, the proxy alone on CPU 1 (as the shared harness): on one
 *   core, threads can only cost; this shows how much.
 * - **tls**: every request a new TLS connection (RSA-2048 handshake, wrk with
 *   `Connection: close`) answered by sluice itself (`http-request return`),
 *   the proxy allowed on both CPUs: the proxy is the bottleneck, so a second
 *   thread shows what it adds on this 2-core machine (wrk shares CPU 0).
 * - **tls keep-alive**: wrk at 64 keep-alive TLS connections through sluice
 *   to the nginx backend, the proxy alone on CPU 1: the per-request cost of
 *   TLS records, and with `tls-isolation` of the rings between threads.
 * - **memory**: RSS of an idle sluice with N threads after start, so the
 *   cost of each extra worker.
 *
 * `--tls-isolation on|off|both` (default off) runs the two TLS phases
 * with `global tls-isolation on` (one TLS worker besides the N HTTP
 * workers), without, or both in the same run.
 *
 * For each: requests/s (median of `--rounds`), sluice's CPU time per request
 * (utime + stime from /proc, all threads: reading /proc needs --allow-all), peak RSS. Needs wrk, nginx and
 * openssl (root installs them with apt-get, as the harness does).
 *
 *     deno task bench:threads [--threads "1 2 4"] [--rounds 3] [--duration 8] [--tls-isolation both]
 */
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    threads: { type: "string", default: "1 2 4" },
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "8" },
    "tls-isolation": { type: "string", default: "off" },
  },
}).values;
const threads = args.threads.split(/\s+/).filter((x) => x !== "").map(Number);
const rounds = Number(args.rounds);
const duration = Number(args.duration);
const isolation = args["tls-isolation"] === "both"
  ? [false, true]
  : [args["tls-isolation"] === "on"];
const root = new URL("..", import.meta.url).pathname;
const tmp = Deno.makeTempDirSync({ prefix: "sluice-threads-" });
const TICK = 100; // USER_HZ: /proc/PID/stat counts in 1/100 s on Linux

function run(cmd: string[], opts: { cwd?: string } = {}): string {
  const r = new Deno.Command(cmd[0], { args: cmd.slice(1), cwd: opts.cwd, stderr: "piped" })
    .outputSync();
  const out = new TextDecoder().decode(r.stdout);
  if (!r.success) throw new Error(`${cmd.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  return out;
}

function need(bin: string): void {
  try {
    run(["sh", "-c", `command -v ${bin}`]);
  } catch {
    run(["apt-get", "install", "-y", "-q", bin]);
  }
}

/** CPU ticks (utime + stime, every thread) and RSS (KiB) of `pid`. */
function usage(pid: number): { ticks: number; rssKiB: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { ticks: Number(f[11]) + Number(f[12]), rssKiB: rss };
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Starts sluice on `cfg` (a file) with `n` threads, pinned to `cpus`. */
async function sluice(cfg: string, n: number, cpus: string, port: number) {
  const child = new Deno.Command("taskset", {
    args: [
      "-c",
      cpus,
      Deno.execPath(),
      "run",
      "-A",
      "--unstable-worker-options",
      "--v8-flags=--max-semi-space-size=4",
      `${root}main.ts`,
      "-f",
      cfg,
      "--threads",
      String(n),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitPort(port);
  await new Promise((r) => setTimeout(r, 1000));
  // taskset execs deno: same pid.
  return child;
}

function wrk(cpus: string, conns: number, url: string, extra: string[] = []): number {
  const out = run([
    "taskset",
    "-c",
    cpus,
    "wrk",
    "-t",
    "1",
    "-c",
    String(conns),
    "-d",
    `${duration}s`,
    ...extra,
    url,
  ]);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const b of ["wrk", "nginx", "openssl", "taskset"]) need(b);

// The backend: nginx answering 100 bytes, on CPU 0.
const nginxPort = 18190;
Deno.mkdirSync(`${tmp}/www`);
Deno.writeTextFileSync(`${tmp}/www/index.html`, "x".repeat(100));
Deno.writeTextFileSync(
  `${tmp}/nginx.conf`,
  `worker_processes 1; pid ${tmp}/nginx.pid; error_log ${tmp}/nginx.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:${nginxPort}; root ${tmp}/www; } }\n`,
);
run(["taskset", "-c", "0", "nginx", "-c", `${tmp}/nginx.conf`]);

// TLS material: RSA 2048, as the most common edge certificate.
run([
  "openssl",
  "req",
  "-x509",
  "-newkey",
  "rsa:2048",
  "-nodes",
  "-subj",
  "/CN=bench",
  "-days",
  "1",
  "-keyout",
  `${tmp}/key.pem`,
  "-out",
  `${tmp}/crt.pem`,
]);
Deno.writeTextFileSync(
  `${tmp}/site.pem`,
  Deno.readTextFileSync(`${tmp}/crt.pem`) + Deno.readTextFileSync(`${tmp}/key.pem`),
);

const smallPort = 18191, tlsPort = 18192, tlsKaPort = 18193;
Deno.writeTextFileSync(
  `${tmp}/small.cfg`,
  `defaults\n  mode http\n  timeout client 30s\n  timeout server 30s\n  timeout connect 5s\n  http-reuse always\n` +
    `frontend fe\n  bind 127.0.0.1:${smallPort}\n  default_backend be\n` +
    `backend be\n  server s 127.0.0.1:${nginxPort}\n`,
);
for (const iso of [false, true]) {
  const g = iso ? "global\n  tls-isolation on\n" : "";
  const name = iso ? "-iso" : "";
  Deno.writeTextFileSync(
    `${tmp}/tls${name}.cfg`,
    g + `defaults\n  mode http\n  timeout client 30s\n` +
      `frontend fe\n  bind 127.0.0.1:${tlsPort} ssl crt ${tmp}/site.pem\n` +
      `  http-request return status 200 content-type text/plain string ok\n`,
  );
  Deno.writeTextFileSync(
    `${tmp}/tlska${name}.cfg`,
    g +
      `defaults\n  mode http\n  timeout client 30s\n  timeout server 30s\n  timeout connect 5s\n  http-reuse always\n` +
      `frontend fe\n  bind 127.0.0.1:${tlsKaPort} ssl crt ${tmp}/site.pem\n  default_backend be\n` +
      `backend be\n  server s 127.0.0.1:${nginxPort}\n`,
  );
}

interface Row {
  phase: string;
  threads: number;
  rps: number;
  usPerReq: number;
  rssMiB: number;
}
const rows: Row[] = [];

async function phase(
  name: string,
  cfg: string,
  port: number,
  cpus: string,
  measure: () => number,
): Promise<void> {
  for (const n of threads) {
    const rps: number[] = [], us: number[] = [];
    let rss = 0;
    for (let r = 0; r < rounds; r++) {
      const p = await sluice(cfg, n, cpus, port);
      try {
        const a = usage(p.pid);
        const got = measure();
        const b = usage(p.pid);
        rps.push(got);
        us.push(((b.ticks - a.ticks) * (1e6 / TICK)) / (got * duration));
        rss = Math.max(rss, b.rssKiB / 1024);
      } finally {
        p.kill("SIGTERM");
        await p.status;
      }
    }
    rows.push({ phase: name, threads: n, rps: median(rps), usPerReq: median(us), rssMiB: rss });
    console.error(`${name} threads=${n}: ${median(rps).toFixed(0)} req/s`);
  }
}

try {
  await phase(
    "small (c64, proxy on CPU 1)",
    `${tmp}/small.cfg`,
    smallPort,
    "1",
    () => wrk("0", 64, `http://127.0.0.1:${smallPort}/`),
  );
  for (const iso of isolation) {
    const tag = iso ? ", tls-isolation on" : "";
    const name = iso ? "-iso" : "";
    await phase(
      `tls handshakes (c32, Connection: close, proxy on CPUs 0-1${tag})`,
      `${tmp}/tls${name}.cfg`,
      tlsPort,
      "0,1",
      () => wrk("0", 32, `https://127.0.0.1:${tlsPort}/`, ["-H", "Connection: close"]),
    );
    await phase(
      `tls keep-alive (c64, proxy on CPU 1${tag})`,
      `${tmp}/tlska${name}.cfg`,
      tlsKaPort,
      "1",
      () => wrk("0", 64, `https://127.0.0.1:${tlsKaPort}/`),
    );
  }
  // Memory: idle RSS after start, per thread count.
  const idle: [number, number][] = [];
  for (const n of threads) {
    const p = await sluice(`${tmp}/small.cfg`, n, "0,1", smallPort);
    await new Promise((r) => setTimeout(r, 1000));
    idle.push([n, usage(p.pid).rssKiB / 1024]);
    p.kill("SIGTERM");
    await p.status;
  }
  console.log("| phase | threads | req/s | CPU µs/request | peak RSS MiB |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.phase} | ${r.threads} | ${r.rps.toFixed(0)} | ${r.usPerReq.toFixed(1)} | ${
        r.rssMiB.toFixed(1)
      } |`,
    );
  }
  console.log("\n| threads | idle RSS MiB | per extra worker MiB |");
  console.log("|---|---|---|");
  const base = idle[0];
  for (const [n, mib] of idle) {
    const per = n > base[0] ? ((mib - base[1]) / (n - base[0])).toFixed(1) : "-";
    console.log(`| ${n} | ${mib.toFixed(1)} | ${per} |`);
  }
} finally {
  try {
    run(["nginx", "-c", `${tmp}/nginx.conf`, "-s", "stop"]);
  } catch {
    // Already gone.
  }
  Deno.removeSync(tmp, { recursive: true });
}
