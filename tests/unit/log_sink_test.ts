/**
 * LogSink: one contract for every destination (a file, syslog over UDP,
 * syslog over a unix datagram socket), then what only unix syslog sockets
 * do: the exact RFC 5424 bytes, a private bound socket removed on close, a
 * missing socket, and a daemon that stopped reading.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { tmpdir } from "node:os";
import { hostName, LogSink } from "../../lib/log/sink.ts";
import type { LogTarget } from "../../lib/log/sink_types.ts";
import { sleep, waitFor } from "../helpers/net.ts";
import { unixDgramReceiver } from "../helpers/unix_dgram.ts";

const ENC = new TextEncoder();
const DEC = new TextDecoder();
/** Lines with a space, a non-ASCII letter and a quote, as access logs have. */
const LINES = ['GET "/a b" 200', "naïve café ✓", "three"];

/**
 * The line inside one RFC 5424 message, after checking every byte of it:
 * `<PRI>1 TIMESTAMP HOST sluice PID - - LINE`, the timestamp an ISO date
 * between `t0` and now.
 */
function unframe(bytes: Uint8Array, pri: number, t0: number): string {
  const text = DEC.decode(bytes);
  const m = /^<\d+>1 (\S+) /.exec(text);
  assert.ok(m !== null, `not an RFC 5424 message: ${text}`);
  const time = Date.parse(m[1]);
  assert.equal(new Date(time).toISOString(), m[1]);
  assert.ok(time >= t0 - 1 && time <= Date.now() + 1, `timestamp ${m[1]}`);
  const head = `<${pri}>1 ${m[1]} ${hostName()} sluice ${Deno.pid} - - `;
  assert.ok(text.startsWith(head), `expected "${head}…", got "${text}"`);
  const line = text.slice(head.length);
  assert.deepEqual(bytes, ENC.encode(head + line));
  return line;
}

/** A destination under test and what reached it. */
interface Dest extends AsyncDisposable {
  target: LogTarget;
  /** The first `n` lines that arrived (waiting for them), unframed. */
  received(n: number): Promise<string[]>;
}

const DESTS: [string, (dir: string, t0: number) => Promise<Dest>][] = [
  ["a file", (dir) => {
    const file = `${dir}/access.log`;
    return Promise.resolve({
      target: { file },
      async received(n) {
        let lines: string[] = [];
        await waitFor(() => {
          lines = Deno.readTextFileSync(file).split("\n").slice(0, -1);
          return lines.length >= n;
        });
        return lines.slice(0, n);
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    });
  }],
  ["syslog over UDP", async (_dir, t0) => {
    const sock = dgram.createSocket("udp4");
    const got: Uint8Array[] = [];
    sock.on("message", (m) => got.push(new Uint8Array(m)));
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const port = (sock.address() as { port: number }).port;
    return {
      // local2 (18) * 8 + info (6) = 150.
      target: { syslog: "udp", host: "127.0.0.1", port, facility: 18 },
      async received(n) {
        await waitFor(() => got.length >= n);
        return got.slice(0, n).map((b) => unframe(b, 150, t0));
      },
      [Symbol.asyncDispose]: () => new Promise<void>((r) => sock.close(() => r())),
    };
  }],
  ["syslog over a unix socket", (dir, t0) => {
    const rx = unixDgramReceiver(`${dir}/log.sock`);
    return Promise.resolve({
      target: { syslog: "unix", path: rx.path, facility: 18 },
      async received(n) {
        await rx.waitCount(n);
        return rx.got.slice(0, n).map((d) => unframe(d.bytes, 150, t0));
      },
      [Symbol.asyncDispose]: () => rx.close(),
    });
  }],
];

for (const [name, open] of DESTS) {
  Deno.test(`LogSink to ${name}: every line arrives once, in order, and is counted`, async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const t0 = Date.now();
      await using dest = await open(dir, t0);
      const sink = new LogSink(dest.target, 1 << 20);
      for (const l of LINES) sink.write(l);
      await sink.drain();
      assert.deepEqual(await dest.received(LINES.length), LINES);
      assert.equal(sink.lines, 3);
      assert.equal(sink.dropped, 0);
      await sink.close();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });

  Deno.test(`LogSink to ${name}: lines past the queue's byte budget are dropped and counted`, async () => {
    const dir = Deno.makeTempDirSync();
    try {
      await using dest = await open(dir, Date.now());
      // 10 lines of 99 bytes (100 with the newline) fit in 1000 bytes. A
      // syslog output takes the first line off the queue at once, for the
      // first send; a file's batch is written after the turn (all 10 then).
      const sink = new LogSink(dest.target, 1000);
      const lines = Array.from({ length: 30 }, (_, i) => `${i}`.padEnd(99, "."));
      for (const l of lines) sink.write(l);
      const kept = name === "a file" ? 10 : 11;
      assert.equal(sink.lines, kept);
      assert.equal(sink.dropped, 30 - kept);
      await sink.drain();
      assert.deepEqual(await dest.received(kept), lines.slice(0, kept));
      await sink.close();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("LogSink to a unix socket binds its own socket in a private directory, removed on close", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await using rx = unixDgramReceiver(`${dir}/log.sock`);
    const sink = new LogSink({ syslog: "unix", path: rx.path, facility: 16 }, 1 << 20);
    sink.write("hello");
    await rx.waitCount(1);
    // local0 (16) * 8 + info (6) = 134.
    assert.equal(unframe(rx.got[0].bytes, 134, 0), "hello");
    const from = rx.got[0].from;
    assert.match(from, /\/sluice-syslog-[^/]+\/log\.sock$/);
    const priv = from.slice(0, from.lastIndexOf("/"));
    assert.equal(Deno.statSync(priv).mode! & 0o777, 0o700);
    await sink.close();
    assert.throws(() => Deno.statSync(priv), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("LogSink to a unix socket creates nothing until the first line", async () => {
  const mine = () =>
    [...Deno.readDirSync(tmpdir())].filter((e) => e.name.startsWith("sluice-syslog-"))
      .map((e) => e.name).sort();
  const before = mine();
  const sink = new LogSink({ syslog: "unix", path: "/nonexistent/log.sock", facility: 16 }, 100);
  assert.deepEqual(mine(), before);
  await sink.close();
});

for (
  const [what, make, why] of [
    ["a missing socket", () => null, /No such file or directory/],
    [
      "a stream socket",
      (path: string) => Deno.listen({ transport: "unix", path }),
      /Protocol wrong type for socket/,
    ],
  ] as const
) {
  Deno.test(`LogSink to ${what}: lines are dropped and counted, reported once, then sent when a daemon listens`, async () => {
    const dir = Deno.makeTempDirSync();
    const path = `${dir}/log.sock`;
    const listener = make(path);
    const reports: string[] = [];
    const sink = new LogSink({ syslog: "unix", path, facility: 16 }, 1 << 20, {
      report: (m) => reports.push(m),
    });
    try {
      for (const l of LINES) sink.write(l);
      await sink.drain();
      assert.equal(sink.lines, 3);
      assert.equal(sink.dropped, 3);
      assert.equal(reports.length, 1);
      assert.match(reports[0], new RegExp(`^Cannot send logs to unix syslog socket "${path}": `));
      assert.match(reports[0], why);
      assert.match(reports[0], /; log lines are dropped \(and counted\) while it fails$/);
      // The daemon (re)starts: the next line goes through.
      listener?.close();
      await using rx = unixDgramReceiver(path);
      sink.write("back");
      await rx.waitCount(1);
      assert.equal(unframe(rx.got[0].bytes, 134, 0), "back");
      assert.equal(sink.dropped, 3);
      assert.equal(reports.length, 1);
    } finally {
      await sink.close();
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test({
  name: "LogSink to /dev/log without --allow-all reports Deno's rule and a socket that works",
  // With --allow-all the send reaches /dev/log (or finds no daemon there).
  // The test task grants neither sys nor all; -A grants both.
  ignore: Deno.permissions.querySync({ name: "sys" }).state === "granted",
  async fn() {
    const reports: string[] = [];
    const sink = new LogSink({ syslog: "unix", path: "/dev/log", facility: 16 }, 1 << 20, {
      report: (m) => reports.push(m),
    });
    sink.write("x");
    await sink.drain();
    assert.equal(sink.dropped, 1);
    assert.equal(reports.length, 1);
    assert.match(
      reports[0],
      /^Cannot send logs to unix syslog socket "\/dev\/log": Requires all access to "\/dev\/log".* \(Deno reaches sockets under \/dev only with --allow-all; use the daemon's socket outside \/dev, such as \/run\/systemd\/journal\/dev-log\); log lines are dropped \(and counted\) while it fails$/,
    );
    await sink.close();
  },
});

Deno.test("LogSink to a unix socket that cannot bind its own end drops every line and reports once", async () => {
  const dir = Deno.makeTempDirSync();
  const saved = Deno.env.get("TMPDIR");
  // The private directory goes under TMPDIR: one that does not exist fails.
  Deno.env.set("TMPDIR", `${dir}/missing`);
  try {
    await using rx = unixDgramReceiver(`${dir}/log.sock`);
    const reports: string[] = [];
    const sink = new LogSink({ syslog: "unix", path: rx.path, facility: 16 }, 1 << 20, {
      report: (m) => reports.push(m),
    });
    for (const l of LINES) sink.write(l);
    await sink.drain();
    assert.equal(sink.dropped, 3);
    assert.deepEqual(rx.got, []);
    assert.equal(reports.length, 1);
    assert.match(reports[0], /^Cannot send logs to unix syslog socket ".*": cannot bind a local /);
    await sink.close();
  } finally {
    if (saved === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", saved);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("LogSink to a unix socket whose daemon stopped reading: bounded queue, close waits at most closeWaitMs", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await using rx = unixDgramReceiver(`${dir}/log.sock`, { paused: true });
    // The kernel queues max_dgram_qlen + 1 datagrams for a receiver that does
    // not read; a send beyond that waits (and Deno cannot cancel it).
    let qlen = 10;
    try {
      qlen = Number(Deno.readTextFileSync("/proc/sys/net/unix/max_dgram_qlen"));
    } catch {
      // Not Linux: keep the usual value.
    }
    const n = qlen + 20;
    const lines = Array.from({ length: n + 50 }, (_, i) => `line ${i}`.padEnd(99, "."));
    const sink = new LogSink({ syslog: "unix", path: rx.path, facility: 16 }, n * 100, {
      closeWaitMs: 50,
    });
    for (const l of lines) sink.write(l);
    // One line left the queue at once; n more fit in the budget.
    assert.equal(sink.lines, n + 1);
    assert.equal(sink.dropped, 49);
    await sleep(50);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      sink.close().then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    clearTimeout(timer);
    assert.ok(closed, "close() waited for a send that cannot complete");
    // What had not been sent at close is counted as dropped: all but the
    // datagrams in the kernel's queue and the one send in flight.
    const sent = lines.length - sink.dropped;
    assert.ok(sent >= 2 && sent <= n, `${sent} sent or in flight`);
    // The daemon reads again: the send in flight completes. Nothing is lost
    // uncounted.
    rx.resume();
    await rx.waitCount(sent);
    await sink.drain();
    assert.equal(rx.got.length + sink.dropped, lines.length);
    rx.got.forEach((d, i) => assert.equal(unframe(d.bytes, 134, 0), lines[i]));
    // Later lines are dropped.
    sink.write("late");
    assert.equal(rx.got.length + sink.dropped, lines.length + 1);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("LogSink to a unix socket needs Deno's unstable net API, and says so", async () => {
  const script = `
    import { LogSink } from ${
    JSON.stringify(new URL("../../lib/log/sink.ts", import.meta.url).href)
  };
    try {
      new LogSink({ syslog: "unix", path: "/dev/log", facility: 16 }, 1000);
    } catch (err) {
      console.log(err.code + " " + err.message);
    }`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(DEC.decode(r.stderr), "");
  assert.equal(
    DEC.decode(r.stdout).trim(),
    'ERR_CONFIG Cannot log to unix syslog socket "/dev/log": Deno\'s unstable net API is off ' +
      '(run Deno with --unstable-net, or "unstable": ["net"] in deno.json)',
  );
});
