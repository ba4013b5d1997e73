/**
 * Signals as HAProxy operators send them, to the CLI in a subprocess:
 * SIGUSR1 is a soft stop and never opens Deno's debugger (127.0.0.1:9229),
 * SIGUSR2 reloads like SIGHUP, SIGHUP and SIGUSR2 without -f do not kill.
 */
import assert from "node:assert/strict";
import { usr1HandlerCode } from "../../lib/worker/usr1_guard.ts";
import { runCli } from "../helpers/cli.ts";
import { readAll, readN, sleep, upstream, waitFor, writeAll } from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Deno installs its SIGUSR1 → inspector action 500 ms after start: wait past it. */
const INSPECTOR_GRACE_MS = 900;

/**
 * TCP ports `pid` listens on: its socket inodes (from /proc/PID/fd) matched
 * in /proc/PID/net/tcp{,6}. Read through `sh` because Deno lets only
 * `--allow-all` read /proc.
 */
async function listeningPorts(pid: number): Promise<number[]> {
  const script = `for f in /proc/${pid}/fd/*; do readlink "$f"; done; echo ---; ` +
    `cat /proc/${pid}/net/tcp /proc/${pid}/net/tcp6`;
  const r = await new Deno.Command("sh", { args: ["-c", script], stdout: "piped", stderr: "null" })
    .output();
  const [fds, tables] = dec.decode(r.stdout).split("---\n");
  const inodes = new Set([...fds.matchAll(/socket:\[(\d+)\]/g)].map((m) => m[1]));
  const ports: number[] = [];
  for (const line of (tables ?? "").split("\n")) {
    const col = line.trim().split(/\s+/);
    // local_address is col 1 (ADDR:PORT in hex), st col 3 (0A = LISTEN), inode col 9.
    if (col.length > 9 && col[3] === "0A" && inodes.has(col[9])) {
      ports.push(parseInt(col[1].split(":")[1], 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

Deno.test("usr1HandlerCode() writes the counter's address into the x86-64 and arm64 handlers", () => {
  const x = usr1HandlerCode("x86_64", 0x1122334455667788n)!;
  assert.deepEqual([...x.subarray(0, 2)], [0x48, 0xb8]);
  assert.equal(new DataView(x.buffer).getBigUint64(2, true), 0x1122334455667788n);
  assert.deepEqual([...x.subarray(10)], [0xf0, 0xff, 0x00, 0xc3]);
  const a = usr1HandlerCode("aarch64", 0x1122334455667788n)!;
  assert.equal(new DataView(a.buffer).getBigUint64(24, true), 0x1122334455667788n);
  assert.equal(new DataView(a.buffer).getUint32(16, true), 0xd65f03c0);
  assert.equal(usr1HandlerCode("riscv64", 1n), null);
});

Deno.test({
  name: "cli: SIGUSR1 is a soft stop: no debugger port, the request in flight finishes, exit 0",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    let release = () => {};
    const held = new Promise<void>((r) => release = r);
    await using up = upstream(async (conn) => {
      const buf = new Uint8Array(4096);
      await conn.read(buf);
      await held;
      await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow"));
    });
    await using p = runCli(["--mode", "http", "--listen", "127.0.0.1:0", "--server", up.address]);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
    await sleep(INSPECTOR_GRACE_MS);
    const pid = p.child.pid;
    // One socket per worker thread, all on the proxy's port.
    const before = await listeningPorts(pid);
    assert.deepEqual([...new Set(before)], [port]);
    const c = await Deno.connect({ port });
    await writeAll(c, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    await waitFor(() => up.accepted === 1);
    p.kill("SIGUSR1");
    // The soft stop closes the listener; nothing new may appear (Deno's
    // inspector would listen on 9229).
    await waitFor(() => p.err.some((l) => /soft stop \(SIGUSR1\)/.test(l)), 3000, "soft stop");
    await sleep(300);
    assert.deepEqual(await listeningPorts(pid), []);
    assert.ok(!p.err.some((l) => /Debugger listening/.test(l)), p.err.join("\n"));
    await assert.rejects(Deno.connect({ port }));
    release();
    const r = dec.decode(await readAll(c));
    c.close();
    assert.match(r, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nslow$/);
    assert.equal(await p.exited, 0);
  },
});

Deno.test({
  name: "cli: a second SIGUSR1 still opens no debugger port",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using up = upstream(async (conn) => {
      await readAll(conn).catch(() => {});
    });
    await using p = runCli(["--mode", "tcp", "--listen", "127.0.0.1:0", "--server", up.address]);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
    await sleep(INSPECTOR_GRACE_MS);
    // A live connection keeps the process in its soft stop.
    const c = await Deno.connect({ port });
    await waitFor(() => up.accepted === 1);
    p.kill("SIGUSR1");
    await waitFor(() => p.err.some((l) => /soft stop/.test(l)), 3000, "soft stop");
    p.kill("SIGUSR1");
    await sleep(500);
    assert.ok(!p.err.some((l) => /Debugger listening/.test(l)), p.err.join("\n"));
    const ports = await listeningPorts(p.child.pid).catch((): number[] => []);
    assert.ok(!ports.includes(9229), `listening on ${ports}`);
    c.close();
    assert.equal(await p.exited, 0);
  },
});

Deno.test("cli: SIGHUP and SIGUSR2 without -f say there is nothing to reload and keep running", async () => {
  await using up = upstream(async (conn) => {
    await writeAll(conn, enc.encode("A"));
  });
  await using p = runCli(["--mode", "tcp", "--listen", "127.0.0.1:0", "--server", up.address]);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
  const says = (re: RegExp) =>
    waitFor(() => p.err.some((l) => re.test(l)), 3000, String(re)).catch(async (e) => {
      throw new Error(
        `${e.message}; stderr: ${p.err.join(" | ")}; stdout: ${p.out.join(" | ")}; exit: ${await p
          .exited}`,
      );
    });
  p.kill("SIGHUP");
  await says(/SIGHUP: nothing to reload/);
  p.kill("SIGUSR2");
  await says(/SIGUSR2: nothing to reload/);
  const c = await Deno.connect({ port });
  assert.equal(dec.decode(await readN(c, 1)), "A");
  c.close();
  p.kill("SIGTERM");
  assert.equal(await p.exited, 0);
});

Deno.test("cli: SIGUSR2 reloads the configuration files like SIGHUP", async () => {
  await using a = upstream(async (c) => {
    await writeAll(c, enc.encode("A"));
  });
  await using b = upstream(async (c) => {
    await writeAll(c, enc.encode("B"));
  });
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/r.cfg`;
    const write = (server: string) =>
      Deno.writeTextFile(
        cfg,
        `defaults\n    mode tcp\nlisten l\n    bind 127.0.0.1:0\n    server s ${server}\n`,
      );
    await write(a.address);
    await using p = runCli(["-f", cfg]);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
    const first = async () => {
      const c = await Deno.connect({ port });
      const r = dec.decode(await readN(c, 1));
      c.close();
      return r;
    };
    assert.equal(await first(), "A");
    await write(b.address);
    p.kill("SIGUSR2");
    await p.waitLine(/reloaded/);
    assert.equal(await first(), "B");
    p.kill("SIGTERM");
    assert.equal(await p.exited, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli refuses to start without --allow-ffi, saying why", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      new URL("../../main.ts", import.meta.url).pathname,
      "--listen",
      "127.0.0.1:0",
      "--server",
      "127.0.0.1:1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 2);
  assert.match(dec.decode(r.stderr), /--allow-ffi/);
});
