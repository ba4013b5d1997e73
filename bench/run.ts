/**
 * `deno task bench`: load tests side by side in one run, printing ratios.
 *
 * Upstream: nginx (one worker) serving a small response, a 64 KiB response
 * and a bulk file. TCP suite, each in front of the same nginx: direct (no
 * proxy), HAProxy (tcp mode, one thread), sluice in tcp mode, and a plain
 * async-loop relay on Deno.Conn (the baseline the scheduler is compared
 * with); wrk (requests/s and latency, 64 and 1000 connections) and curl
 * (bulk MB/s over one connection). HTTP suite: direct, HAProxy in http mode
 * with keep-alive, sluice in http mode; small and 64 KiB responses. The proxy runs pinned on CPU 0; nginx, wrk and
 * curl share CPU 1, so "direct" is bounded by the load generator, not by a
 * proxy. Each figure is the median of --reps runs.
 *
 *     deno task bench [--reps 3] [--duration 5] [--only tcp|http] [--out FILE]
 *
 * Needs haproxy, nginx, wrk and curl; installs them with apt-get when
 * missing and running as root, otherwise says which one is missing and stops.
 */
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    reps: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    out: { type: "string" },
    only: { type: "string" },
  },
}).values;
const REPS = Number(args.reps);
const DUR = Number(args.duration);
const ROOT = new URL("..", import.meta.url).pathname;

const children: Deno.ChildProcess[] = [];

type Row = Record<string, number>;
type Adder = (key: string, value: number) => void;

function fmt(v: number): string {
  return Number.isNaN(v) ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) ? (a / b).toFixed(2) : "-";
}

/** A markdown table of one suite: a column per target, then sluice's ratios. */
function table(results: Record<string, Row>, names: string[]): string {
  const others = names.filter((n) => n !== "sluice" && n !== "direct");
  const lines = [
    `| metric | ${names.join(" | ")} | ${others.map((o) => `sluice/${o}`).join(" | ")} |`,
    `|---|${names.map(() => "---:").join("|")}|${others.map(() => "---:").join("|")}|`,
  ];
  for (const m of Object.keys(results.sluice ?? {})) {
    const vals = names.map((n) => results[n]?.[m] ?? NaN);
    const ratios = others.map((o) => ratio(results.sluice[m], results[o]?.[m] ?? NaN));
    lines.push(`| ${m} | ${vals.map(fmt).join(" | ")} | ${ratios.join(" | ")} |`);
  }
  return lines.join("\n");
}

function which(cmd: string): boolean {
  return new Deno.Command("sh", {
    args: ["-c", `command -v ${cmd}`],
    stdout: "null",
    stderr: "null",
  })
    .outputSync().success;
}

async function ensureTools(): Promise<void> {
  const need = [["haproxy", "haproxy"], ["nginx", "nginx"], ["wrk", "wrk"], ["curl", "curl"]];
  const missing = need.filter(([cmd]) => !which(cmd));
  if (missing.length === 0) return;
  const pkgs = missing.map(([, pkg]) => pkg);
  if (Deno.uid?.() === 0 && which("apt-get")) {
    console.log(`installing ${pkgs.join(", ")} with apt-get`);
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    await new Deno.Command("apt-get", { args: ["update", "-qq"], env }).output();
    const r = await new Deno.Command("apt-get", { args: ["install", "-y", "-qq", ...pkgs], env })
      .output();
    if (r.success && missing.every(([cmd]) => which(cmd))) return;
  }
  console.error(`bench needs ${pkgs.join(", ")}: install them (apt-get install ${pkgs.join(" ")})`);
  Deno.exit(1);
}

const PIN = which("taskset");
function pinned(cpu: number, cmd: string[]): string[] {
  return PIN ? ["taskset", "-c", String(cpu), ...cmd] : cmd;
}

function spawn(cmd: string[], quiet = true): Deno.ChildProcess {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: quiet ? "null" : "inherit",
    stderr: quiet ? "null" : "inherit",
    stdin: "null",
  }).spawn();
  children.push(child);
  return child;
}

async function run(cmd: string[], timeoutMs: number): Promise<string> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  });
  const r = await child.output();
  return new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
}

/** Fetches `url` every `ms` until stopped, like a Prometheus scraper. */
function scrape(url: string, ms: number): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await (await fetch(url)).arrayBuffer();
      } catch {
        // Not up yet, or restarting: try again at the next tick.
      }
      await new Promise((r) => setTimeout(r, ms));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

async function waitPort(port: number, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function wrk(port: number, path: string, conns: number): Promise<WrkResult> {
  const out = await run(
    pinned(1, [
      "wrk",
      "-t1",
      `-c${conns}`,
      `-d${DUR}s`,
      "--latency",
      `http://127.0.0.1:${port}${path}`,
    ]),
    (DUR + 30) * 1000,
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "");
  const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const e = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = (e ? Number(e[1]) + Number(e[2]) + Number(e[3]) + Number(e[4]) : 0) + non2xx;
  return { rps, p50, p99, errors };
}

async function wrkInto(
  add: Adder,
  port: number,
  path: string,
  c: number,
  label: string,
): Promise<void> {
  const r = await wrk(port, path, c);
  add(`${label} c${c} req/s`, r.rps);
  add(`${label} c${c} p50 ms`, r.p50);
  add(`${label} c${c} p99 ms`, r.p99);
  add(`${label} c${c} errors`, r.errors);
}

async function bulk(port: number): Promise<number> {
  const out = await run(
    pinned(1, [
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{speed_download}",
      `http://127.0.0.1:${port}/bulk`,
    ]),
    120_000,
  );
  return Number(out.trim()) / 1e6;
}

/** Peak RSS of a process (VmHWM); read through `cat` since Deno guards /proc. */
function rssKiB(pid: number): number {
  const r = new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stdout: "piped",
    stderr: "null",
  })
    .outputSync();
  return Number(/VmHWM:\s+(\d+)/.exec(new TextDecoder().decode(r.stdout))?.[1] ?? NaN);
}

/**
 * Server selection cost: runs bench/lb_bench.ts with `deno bench --json`
 * and prints ns per pick, algorithm × server count, beside the load figures.
 * These are micro figures, so a failure prints a note and the run goes on.
 */
async function lbFigures(): Promise<void> {
  const sizes = ["2", "100", "1000"];
  try {
    const cmd = pinned(0, [Deno.execPath(), "bench", "--json", `${ROOT}bench/lb_bench.ts`]);
    const r = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(300_000),
    }).output();
    if (!r.success) throw new Error(`deno bench exited with code ${r.code}`);
    const report: { benches: { name: string; results: { ok?: { avg: number } }[] }[] } = JSON
      .parse(new TextDecoder().decode(r.stdout));
    const rows = new Map<string, Row>();
    for (const b of report.benches) {
      // Names are "<algo> n=<servers>"; avg is in ns.
      const m = /^(\S+) n=(\d+)$/.exec(b.name), avg = b.results[0]?.ok?.avg;
      if (!m || avg === undefined) continue;
      if (!rows.has(m[1])) rows.set(m[1], {});
      rows.get(m[1])![m[2]] = avg;
    }
    console.log(`\nserver selection, ns per pick (bench/lb_bench.ts): algo × servers`);
    console.log(`| algo | ${sizes.join(" | ")} |\n|---|${sizes.map(() => "---:").join("|")}|`);
    for (const [algo, row] of rows) {
      console.log(`| ${algo} | ${sizes.map((n) => fmt(row[n] ?? NaN)).join(" | ")} |`);
    }
  } catch (e) {
    console.log(`\nserver selection figures unavailable: ${e instanceof Error ? e.message : e}`);
  }
}

async function main(): Promise<void> {
  await ensureTools();
  const dir = await Deno.makeTempDir({ prefix: "sluice-bench-" });
  // nginx workers run as an unprivileged user: let them read the files.
  await Deno.chmod(dir, 0o755);
  const ports = {
    nginx: freePort(),
    haproxy: freePort(),
    sluice: freePort(),
    naive: freePort(),
    haproxyHttp: freePort(),
    sluiceHttp: freePort(),
    sluiceStats: freePort(),
    statsListener: freePort(),
  };
  // Bulk file: 256 MiB, written once.
  const big = await Deno.open(`${dir}/bulk`, { write: true, create: true });
  const chunk = new Uint8Array(1 << 20).fill(120);
  for (let i = 0; i < 256; i++) await big.write(chunk);
  big.close();
  Deno.writeFileSync(`${dir}/64k`, new Uint8Array(65536).fill(97));
  await Deno.chmod(`${dir}/bulk`, 0o644);
  await Deno.chmod(`${dir}/64k`, 0o644);
  Deno.writeTextFileSync(
    `${dir}/nginx.conf`,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:${ports.nginx} backlog=4096;
    root ${dir};
    location = /small { return 200 "hello\\n"; }
    location = /64k { default_type application/octet-stream; }
    location = /bulk { default_type application/octet-stream; }
  }
}
`,
  );
  Deno.writeTextFileSync(
    `${dir}/haproxy.cfg`,
    `global
  maxconn 4096
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen bench
  bind 127.0.0.1:${ports.haproxy}
  server s1 127.0.0.1:${ports.nginx}
`,
  );

  Deno.writeTextFileSync(
    `${dir}/haproxy-http.cfg`,
    `global
  maxconn 4096
  nbthread 1
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
listen bench
  bind 127.0.0.1:${ports.haproxyHttp}
  server s1 127.0.0.1:${ports.nginx}
`,
  );
  const haproxyVersion = (await run(["haproxy", "-v"], 5000)).split("\n")[0];
  spawn(pinned(1, ["nginx", "-c", `${dir}/nginx.conf`]));
  await waitPort(ports.nginx);

  const sluiceCmd = (port: number, mode: string, extra: string[] = []) => () =>
    spawn(pinned(0, [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      `${ROOT}main.ts`,
      "--mode",
      mode,
      "--listen",
      `127.0.0.1:${port}`,
      "--server",
      `127.0.0.1:${ports.nginx}`,
      "--maxconn",
      "4096",
      "--log",
      "none",
      ...extra,
    ]));
  interface Target {
    name: string;
    port: number;
    start?: () => Deno.ChildProcess;
    /** Runs beside the load (returns how to stop it). */
    beside?: () => () => Promise<void>;
  }
  const suites: {
    name: string;
    targets: Target[];
    run: (port: number, add: Adder) => Promise<void>;
  }[] = [
    {
      name: "tcp",
      targets: [
        { name: "direct", port: ports.nginx },
        {
          name: "haproxy",
          port: ports.haproxy,
          start: () => spawn(pinned(0, ["haproxy", "-f", `${dir}/haproxy.cfg`])),
        },
        { name: "sluice", port: ports.sluice, start: sluiceCmd(ports.sluice, "tcp") },
        {
          name: "naive",
          port: ports.naive,
          start: () =>
            spawn(pinned(0, [
              Deno.execPath(),
              "run",
              "--allow-net",
              `${ROOT}bench/naive_relay.ts`,
              String(ports.naive),
              String(ports.nginx),
            ])),
        },
      ],
      run: async (port, add) => {
        add("bulk MB/s", await bulk(port));
        for (const c of [64, 1000]) await wrkInto(add, port, "/small", c, "small");
      },
    },
    {
      name: "http",
      targets: [
        { name: "direct", port: ports.nginx },
        {
          name: "haproxy",
          port: ports.haproxyHttp,
          start: () => spawn(pinned(0, ["haproxy", "-f", `${dir}/haproxy-http.cfg`])),
        },
        { name: "sluice", port: ports.sluiceHttp, start: sluiceCmd(ports.sluiceHttp, "http") },
        // The same with the stats listener scraped every second (histograms
        // and counters are always on: bench/counters_bench.ts measures them).
        {
          name: "sluice+stats",
          port: ports.sluiceStats,
          start: sluiceCmd(ports.sluiceStats, "http", [
            "--stats",
            `127.0.0.1:${ports.statsListener}`,
          ]),
          beside: () => scrape(`http://127.0.0.1:${ports.statsListener}/metrics`, 1000),
        },
      ],
      run: async (port, add) => {
        for (const c of [64, 1000]) {
          await wrkInto(add, port, "/small", c, "small");
          await wrkInto(add, port, "/64k", c, "64k");
        }
      },
    },
  ];

  const header =
    `${REPS} runs of ${DUR}s each (median), ${haproxyVersion}, deno ${Deno.version.deno}, ` +
    `${navigator.hardwareConcurrency} CPUs` +
    (PIN ? ", proxy pinned to CPU 0, nginx/wrk/curl to CPU 1" : ", no CPU pinning (no taskset)");
  const all: Record<string, Record<string, Row>> = {};
  for (const suite of suites) {
    if (args.only && args.only !== suite.name) continue;
    const results: Record<string, Row> = {};
    for (const t of suite.targets) {
      const proc = t.start?.();
      await waitPort(t.port);
      const samples: Record<string, number[]> = {};
      const add: Adder = (k, v) => (samples[k] ??= []).push(v);
      console.log(`-- ${suite.name}: ${t.name}`);
      const stop = t.beside?.();
      for (let rep = 0; rep < REPS; rep++) await suite.run(t.port, add);
      await stop?.();
      const row: Row = {};
      for (const [k, v] of Object.entries(samples)) row[k] = median(v);
      if (proc) row["peak RSS MiB"] = rssKiB(proc.pid) / 1024;
      results[t.name] = row;
      if (proc) {
        proc.kill("SIGKILL");
        await proc.status;
      }
    }
    all[suite.name] = results;
    console.log(`\nsluice ${suite.name.toUpperCase()} mode, ${header}`);
    console.log(table(results, suite.targets.map((t) => t.name)));
  }
  if (args.out) {
    Deno.writeTextFileSync(
      args.out,
      JSON.stringify({ date: new Date().toISOString(), results: all }, null, 2),
    );
  }
  await Deno.remove(dir, { recursive: true });
  await lbFigures();
}

try {
  await main();
} finally {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
  await Promise.allSettled(children.map((c) => c.status));
}
