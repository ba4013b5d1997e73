/**
 * The command line as a user runs it: flags, ready line, logs, signals, exit
 * codes, and one-line errors without stack traces.
 */
import assert from "node:assert/strict";
import { runCli, runCliToEnd } from "../helpers/cli.ts";
import { echoScript, readAll, readN, sleep, upstream, writeAll } from "../helpers/net.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

Deno.test("cli --help prints the usage and exits 0", async () => {
  const r = await runCliToEnd(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: sluice/);
  for (const flag of ["--listen", "--server", "--timeout", "--maxconn", "--retries", "--grace"]) {
    assert.ok(r.out.includes(flag), `usage lacks ${flag}`);
  }
});

Deno.test("cli --version prints the version and exits 0", async () => {
  const r = await runCliToEnd(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^sluice \d+\.\d+\.\d+ \(deno /);
});

for (
  const [what, args, msg] of [
    ["an unknown flag", ["--bogus"], /Unknown option '--bogus'/],
    ["a bad address", ["--listen", "1.2.3:80", "--server", "127.0.0.1:1"], /invalid IPv4/],
    [
      "a bad duration",
      ["--listen", ":0", "--server", "127.0.0.1:1", "--timeout", "client=5x"],
      /unknown unit "x"/,
    ],
    [
      "an unknown timeout",
      ["--listen", ":0", "--server", "127.0.0.1:1", "--timeout", "nap=5s"],
      /NAME=DURATION/,
    ],
    ["an unreadable certificate", [
      "--listen",
      ":0",
      "--tls-cert",
      "/nonexistent.pem",
      "--tls-key",
      "/nonexistent.key",
      "--server",
      "127.0.0.1:1",
    ], /Cannot read --tls-cert file/],
    ["a missing server", ["--listen", "127.0.0.1:0"], /--server is needed/],
  ] as [string, string[], RegExp][]
) {
  Deno.test(`cli rejects ${what} with one line on stderr and exit 2`, async () => {
    const r = await runCliToEnd(args);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, msg);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.ok(!r.err.includes("    at "), "stack trace printed");
  });
}

Deno.test("cli rejects a key that does not match the certificate with exit 2", async () => {
  const r = await runCliToEnd([
    "--listen",
    "127.0.0.1:0",
    "--tls-cert",
    `${FIXTURES}server.crt`,
    "--tls-key",
    `${FIXTURES}ca.crt`,
    "--server",
    "127.0.0.1:1",
  ]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^sluice: /);
  assert.equal(r.err.trim().split("\n").length, 1, r.err);
});

Deno.test("cli exits 1 with one line when the address is in use", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const r = await runCliToEnd(["--listen", `127.0.0.1:${port}`, "--server", "127.0.0.1:1"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /Cannot listen on "127\.0\.0\.1:\d+": address already in use/);
  } finally {
    taken.close();
  }
});

Deno.test("cli proxies, logs one tcplog line per connection, and exits 0 on SIGTERM", async () => {
  await using up = upstream(echoScript);
  await using p = runCli([
    "--mode",
    "tcp",
    "--listen",
    "127.0.0.1:0",
    "--server",
    up.address,
    "--timeout",
    "connect=2s",
    "--timeout",
    "client=30s",
    "--timeout",
    "server=30s",
    "--timeout",
    "tunnel=1h",
    "--maxconn",
    "100",
    "--retries",
    "2",
  ]);
  const ready = await p.waitLine(/ready/);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(ready)![1]);
  assert.ok(port > 0);
  const conn = await Deno.connect({ port });
  await writeAll(conn, new TextEncoder().encode("via cli"));
  await conn.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(conn)), "via cli");
  conn.close();
  const log = await p.waitLine(/ main app\/srv1 /);
  assert.match(
    log,
    /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] main app\/srv1 0\/\d+\/\d+ 7 7 -- \d+\/\d+\/\d+\/\d+\/0 0\/0$/,
  );
  p.kill("SIGTERM");
  assert.equal(await p.exited, 0);
});

Deno.test("cli under --log-format json prints the ready line as a JSON event listing every listener, stats included", async () => {
  await using up = upstream(echoScript);
  await using p = runCli([
    "--mode",
    "tcp",
    "--listen",
    "127.0.0.1:0",
    "--server",
    up.address,
    "--stats",
    "127.0.0.1:0",
    "--log-format",
    "json",
    "--timeout",
    "client=30",
  ]);
  const ev = JSON.parse(await p.waitLine(/"event":"ready"/));
  assert.equal(ev.type, "event");
  assert.match(ev.message, /^sluice \d+\.\d+\.\d+ ready, listening on 127\.0\.0\.1:\d+$/);
  assert.equal(ev.listeners.length, 2);
  const [fe, stats] = ev.listeners;
  assert.equal(fe.kind, "frontend");
  assert.equal(fe.name, "main");
  assert.ok(fe.port > 0 && fe.address === `127.0.0.1:${fe.port}`);
  assert.equal(stats.kind, "stats");
  assert.ok(stats.port > 0 && stats.address === `127.0.0.1:${stats.port}`);
  const res = await fetch(`http://127.0.0.1:${stats.port}/;json`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  // The unit-less timeout was accepted, with a warning on stderr.
  assert.ok(
    p.err.some((l) => l.startsWith("sluice: warning: --timeout client=30 is 30 ms")),
    p.err.join("\n"),
  );
  p.kill("SIGTERM");
  assert.equal(await p.exited, 0);
});

Deno.test("cli on SIGINT lets a live connection finish within --grace, then exits 0", async () => {
  await using up = upstream(echoScript);
  await using p = runCli([
    "--mode",
    "tcp",
    "--listen",
    "127.0.0.1:0",
    "--server",
    up.address,
    "--grace",
    "400ms",
  ]);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
  const conn = await Deno.connect({ port });
  await writeAll(conn, new TextEncoder().encode("a"));
  assert.equal(new TextDecoder().decode(await readN(conn, 1)), "a");
  p.kill("SIGINT");
  await sleep(100);
  await writeAll(conn, new TextEncoder().encode("b"));
  assert.equal(new TextDecoder().decode(await readN(conn, 1)), "b");
  assert.equal(await p.exited, 0);
  assert.equal((await readAll(conn)).length, 0);
  conn.close();
  assert.ok(p.out.some((l) => / KD /.test(l)), p.out.join("\n"));
});

Deno.test("cli demo proxies HTTP to the built-in page, and --mode tcp to an echo server", async () => {
  let free = true;
  try {
    Deno.listen({ hostname: "127.0.0.1", port: 8080 }).close();
  } catch {
    free = false;
  }
  if (!free) {
    console.log("skipped: port 8080 is in use, the demo needs it");
    return;
  }
  {
    await using p = runCli([]);
    await p.waitLine(/demo: proxying http:\/\/127\.0\.0\.1:8080\//);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: 8080 });
    await writeAll(
      conn,
      new TextEncoder().encode("GET /demo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    const text = new TextDecoder().decode(await readAll(conn));
    conn.close();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /hello from the sluice demo/);
    assert.match(text, /x-forwarded-for: 127\.0\.0\.1/);
    await p.waitLine(/ main app\/demo .* 200 .*"GET \/demo HTTP\/1\.1"$/);
    p.kill("SIGTERM");
    assert.equal(await p.exited, 0);
  }
  {
    await using p = runCli(["--mode", "tcp"]);
    await p.waitLine(/demo: relaying 127\.0\.0\.1:8080/);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: 8080 });
    await writeAll(conn, new TextEncoder().encode("echo?"));
    await conn.closeWrite();
    assert.equal(new TextDecoder().decode(await readAll(conn)), "echo?");
    conn.close();
    p.kill("SIGTERM");
    assert.equal(await p.exited, 0);
  }
});

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;

Deno.test("cli: --check accepts every example configuration and exits 0", async () => {
  const files = [...Deno.readDirSync(EXAMPLES)].map((e) => e.name).filter((n) =>
    n.endsWith(".cfg")
  );
  assert.ok(files.length >= 4, files.join(", "));
  for (const f of files) {
    const r = await runCliToEnd(["-f", `${EXAMPLES}${f}`, "--check"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /configuration .* is valid/);
  }
});

Deno.test("cli: --check names file:line and keyword of an unsupported keyword, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/bad.cfg`;
    await Deno.writeTextFile(
      cfg,
      "frontend fe\n    bind 127.0.0.1:0\n    default_backend be\n\nbackend be\n    mode tcp\n    server s1 127.0.0.1:1 wieght 3\n",
    );
    const r = await runCliToEnd(["-f", cfg, "--check"]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`${cfg}:7: .*"server wieght"`));
    // Without --check the same file is bad input: exit 2.
    const run = await runCliToEnd(["-f", cfg]);
    assert.equal(run.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: -f cannot be mixed with flags that build a configuration", async () => {
  const r = await runCliToEnd(["-f", `${EXAMPLES}tcp-lb.cfg`, "--listen", ":0"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--listen cannot be combined with -f/);
});

Deno.test("cli: -f runs a configuration file with \${ENV} expansion", async () => {
  await using up = upstream(echoScript);
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/tcp.cfg`;
    await Deno.writeTextFile(
      cfg,
      [
        "defaults",
        "    mode tcp",
        "    timeout connect 2s",
        "listen echo",
        '    bind "127.0.0.1:${PORT-0}"',
        `    server s1 ${up.address} check inter 1s`,
      ].join("\n") + "\n",
    );
    await using p = runCli(["-f", cfg]);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
    const conn = await Deno.connect({ port });
    await writeAll(conn, new TextEncoder().encode("from a file"));
    assert.equal(new TextDecoder().decode(await readN(conn, 11)), "from a file");
    conn.close();
    p.kill("SIGTERM");
    assert.equal(await p.exited, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: SIGHUP reloads the configuration files; a broken file keeps the old one", async () => {
  await using a = upstream(async (c) => {
    await writeAll(c, new TextEncoder().encode("A"));
  });
  await using b = upstream(async (c) => {
    await writeAll(c, new TextEncoder().encode("B"));
  });
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/r.cfg`;
    const write = (server: string, extra = "") =>
      Deno.writeTextFile(
        cfg,
        `defaults\n    mode tcp\nlisten l\n    bind 127.0.0.1:0\n    server s ${server}\n${extra}`,
      );
    await write(a.address);
    await using p = runCli(["-f", cfg]);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
    const first = async () => {
      const c = await Deno.connect({ port });
      const r = new TextDecoder().decode(await readN(c, 1));
      c.close();
      return r;
    };
    assert.equal(await first(), "A");
    await write(b.address);
    p.kill("SIGHUP");
    await p.waitLine(/reloaded/);
    assert.equal(await first(), "B");
    await write(b.address, "    bogus keyword\n");
    p.kill("SIGHUP");
    await sleep(300);
    assert.ok(p.err.some((l) => /reload failed, still running the previous configuration/.test(l)));
    assert.equal(await first(), "B");
    p.kill("SIGTERM");
    assert.equal(await p.exited, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
