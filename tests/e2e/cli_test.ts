/**
 * The command line as a user runs it: flags, ready line, logs, signals, exit
 * codes, and one-line errors without stack traces.
 */
import assert from "node:assert/strict";
import { runCli, runCliToEnd } from "../helpers/cli.ts";
import { echoScript, readAll, readN, sleep, upstream, writeAll } from "../helpers/net.ts";
import { withTempDir } from "../helpers/temp_dir.ts";

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
    /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] main app\/srv1 0\/\d+\/\d+ 7 -- \d+\/\d+\/\d+\/\d+\/0 0\/0$/,
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

Deno.test("cli: -c lists every error of every file, in file and line order, as file:line: message", async () => {
  await withTempDir(async (dir) => {
    const a = `${dir}/a.cfg`, b = `${dir}/b.cfg`;
    await Deno.writeTextFile(a, "global\n  maxconn 0\n  daemon\n  bogus\n");
    await Deno.writeTextFile(
      b,
      [
        "frontend fe",
        "  mode http",
        "  bind 127.0.0.1:0",
        "  default_backend nope",
        "backend be",
        "  mode http",
        "  server s1 127.0.0.1:1 wieght 3",
      ].join("\n"),
    );
    const r = await runCliToEnd(["-c", "-f", a, "-f", b]);
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(r.err.split("\n").map((l) => l.replace(/^(.*?:\d+: (warning: )?).*/, "$1")), [
      `${a}:2: `,
      `${a}:3: warning: `,
      `${a}:4: `,
      `${b}:4: `,
      `${b}:7: `,
      `sluice: ${a}, ${b}: 4 errors, 1 warning`,
    ]);
    assert.match(r.err, new RegExp(`${b}:4: no backend named "nope"`));
    assert.equal(r.out, "");
    // Starting with the same files reports the same, and exits 2.
    const run = await runCliToEnd(["-f", a, "-f", b]);
    assert.equal(run.code, 2);
    assert.equal(run.err, r.err);
  });
});

Deno.test("cli: process-management keywords load with one warning each; -V lists what loaded", async () => {
  await withTempDir(async (dir) => {
    const cfg = `${dir}/w.cfg`;
    await Deno.writeTextFile(
      cfg,
      [
        "global",
        "  daemon",
        "  master-worker",
        "  user sluice",
        "  group sluice",
        "  chroot /var/empty",
        "  tune.ssl.default-dh-param 2048",
        `  stats socket ${dir}/admin.sock expose-fd listeners`,
        "  stats timeout 1m",
        "defaults",
        "  mode tcp",
        "listen l",
        "  bind 127.0.0.1:0",
        "  server s 127.0.0.1:1",
      ].join("\n"),
    );
    const r = await runCliToEnd(["-c", "-V", "-f", cfg]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /configuration .* is valid/);
    const lines = r.err.split("\n");
    assert.equal(lines[0], `sluice: reading ${cfg}`);
    const warnings = lines.filter((l) => l.includes(": warning: "));
    assert.deepEqual(
      warnings.map((l) => l.split(": warning: ")[0]),
      [2, 3, 4, 5, 6, 7, 8].map((n) => `${cfg}:${n}`),
    );
    assert.match(warnings[2], /run it as user "sluice" from the service manager .*--allow-net/);
    assert.deepEqual(lines.slice(-3), [
      `sluice: frontend l (${cfg}:12): tcp, listens on 127.0.0.1:0, default_backend l`,
      `sluice: backend l (${cfg}:12): tcp, balance roundrobin, 1 server`,
      "sluice: loaded 1 frontend, 1 backend, 1 server, 7 warnings",
    ]);
  });
});

Deno.test("cli: -p writes the pidfile once listening and removes it on SIGTERM; the keyword too", async () => {
  await withTempDir(async (dir) => {
    const cfg = `${dir}/p.cfg`;
    const write = (pidfile: string) =>
      Deno.writeTextFile(
        cfg,
        `global\n${pidfile}defaults\n  mode tcp\nlisten l\n  bind 127.0.0.1:0\n  server s 127.0.0.1:1\n`,
      );
    await write(`  pidfile ${dir}/from-config.pid\n`);
    for (
      const [args, pidfile] of [[["-p", `${dir}/cli.pid`], `${dir}/cli.pid`], [
        [],
        `${dir}/from-config.pid`,
      ]] as const
    ) {
      const p = runCli(["-f", cfg, ...args]);
      await p.waitLine(/ready/);
      assert.equal(await Deno.readTextFile(pidfile), `${p.child.pid}\n`);
      p.kill("SIGTERM");
      assert.equal(await p.exited, 0);
      await assert.rejects(() => Deno.stat(pidfile), Deno.errors.NotFound);
    }
    // -p wins over the keyword: the configuration's file is not written.
    await assert.rejects(() => Deno.stat(`${dir}/from-config.pid`), Deno.errors.NotFound);
    // A pidfile that cannot be written: nothing starts.
    const r = await runCliToEnd(["-f", cfg, "-p", `${dir}/no/such/dir/x.pid`]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^sluice: Cannot write the pidfile ".*x\.pid": No such file/m);
    assert.ok(!r.out.includes("ready"));
  });
});

Deno.test("cli: -f DIR loads its *.cfg files in name order", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/20-be.cfg`, "backend be\n  mode tcp\n  bogus\n");
    await Deno.writeTextFile(
      `${dir}/10-fe.cfg`,
      "defaults\n  mode tcp\nfrontend fe\n  bind 127.0.0.1:0\n  default_backend be\n  what\n",
    );
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a configuration\n");
    const r = await runCliToEnd(["-c", "-f", dir]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err.split("\n").map((l) => l.split(": ")[0]), [
      `${dir}/10-fe.cfg:6`,
      `${dir}/20-be.cfg:3`,
      "sluice",
    ]);
    await Deno.writeTextFile(
      `${dir}/20-be.cfg`,
      "backend be\n  mode tcp\n  server s 127.0.0.1:1\n",
    );
    await Deno.writeTextFile(
      `${dir}/10-fe.cfg`,
      "defaults\n  mode tcp\nfrontend fe\n  bind 127.0.0.1:0\n  default_backend be\n",
    );
    const ok = await runCliToEnd(["-c", "-f", dir]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /is valid/);
  });
});

Deno.test("cli: -c is --check, -v and -vv print the version, -sf PID is refused", async () => {
  const c = await runCliToEnd(["-c", "-f", `${EXAMPLES}tcp-lb.cfg`]);
  assert.equal(c.code, 0, c.err);
  const v = await runCliToEnd(["-v"]);
  assert.equal(v.code, 0);
  assert.match(v.out, /^sluice \d+\.\d+\.\d+ \(deno [^)]+\)$/);
  const vv = await runCliToEnd(["-vv"]);
  assert.match(vv.out, /^sluice .*\nruntime: deno .*, v8 .*, typescript .*\nplatform: \S+$/);
  const sf = await runCliToEnd(["-f", `${EXAMPLES}tcp-lb.cfg`, "-sf", "1"]);
  assert.equal(sf.code, 2);
  assert.match(sf.err, /^sluice: -sf 1: sluice reloads in place .*kill -HUP 1/);
  const d = await runCliToEnd(["-c", "-D", "-f", `${EXAMPLES}tcp-lb.cfg`]);
  assert.equal(d.code, 0);
  assert.match(d.err, /^sluice: warning: -D: sluice stays in the foreground/);
});
