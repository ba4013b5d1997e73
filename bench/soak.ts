/**
 * `deno task bench:soak`: one million keep-alive requests at 64 connections
 * through sluice (pinned like the shared harness: wrk and an nginx backend on
 * CPU 0, sluice on CPU 1), reading sluice's resident memory after the
 * warm-up and after every 10 s of load. Memory must not creep: the run fails
 * (exit 1) when the last reading is more than 5% above the first one after
 * warm-up.
 *
 *     deno task bench:soak [--io node|ffi] [--requests 1000000] [--log none|file]
 *
 * Needs nginx and wrk (apt-get install nginx wrk).
 */
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    io: { type: "string", default: "node" },
    requests: { type: "string", default: "1000000" },
    log: { type: "string", default: "none" },
  },
}).values;
const WANT = Number(args.requests);
const root = new URL("..", import.meta.url).pathname;
const tmpl = new URL("../../shared/bench/backend-nginx.conf.tmpl", import.meta.url).pathname;
const run = Deno.makeTempDirSync({ prefix: "sluice-soak-" });
const BACKEND = "127.0.0.1:9201";
const LISTEN = "127.0.0.1:9209";
const started: Deno.ChildProcess[] = [];

function spawn(cpu: number, cmd: string, argv: string[]): Deno.ChildProcess {
  const p = new Deno.Command("taskset", {
    args: ["-c", String(cpu), cmd, ...argv],
    stdout: "null",
    stderr: "null",
  }).spawn();
  started.push(p);
  return p;
}

async function output(cmd: string, argv: string[]): Promise<string> {
  const r = await new Deno.Command(cmd, { args: argv, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(r.stdout);
}

/** Resident memory of `pid` (read through cat: Deno lets only --allow-all read /proc). */
async function rssKiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)/.exec(await output("cat", [`/proc/${pid}/status`]));
  return m ? Number(m[1]) : NaN;
}

async function ready(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.ok) return;
    } catch {
      // Not up yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

/** Requests wrk made in a run of `seconds`. */
async function wrk(seconds: number): Promise<number> {
  const out = await output("taskset", [
    "-c",
    "0",
    "wrk",
    "-t1",
    "-c64",
    `-d${seconds}s`,
    `http://${LISTEN}/`,
  ]);
  const m = /(\d+) requests in/.exec(out);
  return m ? Number(m[1]) : 0;
}

try {
  Deno.mkdirSync(`${run}/www`);
  Deno.mkdirSync(`${run}/backend-tmp`);
  Deno.writeTextFileSync(
    `${run}/backend.conf`,
    Deno.readTextFileSync(tmpl).replaceAll("@RUN@", run).replaceAll("@LISTEN@", BACKEND),
  );
  spawn(0, "nginx", ["-p", run, "-e", `${run}/err.log`, "-c", `${run}/backend.conf`]);
  const log = args.log === "file" ? `file:${run}/access.log` : "none";
  const sluice = spawn(1, Deno.execPath(), [
    "run",
    "-A",
    `${root}main.ts`,
    "--mode",
    "http",
    "--io",
    String(args.io),
    "--log",
    log,
    "--listen",
    LISTEN,
    "--server",
    BACKEND,
  ]);
  await ready(`http://${BACKEND}/`);
  await ready(`http://${LISTEN}/`);
  let done = await wrk(5);
  const warm = await rssKiB(sluice.pid);
  console.log(`| requests | RSS MiB | vs after warm-up |\n|---:|---:|---:|`);
  console.log(`| ${done} (warm-up) | ${(warm / 1024).toFixed(1)} | - |`);
  let last = warm;
  while (done < WANT) {
    done += await wrk(10);
    last = await rssKiB(sluice.pid);
    console.log(
      `| ${done} | ${(last / 1024).toFixed(1)} | ${((last / warm - 1) * 100).toFixed(1)}% |`,
    );
  }
  const growth = last / warm - 1;
  console.log(
    `\nRSS after ${done} requests: ${(growth * 100).toFixed(1)}% over warm-up (limit 5%)`,
  );
  if (growth > 0.05) Deno.exitCode = 1;
} finally {
  for (const p of started) {
    try {
      p.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await p.status;
  }
  Deno.removeSync(run, { recursive: true });
}
