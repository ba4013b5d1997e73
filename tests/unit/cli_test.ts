/**
 * parseCli(): the command line as a shorthand for a configuration object.
 */
import assert from "node:assert/strict";
import { parseCli, USAGE } from "../../lib/cfg/cli.ts";
import {
  CLI_EXAMPLES,
  CLI_FLAGS,
  CLI_GROUPS,
  type CliFlagDef,
  cliSuggest,
  DEMO_LISTEN,
} from "../../lib/cfg/cli_flags.ts";
import { cliReadyLine } from "../../lib/cfg/cli_ready.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { loadConfigFiles } from "../../lib/cfg/config_load.ts";
import type { SluiceConfig } from "../../lib/cfg/config_types.ts";
import { SluiceError, type SluiceErrorCode } from "../../lib/core/errors.ts";

const FIXTURES = `${import.meta.dirname}/../fixtures`;
const CERT = `${FIXTURES}/server.crt`;
const KEY = `${FIXTURES}/server.key`;
const CA = `${FIXTURES}/ca.crt`;
const CERT_PEM = Deno.readTextFileSync(CERT);
const KEY_PEM = Deno.readTextFileSync(KEY);
const CA_PEM = Deno.readTextFileSync(CA);

/** Parses a command line expected to run, and returns its configuration. */
function run(...args: string[]): SluiceConfig {
  const action = parseCli(args);
  assert.equal(action.kind, "run");
  return (action as { config: SluiceConfig }).config;
}

/** A minimal valid command line plus `args`. */
function runWith(...args: string[]): SluiceConfig {
  return run("--listen", "127.0.0.1:0", "--server", "127.0.0.1:9000", ...args);
}

/** Asserts that `args` fail with `code` and a message matching `re`. */
function rejects(args: string[], code: SluiceErrorCode, re: RegExp): void {
  assert.throws(
    () => parseCli(args),
    (err: unknown) => {
      assert.ok(err instanceof SluiceError, `a SluiceError, got ${err}`);
      assert.equal(err.code, code, err.message);
      assert.match(err.message, re);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    },
    `parseCli(${JSON.stringify(args)}) should throw`,
  );
}

Deno.test("parseCli() returns help for --help and -h, even with other flags", () => {
  assert.deepEqual(parseCli(["--help"]), { kind: "help" });
  assert.deepEqual(parseCli(["-h"]), { kind: "help" });
  assert.deepEqual(parseCli(["--listen", "127.0.0.1:1", "-h"]), { kind: "help" });
  assert.ok(USAGE.startsWith("Usage: sluice [flags]"));
  for (const flag of ["--listen", "--server", "--timeout", "--tls-cert", "--log-format"]) {
    assert.ok(USAGE.includes(flag), `USAGE documents ${flag}`);
  }
});

Deno.test("parseCli() returns version for --version and -v, with the build for -vv", () => {
  assert.deepEqual(parseCli(["--version"]), { kind: "version" });
  assert.deepEqual(parseCli(["-v"]), { kind: "version" });
  assert.deepEqual(parseCli(["-vv"]), { kind: "version", build: true });
  assert.deepEqual(parseCli(["-v", "--version"]), { kind: "version", build: true });
});

Deno.test("parseCli(): -f loads files (with -c, -p, -V and HAProxy's process flags, nothing else)", () => {
  assert.deepEqual(parseCli(["-f", "a.cfg", "-f", "conf.d"]), {
    kind: "load",
    files: ["a.cfg", "conf.d"],
    check: false,
  });
  assert.deepEqual(parseCli(["-c", "-f", "a.cfg"]), {
    kind: "load",
    files: ["a.cfg"],
    check: true,
  });
  assert.deepEqual(parseCli(["-f", "a.cfg", "-p", "/run/s.pid", "-V"]), {
    kind: "load",
    files: ["a.cfg"],
    check: false,
    pidfile: "/run/s.pid",
    verbose: true,
  });
  rejects(["-f", "a.cfg", "--maxconn", "10"], "ERR_USAGE", /^--maxconn cannot be combined with -f/);
  // -p and -V go with flags too.
  const action = parseCli(["--listen", ":0", "--server", "a:1", "-p", "x.pid", "-V"]);
  assert.equal(action.kind === "run" && action.pidfile, "x.pid");
  assert.equal(action.kind === "run" && action.verbose, true);
  rejects(["-p", "", "-f", "a.cfg"], "ERR_USAGE", /expected a file name/);
});

Deno.test("parseCli(): HAProxy's -D, -W, -Ws, -sf, -st say what sluice does instead", () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const action = parseCli(["-D", "-W", "-Ws", "-f", "a.cfg", "-sf", "-st"], { warn });
  assert.deepEqual(action, { kind: "load", files: ["a.cfg"], check: false });
  assert.equal(warnings.length, 5, warnings.join("\n"));
  assert.match(warnings[0], /^-D: sluice stays in the foreground: run it under a service manager/);
  assert.match(warnings[1], /^-W: sluice is one process that reloads in place \(SIGHUP or SIGUSR2/);
  assert.match(warnings[2], /^-Ws: .*does not notify systemd: use Type=exec/);
  assert.match(warnings[3], /^-sf without a process id: nothing to replace, starting/);
  assert.match(warnings[4], /^-st without a process id/);
  // With process ids, starting would put a second sluice next to the first: refused.
  rejects(
    ["-f", "a.cfg", "-sf", "123", "456"],
    "ERR_USAGE",
    /^-sf 123 456: sluice reloads in place .*send SIGHUP \(or SIGUSR2\) to 123 456 \(kill -HUP 123 456\)/,
  );
  rejects(["-st", "12", "-f", "a.cfg"], "ERR_USAGE", /^-st 12: /);
  rejects(["-sf", "abc", "-f", "a.cfg"], "ERR_USAGE", /Invalid value "abc" for -sf/);
  // The long names work too (they are what --help lists next to HAProxy's spelling).
  assert.equal(parseCli(["--daemon", "-f", "a.cfg"], { warn }).kind, "load");
});

Deno.test("parseCli() with neither --listen nor --server runs the demo", () => {
  const action = parseCli([]);
  assert.equal(action.kind, "demo");
  if (action.kind !== "demo") return;
  assert.equal(action.listen, DEMO_LISTEN);
  assert.equal(DEMO_LISTEN, "127.0.0.1:8080");
  assert.deepEqual(action.config.frontends[0].binds, [{ address: DEMO_LISTEN }]);
  assert.deepEqual(action.config.backends[0].servers, [], "the demo server is added by main");
  assert.equal(action.mode, "http");
  const tcp = parseCli(["--mode", "tcp"]);
  assert.equal(tcp.kind === "demo" && tcp.mode, "tcp");
  const tuned = parseCli(["--maxconn", "10", "--log", "none"]);
  assert.equal(tuned.kind, "demo", "other flags keep the demo");
});

Deno.test("parseCli() builds one frontend and one backend from --listen and --server", () => {
  const cfg = runWith();
  assert.deepEqual(cfg, {
    global: { log: { target: "stdout", format: "httplog" } },
    frontends: [{
      name: "main",
      mode: "http",
      binds: [{ address: "127.0.0.1:0" }],
      maxconn: undefined,
      timeouts: { client: undefined, httpRequest: undefined, httpKeepAlive: undefined },
      http: { forwardFor: true, forwardedProto: true, forwarded: false, errorFiles: {} },
      defaultBackend: "app",
    }],
    backends: [{
      name: "app",
      mode: "http",
      balance: "roundrobin",
      retries: undefined,
      redispatch: undefined,
      httpReuse: undefined,
      cookie: undefined,
      stickSource: undefined,
      timeouts: { connect: undefined, server: undefined, tunnel: undefined, queue: undefined },
      servers: [{ name: "srv1", address: "127.0.0.1:9000" }],
    }],
  });
  // What the CLI builds is a valid configuration.
  const r = resolveConfig(cfg);
  assert.equal(r.frontends[0].backend, "app");
});

Deno.test("parseCli() names repeated --server srv1..srvN in order", () => {
  const cfg = run(
    "--listen",
    ":8080",
    "--server",
    "10.0.0.1:80",
    "--server",
    "[::1]:80",
    "--server=unix:/tmp/s.sock",
  );
  assert.deepEqual(cfg.backends[0].servers, [
    { name: "srv1", address: "10.0.0.1:80" },
    { name: "srv2", address: "[::1]:80" },
    { name: "srv3", address: "unix:/tmp/s.sock" },
  ]);
});

Deno.test("parseCli() keeps every --listen in order", () => {
  const cfg = run("--listen", ":1", "--listen", "[::1]:2", "--server", "a:1");
  assert.deepEqual(cfg.frontends[0].binds, [{ address: ":1" }, { address: "[::1]:2" }]);
});

Deno.test("parseCli() puts --timeout client in the frontend and the others in the backend", () => {
  const cfg = runWith(
    "--timeout",
    "client=1s",
    "--timeout",
    "connect=250ms",
    "--timeout",
    "server=2m",
    "--timeout",
    "tunnel=1h",
    "--timeout",
    "queue=3s",
    "--timeout",
    "http-request=4s",
    "--timeout",
    "http-keep-alive=500ms",
  );
  assert.deepEqual(cfg.frontends[0].timeouts, {
    client: 1000,
    httpRequest: 4000,
    httpKeepAlive: 500,
  });
  assert.deepEqual(cfg.backends[0].timeouts, {
    connect: 250,
    server: 120_000,
    tunnel: 3_600_000,
    queue: 3000,
  });
});

Deno.test("parseCli() lets a later --timeout of the same name win", () => {
  const cfg = runWith("--timeout", "server=1s", "--timeout", "server=5s");
  assert.equal(cfg.backends[0].timeouts?.server, 5000);
});

Deno.test("parseCli() --maxconn sets both the global and the frontend maxconn", () => {
  const cfg = runWith("--maxconn", "500");
  assert.equal(cfg.global?.maxconn, 500);
  assert.equal(cfg.frontends[0].maxconn, 500);
  assert.equal(resolveConfig(cfg).global.buffers, 1064);
});

Deno.test("parseCli() reads --log, --log-format, --retries, --grace, --bufsize, --buffers", () => {
  const cfg = runWith(
    "--log-format",
    "json",
    "--log",
    "stderr",
    "--retries",
    "0",
    "--grace",
    "2s",
    "--bufsize",
    "4096",
    "--buffers",
    "100",
  );
  assert.deepEqual(cfg.global, {
    graceMs: 2000,
    bufsize: 4096,
    buffers: 100,
    log: { target: "stderr", format: "json" },
  });
  assert.equal(cfg.backends[0].retries, 0);
});

Deno.test("parseCli() reads --log syslog:HOST:PORT (UDP) and syslog:/PATH (unix socket)", () => {
  const target = (t: string) => runWith("--log", t).global?.log?.target;
  assert.deepEqual(target("syslog:10.0.0.5:514"), { syslog: "10.0.0.5:514" });
  assert.deepEqual(target("syslog:/dev/log"), { syslog: "unix:/dev/log" });
  // The address syntax of --server works too.
  assert.deepEqual(target("syslog:unix:/dev/log"), { syslog: "unix:/dev/log" });
  assert.deepEqual(
    resolveConfig(runWith("--log", "syslog:/dev/log")).global.log.targets[0].target,
    {
      syslog: "unix",
      path: "/dev/log",
      facility: 16,
    },
  );
  assert.ok(USAGE.includes("syslog:/PATH"), "USAGE documents syslog:/PATH");
});

Deno.test("parseCli() rejects HAProxy's unix@ and bad syslog paths for --log", () => {
  rejects(
    ["--log", "syslog:unix@/dev/log"],
    "ERR_USAGE",
    /^Invalid value "syslog:unix@\/dev\/log" for --log: expected .* or syslog:\/PATH$/,
  );
  rejects(
    ["--log", `syslog:/${"x".repeat(107)}`],
    "ERR_ADDRESS",
    /unix socket path longer than 107 bytes$/,
  );
  rejects(["--log", "syslog:unix:"], "ERR_ADDRESS", /empty or invalid path$/);
});

Deno.test("parseCli() attaches --tls-cert/--tls-key to the --listen they follow", () => {
  const cfg = run(
    "--listen",
    "127.0.0.1:0",
    "--listen",
    "127.0.0.1:8443",
    "--tls-key",
    KEY,
    "--tls-cert",
    CERT,
    "--listen",
    "[::1]:0",
    "--server",
    "127.0.0.1:9000",
  );
  assert.deepEqual(cfg.frontends[0].binds, [
    { address: "127.0.0.1:0" },
    { address: "127.0.0.1:8443", tls: { cert: CERT_PEM, key: KEY_PEM } },
    { address: "[::1]:0" },
  ]);
  assert.deepEqual(resolveConfig(cfg).frontends[0].binds[1].tls, { cert: CERT_PEM, key: KEY_PEM });
});

Deno.test("parseCli() gives tls:// servers --tls-ca, --tls-sni and --tls-verify, others nothing", () => {
  const cfg = run(
    "--listen",
    ":0",
    "--server",
    "tls://127.0.0.1:443",
    "--server",
    "127.0.0.1:80",
    "--tls-ca",
    CA,
    "--tls-sni",
    "localhost",
    "--tls-verify",
    "none",
  );
  assert.deepEqual(cfg.backends[0].servers, [
    {
      name: "srv1",
      address: "tls://127.0.0.1:443",
      tls: { ca: [CA_PEM], sni: "localhost", verify: "none" },
    },
    { name: "srv2", address: "127.0.0.1:80" },
  ]);
  const plain = run("--listen", ":0", "--server", "tls://127.0.0.1:443");
  assert.deepEqual(plain.backends[0].servers[0].tls, {}, "defaults: system CAs, verify");
});

Deno.test("parseCli() rejects unknown flags and positional arguments with ERR_USAGE", () => {
  rejects(["--foo"], "ERR_USAGE", /Unknown option '--foo'$/);
  rejects(["-x"], "ERR_USAGE", /Unknown option '-x'/);
  rejects(["extra"], "ERR_USAGE", /Unexpected argument 'extra'/);
  rejects(["--help=yes"], "ERR_USAGE", /--help/);
});

Deno.test("parseCli() rejects a flag missing its value with ERR_USAGE", () => {
  rejects(["--listen"], "ERR_USAGE", /--listen/);
  rejects(["--server", "a:1", "--listen"], "ERR_USAGE", /argument missing/);
  rejects(["--listen", "--server", "a:1"], "ERR_USAGE", /--listen/);
});

Deno.test("parseCli() rejects --listen without --server and --server without --listen", () => {
  rejects(["--listen", ":8080"], "ERR_USAGE", /^At least one --server is needed$/);
  rejects(["--server", "a:80"], "ERR_USAGE", /^At least one --listen is needed$/);
});

Deno.test("parseCli() rejects --timeout without NAME= or with an unknown name", () => {
  const expected =
    /for --timeout: expected NAME=DURATION with NAME one of connect, client, server, tunnel, queue, http-request, http-keep-alive, check$/;
  rejects(["--timeout", "5s"], "ERR_USAGE", expected);
  rejects(["--timeout", "client"], "ERR_USAGE", /^Invalid value "client" for --timeout/);
  rejects(["--timeout", "idle=5s"], "ERR_USAGE", /^Invalid value "idle=5s" for --timeout/);
  rejects(["--timeout", "=5s"], "ERR_USAGE", expected);
});

Deno.test("parseCli() rejects a --timeout or --grace duration that does not parse with ERR_DURATION", () => {
  rejects(["--timeout", "client=5x"], "ERR_DURATION", /unknown unit "x"/);
  rejects(["--timeout", "client="], "ERR_DURATION", /Cannot parse duration ""/);
  rejects(["--grace", "1.5s"], "ERR_DURATION", /Cannot parse duration "1\.5s"/);
});

Deno.test("parseCli() defaults to --mode http and rejects other modes", () => {
  assert.equal(runWith().frontends[0].mode, "http");
  rejects(["--mode", "udp"], "ERR_USAGE", /^Invalid value "udp" for --mode: expected http or tcp$/);
  assert.equal(runWith("--mode", "tcp").frontends[0].mode, "tcp");
  assert.equal(runWith("--mode", "tcp").global?.log?.format, "tcplog");
});

Deno.test("parseCli() reads HTTP flags: --errorfile, --no-forwardfor, --forwarded, --maxhdr, --max-body", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/503.http`, "HTTP/1.1 503 Busy\r\n\r\n");
    const cfg = runWith(
      "--errorfile",
      `503=${dir}/503.http`,
      "--no-forwardfor",
      "--forwarded",
      "--maxhdr",
      "50",
      "--max-body",
      "1000",
    );
    const h = cfg.frontends[0].http!;
    assert.equal(h.forwardFor, false);
    assert.equal(h.forwardedProto, false);
    assert.equal(h.forwarded, true);
    assert.equal(
      new TextDecoder().decode(h.errorFiles![503] as Uint8Array),
      "HTTP/1.1 503 Busy\r\n\r\n",
    );
    assert.equal(cfg.global?.maxHdrs, 50);
    assert.equal(cfg.global?.maxBody, 1000);
    rejects(["--errorfile", "503"], "ERR_USAGE", /expected CODE=FILE/);
    rejects(["--errorfile", `503=${dir}/nope`], "ERR_USAGE", /Cannot read --errorfile/);
    rejects(
      ["--mode", "tcp", "--errorfile", `503=${dir}/503.http`],
      "ERR_USAGE",
      /needs --mode http/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseCli() rejects bad values of enumerated and numeric flags with ERR_USAGE", () => {
  rejects(
    ["--balance", "leastcon"],
    "ERR_USAGE",
    /for --balance: expected roundrobin, static-rr, leastconn, first, source, uri, url_param PARAM, random or hdr\(NAME\)$/,
  );
  rejects(["--balance", "hdr()"], "ERR_USAGE", /for --balance/);
  rejects(
    ["--log", "syslog"],
    "ERR_USAGE",
    /for --log: expected stdout, stderr, none, file:PATH, syslog:HOST:PORT or syslog:\/PATH$/,
  );
  rejects(
    ["--log-format", "clf"],
    "ERR_USAGE",
    /for --log-format: expected tcplog, httplog or json$/,
  );
  rejects(["--tls-verify", "maybe"], "ERR_USAGE", /for --tls-verify: expected required or none$/);
  rejects(["--maxconn", "0"], "ERR_USAGE", /^Invalid value "0" for --maxconn: expected 1 to/);
  rejects(["--maxconn", "ten"], "ERR_USAGE", /for --maxconn: expected an integer$/);
  rejects(["--maxconn", "-5"], "ERR_USAGE", /--maxconn/);
  rejects(["--retries", "101"], "ERR_USAGE", /for --retries: expected 0 to 100$/);
  rejects(["--bufsize", "1000"], "ERR_USAGE", /for --bufsize: expected 1024 to/);
  rejects(["--buffers", "1"], "ERR_USAGE", /for --buffers: expected 2 to/);
});

Deno.test("parseCli() rejects bad addresses with ERR_ADDRESS", () => {
  rejects(["--listen", "1.2.3:80", "--server", "a:1"], "ERR_ADDRESS", /invalid IPv4/);
  rejects(["--listen", ":1", "--server", "a:0"], "ERR_ADDRESS", /port 0 is only valid/);
  rejects(["--listen", "tls://a:1", "--server", "a:1"], "ERR_ADDRESS", /only valid for servers/);
});

Deno.test("parseCli() rejects --tls-cert or --tls-key before any --listen", () => {
  rejects(
    ["--tls-cert", CERT, "--listen", ":1"],
    "ERR_USAGE",
    /^--tls-cert must follow the --listen it applies to$/,
  );
  rejects(["--tls-key", KEY], "ERR_USAGE", /^--tls-key must follow the --listen/);
});

Deno.test("parseCli() rejects --tls-cert without --tls-key and the reverse", () => {
  rejects(
    ["--listen", ":443", "--tls-cert", CERT, "--server", "a:1"],
    "ERR_USAGE",
    /^--tls-cert without --tls-key for --listen :443$/,
  );
  rejects(
    ["--listen", ":443", "--tls-key", KEY, "--listen", ":444", "--tls-cert", CERT],
    "ERR_USAGE",
    /^--tls-key without --tls-cert for --listen :443$/,
  );
});

Deno.test("parseCli() rejects a second --tls-cert for the same --listen", () => {
  rejects(
    ["--listen", ":443", "--tls-cert", CERT, "--tls-cert", CERT, "--tls-key", KEY],
    "ERR_USAGE",
    /^--tls-cert given twice for one --listen$/,
  );
});

Deno.test("parseCli() rejects TLS on a unix --listen", () => {
  rejects(
    ["--listen", "unix:/tmp/s.sock", "--tls-cert", CERT, "--tls-key", KEY, "--server", "a:1"],
    "ERR_USAGE",
    /^TLS on a unix socket is not supported: --listen unix:\/tmp\/s\.sock$/,
  );
});

Deno.test("parseCli() reports an unreadable or non-PEM certificate file with ERR_TLS", () => {
  const missing = `${FIXTURES}/does-not-exist.crt`;
  rejects(
    ["--listen", ":443", "--tls-cert", missing],
    "ERR_TLS",
    /^Cannot read --tls-cert file ".*does-not-exist\.crt": /,
  );
  rejects(
    ["--listen", ":443", "--tls-cert", CERT, "--tls-key", FIXTURES],
    "ERR_TLS",
    /^Cannot read --tls-key file/,
  );
  rejects(
    ["--listen", ":443", "--tls-cert", `${FIXTURES}/README.md`],
    "ERR_TLS",
    /^Cannot use --tls-cert file ".*README\.md": not a PEM file$/,
  );
  rejects(["--tls-ca", missing], "ERR_TLS", /^Cannot read --tls-ca file/);
});

// -- --server options ----------------------------------------------------------------------

/** The one server of `--server spec` (after a minimal --listen). */
function serverOf(spec: string, ...args: string[]) {
  const cfg = run("--listen", "127.0.0.1:0", "--server", spec, ...args);
  return { cfg, srv: cfg.backends[0].servers[0] };
}

Deno.test("parseCli() reads --server weight, maxconn, maxqueue, backup, slowstart, cookie, name", () => {
  const { cfg, srv } = serverOf(
    "10.0.0.1:80,weight=3,maxconn=10,maxqueue=5,backup,slowstart=2s,cookie=c1,name=web1",
  );
  assert.deepEqual(srv, {
    name: "web1",
    address: "10.0.0.1:80",
    weight: 3,
    maxconn: 10,
    maxqueue: 5,
    backup: true,
    slowstart: 2000,
    cookie: "c1",
  });
  const r = resolveConfig(cfg).backends[0].servers[0];
  assert.deepEqual(
    [r.name, r.weight, r.maxconn, r.maxqueue, r.backup, r.slowstart, r.cookie],
    ["web1", 3, 10, 5, true, 2000, "c1"],
  );
});

Deno.test("parseCli() --server options accept their bounds", () => {
  assert.equal(serverOf("a:1,weight=0").srv.weight, 0);
  assert.equal(serverOf("a:1,weight=256").srv.weight, 256);
  assert.equal(serverOf("a:1,maxconn=0").srv.maxconn, 0);
  assert.equal(serverOf("a:1,maxqueue=1000000").srv.maxqueue, 1_000_000);
  assert.equal(serverOf("a:1,slowstart=0").srv.slowstart, 0);
  assert.equal(serverOf("a:1,slowstart=1m").srv.slowstart, 60_000);
  assert.equal(serverOf("a:1,slowstart=250").srv.slowstart, 250, "no unit: ms");
});

Deno.test("parseCli() --server drain and maint set the admin state; later options win", () => {
  const drain = serverOf("a:1,drain");
  assert.equal(drain.srv.state, "drain");
  assert.equal(resolveConfig(drain.cfg).backends[0].servers[0].state, "drain");
  const maint = serverOf("a:1,maint");
  assert.equal(maint.srv.state, "maint");
  assert.equal(resolveConfig(maint.cfg).backends[0].servers[0].state, "maint");
  assert.equal(serverOf("a:1,disabled").srv.state, "maint", "HAProxy's word for it");
  assert.equal(serverOf("a:1,maint,drain").srv.state, "drain");
  assert.equal(serverOf("a:1").srv.state, undefined);
});

Deno.test("parseCli() --server options apply to their own server only", () => {
  const cfg = run(
    "--listen",
    ":0",
    "--server",
    "a:1,weight=2,backup",
    "--server",
    "b:1",
    "--server",
    "c:1,name=third,check",
  );
  assert.deepEqual(cfg.backends[0].servers, [
    { name: "srv1", address: "a:1", weight: 2, backup: true },
    { name: "srv2", address: "b:1" },
    { name: "third", address: "c:1", check: {} },
  ]);
  resolveConfig(cfg);
});

Deno.test("parseCli() --server check with intervals, rise, fall and port", () => {
  const { cfg, srv } = serverOf(
    "a:1,check,inter=1s,fastinter=500ms,downinter=5s,rise=4,fall=5,port=8081",
  );
  assert.deepEqual(srv.check, {
    inter: 1000,
    fastinter: 500,
    downinter: 5000,
    rise: 4,
    fall: 5,
    port: 8081,
  });
  assert.deepEqual(resolveConfig(cfg).backends[0].servers[0].check, {
    type: "tcp",
    inter: 1000,
    fastinter: 500,
    downinter: 5000,
    rise: 4,
    fall: 5,
    timeout: 1000,
    port: 8081,
  });
  // "check" may come after its options.
  assert.deepEqual(serverOf("a:1,rise=1,check").srv.check, { rise: 1 });
});

Deno.test("parseCli() --server check alone gives a TCP check with the defaults", () => {
  const { cfg, srv } = serverOf("a:1,check");
  assert.deepEqual(srv.check, {});
  const r = resolveConfig(cfg).backends[0].servers[0].check;
  assert.deepEqual([r?.type, r?.inter, r?.rise, r?.fall], ["tcp", 2000, 2, 3]);
});

Deno.test("parseCli() --server check on a tls:// server checks over TLS", () => {
  const { cfg, srv } = serverOf("tls://127.0.0.1:443,check");
  assert.deepEqual(srv.tls, {});
  assert.deepEqual(srv.check, {});
  assert.deepEqual(resolveConfig(cfg).backends[0].servers[0].check?.tls, {
    ca: undefined,
    sni: "127.0.0.1",
    verify: "required",
    verifyHost: true,
  });
});

Deno.test("parseCli() --server observe, error-limit and on-error", () => {
  const { cfg, srv } = serverOf("a:1,check,observe=layer7,error-limit=7,on-error=mark-down");
  assert.deepEqual(srv.observe, { mode: "layer7", errorLimit: 7, onError: "mark-down" });
  assert.deepEqual(resolveConfig(cfg).backends[0].servers[0].observe, {
    layer7: true,
    errorLimit: 7,
    onError: "mark-down",
  });
  assert.deepEqual(serverOf("a:1,check,observe=layer4").srv.observe, { mode: "layer4" });
  // error-limit / on-error alone observe layer 4; a later observe= keeps them.
  assert.deepEqual(serverOf("a:1,check,error-limit=3").srv.observe, {
    mode: "layer4",
    errorLimit: 3,
  });
  assert.deepEqual(serverOf("a:1,check,on-error=fastinter,observe=layer7").srv.observe, {
    mode: "layer7",
    onError: "fastinter",
  });
  for (const onError of ["fail-check", "fastinter", "mark-down"]) {
    assert.equal(
      serverOf(`a:1,check,observe=layer4,on-error=${onError}`).srv.observe?.onError,
      onError,
    );
  }
});

Deno.test("parseCli() rejects an unknown --server option, naming it", () => {
  rejects(
    ["--listen", ":0", "--server", "a:1,wieght=3"],
    "ERR_USAGE",
    /^Invalid option "wieght=3" in --server a:1,wieght=3: unknown option$/,
  );
  rejects(["--listen", ":0", "--server", "a:1,"], "ERR_USAGE", /^Invalid option "" in --server/);
  rejects(["--listen", ":0", "--server", "a:1,ssl"], "ERR_USAGE", /Invalid option "ssl"/);
});

Deno.test("parseCli() rejects bad --server option values with ERR_USAGE naming the option", () => {
  const cases: [string, RegExp][] = [
    ["weight=257", /"weight=257" .*: expected an integer from 0 to 256$/],
    ["weight=-1", /"weight=-1" .*: expected an integer from 0 to 256$/],
    ["weight=", /"weight=" .*: expected an integer/],
    ["weight=1.5", /"weight=1\.5"/],
    ["maxconn=x", /"maxconn=x" .*: expected an integer from 0 to 1000000$/],
    ["maxqueue=1000001", /"maxqueue=1000001"/],
    ["slowstart=2x", /"slowstart=2x" .*: Cannot parse duration "2x": unknown unit "x"$/],
    ["slowstart=", /"slowstart=" .*: Cannot parse duration ""/],
    ["name=a/b", /"name=a\/b" .*: expected a name$/],
    ["name=", /"name=" .*: expected a name$/],
    ["check,inter=fast", /"inter=fast" .*: Cannot parse duration/],
    ["check,fastinter=-1", /"fastinter=-1"/],
    ["check,downinter=1.5s", /"downinter=1\.5s"/],
    ["check,rise=0", /"rise=0" .*: expected an integer from 1 to 1000$/],
    ["check,fall=1001", /"fall=1001" .*: expected an integer from 1 to 1000$/],
    ["check,port=0", /"port=0" .*: expected an integer from 1 to 65535$/],
    ["check,port=65536", /"port=65536"/],
    ["check,observe=layer5", /"observe=layer5" .*: expected layer4 or layer7$/],
    ["check,error-limit=0", /"error-limit=0" .*: expected an integer from 1 to 100000$/],
    ["check,on-error=retry", /"on-error=retry" .*: expected fail-check, fastinter or mark-down$/],
  ];
  for (const [opts, re] of cases) {
    rejects(["--listen", ":0", "--server", `a:1,${opts}`], "ERR_USAGE", re);
  }
});

Deno.test('parseCli() rejects check options on a --server without "check"', () => {
  for (const o of ["inter=1s", "fastinter=1s", "downinter=1s", "rise=2", "fall=2", "port=80"]) {
    rejects(
      ["--listen", ":0", "--server", `a:1,${o}`],
      "ERR_USAGE",
      new RegExp(`^Check options in --server a:1,${o} need "check"$`),
    );
  }
  for (const o of ["observe=layer4", "error-limit=3", "on-error=mark-down"]) {
    rejects(
      ["--listen", ":0", "--server", `a:1,${o}`],
      "ERR_USAGE",
      /^observe needs check on --server a:1$/,
    );
  }
});

// -- --balance, --redispatch -------------------------------------------------------------------

Deno.test("parseCli() --balance accepts every algorithm and hdr(NAME)", () => {
  for (const algo of ["roundrobin", "static-rr", "leastconn", "first", "source", "uri", "random"]) {
    const cfg = runWith("--balance", algo);
    assert.equal(cfg.backends[0].balance, algo);
    assert.deepEqual(resolveConfig(cfg).backends[0].balance, { algo });
  }
  const cfg = runWith("--balance", "hdr(X-User)");
  assert.equal(cfg.backends[0].balance, "hdr(X-User)");
  assert.deepEqual(resolveConfig(cfg).backends[0].balance, { algo: "hdr", hdr: "x-user" });
  for (const algo of ["roundrobin", "leastconn", "source", "first", "random", "static-rr"]) {
    const tcp = runWith("--mode", "tcp", "--balance", algo);
    assert.equal(resolveConfig(tcp).backends[0].balance.algo, algo, `${algo} in TCP mode`);
  }
});

Deno.test("parseCli() rejects bad --balance values and uri/hdr outside HTTP mode", () => {
  for (const bad of ["hdr(a b)", "hdr(X", "hdr", "URI", "round-robin", ""]) {
    rejects(
      ["--listen", ":0", "--server", "a:1", "--balance", bad],
      "ERR_USAGE",
      /for --balance: expected roundrobin, .* or hdr\(NAME\)$/,
    );
  }
  rejects(
    ["--mode", "tcp", "--listen", ":0", "--server", "a:1", "--balance", "uri"],
    "ERR_USAGE",
    /^--balance uri needs --mode http$/,
  );
  rejects(
    ["--mode", "tcp", "--listen", ":0", "--server", "a:1", "--balance", "hdr(Host)"],
    "ERR_USAGE",
    /^--balance hdr\(Host\) needs --mode http$/,
  );
});

Deno.test("parseCli() --redispatch takes -1, 0 or 1 to 100", () => {
  assert.equal(runWith().backends[0].redispatch, undefined);
  assert.equal(resolveConfig(runWith()).backends[0].redispatch, -1, "default: last retry");
  for (const v of ["0", "1", "3", "100"]) {
    const cfg = runWith("--redispatch", v);
    assert.equal(cfg.backends[0].redispatch, Number(v));
    assert.equal(resolveConfig(cfg).backends[0].redispatch, Number(v));
  }
  const cfg = runWith("--redispatch=-1");
  assert.equal(cfg.backends[0].redispatch, -1);
  for (const bad of ["101", "-2", "x", "1.5", ""]) {
    rejects(
      ["--listen", ":0", "--server", "a:1", `--redispatch=${bad}`],
      "ERR_USAGE",
      new RegExp(
        `^Invalid value "${bad.replace(".", "\\.")}" for --redispatch: expected -1, 0 or 1 to 100$`,
      ),
    );
  }
});

// -- HTTP checks ------------------------------------------------------------------------------

Deno.test('parseCli() --httpchk "METHOD PATH" makes the checks HTTP ones', () => {
  const { cfg, srv } = serverOf("a:1,check", "--httpchk", "GET /health");
  assert.deepEqual(srv.check, { type: "http", http: { method: "GET", path: "/health" } });
  const r = resolveConfig(cfg).backends[0].servers[0].check;
  assert.equal(r?.type, "http");
  assert.deepEqual(r?.http, {
    method: "GET",
    path: "/health",
    host: undefined,
    expect: { status: [200, 399], string: undefined },
  });
  const head = serverOf("a:1,check", "--httpchk", "  HEAD   /ping  ").srv;
  assert.deepEqual(head.check?.http, { method: "HEAD", path: "/ping" }, "extra spaces are fine");
});

Deno.test("parseCli() --httpchk PATH alone uses the default method", () => {
  const { cfg, srv } = serverOf("a:1,check", "--httpchk", "/h");
  assert.deepEqual(srv.check, { type: "http", http: { path: "/h" } });
  const r = resolveConfig(cfg).backends[0].servers[0].check;
  assert.deepEqual([r?.http?.method, r?.http?.path], ["GET", "/h"]);
});

Deno.test("parseCli() rejects --httpchk with more than METHOD PATH or nothing", () => {
  for (const bad of ["GET /h HTTP/1.1", "", "   "]) {
    rejects(
      ["--listen", ":0", "--server", "a:1,check", "--httpchk", bad],
      "ERR_USAGE",
      /for --httpchk: expected \[METHOD\] PATH$/,
    );
  }
});

Deno.test("parseCli() --http-check-expect status CODE, status LOW-HIGH and string TEXT", () => {
  const one = serverOf("a:1,check", "--http-check-expect", "status 200");
  assert.deepEqual(one.srv.check, { type: "http", http: { expectStatus: [200, 200] } });
  assert.deepEqual(
    resolveConfig(one.cfg).backends[0].servers[0].check?.http?.expect?.status,
    [200, 200],
  );
  const range = serverOf("a:1,check", "--http-check-expect", "status 200-299");
  assert.deepEqual(range.srv.check?.http, { expectStatus: [200, 299] });
  assert.deepEqual(
    resolveConfig(range.cfg).backends[0].servers[0].check?.http?.expect?.status,
    [200, 299],
  );
  const str = serverOf("a:1,check", "--http-check-expect", "string ok");
  assert.deepEqual(str.srv.check?.http, { expectString: "ok" });
  assert.equal(resolveConfig(str.cfg).backends[0].servers[0].check?.http?.expect?.string, "ok");
  const words = serverOf("a:1,check", "--http-check-expect", "string all good");
  assert.equal(words.srv.check?.http?.expectString, "all good", "the text may hold spaces");
});

Deno.test("parseCli() --httpchk, --http-check-expect and --http-check-host combine", () => {
  const { cfg, srv } = serverOf(
    "a:1,check,inter=3s",
    "--httpchk",
    "HEAD /status",
    "--http-check-expect",
    "status 204",
    "--http-check-host",
    "app.example",
    "--timeout",
    "check=1s",
  );
  assert.deepEqual(srv.check, {
    inter: 3000,
    type: "http",
    timeout: 1000,
    http: { method: "HEAD", path: "/status", host: "app.example", expectStatus: [204, 204] },
  });
  const r = resolveConfig(cfg).backends[0].servers[0].check;
  assert.deepEqual(r?.http, {
    method: "HEAD",
    path: "/status",
    host: "app.example",
    expect: { status: [204, 204], string: undefined },
  });
  assert.deepEqual([r?.inter, r?.timeout], [3000, 1000]);
});

Deno.test("parseCli() rejects bad --http-check-expect forms", () => {
  for (
    const bad of [
      "status",
      "status abc",
      "status 20",
      "status 2000",
      "status 200-",
      "status 200-2",
      "string",
      "string ",
      "rstatus 200",
      "200",
      "",
    ]
  ) {
    rejects(
      ["--listen", ":0", "--server", "a:1,check", "--http-check-expect", bad],
      "ERR_USAGE",
      /for --http-check-expect: expected "status CODE", "status LOW-HIGH" or "string TEXT"$/,
    );
  }
});

Deno.test("parseCli() --http-check-host sets the Host of HTTP checks", () => {
  const { cfg, srv } = serverOf("a:1,check", "--http-check-host", "h.example");
  assert.deepEqual(srv.check, { type: "http", http: { host: "h.example" } });
  assert.equal(resolveConfig(cfg).backends[0].servers[0].check?.http?.host, "h.example");
});

Deno.test("parseCli() --timeout check=DURATION sets the check timeout of checked servers", () => {
  const cfg = run(
    "--listen",
    ":0",
    "--server",
    "a:1,check",
    "--server",
    "b:1",
    "--timeout",
    "check=1s",
  );
  assert.deepEqual(cfg.backends[0].servers[0].check, { timeout: 1000 });
  assert.equal(cfg.backends[0].servers[1].check, undefined);
  assert.equal(resolveConfig(cfg).backends[0].servers[0].check?.timeout, 1000);
  assert.deepEqual(cfg.backends[0].timeouts, {
    connect: undefined,
    server: undefined,
    tunnel: undefined,
    queue: undefined,
  }, "not a backend timeout");
});

Deno.test("parseCli() applies HTTP check flags to the checked servers only", () => {
  const cfg = run(
    "--listen",
    ":0",
    "--server",
    "a:1,check",
    "--server",
    "b:1",
    "--server",
    "c:1,check,rise=1",
    "--httpchk",
    "/h",
  );
  const [a, b, c] = cfg.backends[0].servers;
  assert.deepEqual(a.check, { type: "http", http: { path: "/h" } });
  assert.equal(b.check, undefined);
  assert.deepEqual(c.check, { rise: 1, type: "http", http: { path: "/h" } });
  const r = resolveConfig(cfg).backends[0].servers;
  assert.deepEqual(r.map((s) => s.check?.type ?? null), ["http", null, "http"]);
});

Deno.test('parseCli() rejects health check flags without any --server "check"', () => {
  for (
    const flags of [
      ["--httpchk", "/h"],
      ["--http-check-expect", "status 200"],
      ["--http-check-host", "h"],
      ["--timeout", "check=1s"],
    ]
  ) {
    rejects(
      ["--listen", ":0", "--server", "a:1", "--server", "b:1", ...flags],
      "ERR_USAGE",
      /^Health check flags need at least one --server with the "check" option$/,
    );
  }
});

Deno.test("parseCli() rejects a --timeout check that does not parse with ERR_DURATION", () => {
  rejects(
    ["--listen", ":0", "--server", "a:1,check", "--timeout", "check=1x"],
    "ERR_DURATION",
    /unknown unit "x"/,
  );
  rejects(
    ["--listen", ":0", "--server", "a:1,check", "--timeout", "check"],
    "ERR_USAGE",
    /^Invalid value "check" for --timeout: expected NAME=DURATION/,
  );
});

// -- --cookie, --stick-source --------------------------------------------------------------------

Deno.test("parseCli() --cookie NAME,insert,indirect,nocache", () => {
  const cfg = runWith("--cookie", "SRVID,insert,indirect,nocache");
  assert.deepEqual(cfg.backends[0].cookie, {
    name: "SRVID",
    mode: "insert",
    indirect: true,
    nocache: true,
  });
  assert.deepEqual(resolveConfig(cfg).backends[0].cookie, {
    name: "SRVID",
    mode: "insert",
    indirect: true,
    nocache: true,
    attributes: "Path=/",
  });
  assert.deepEqual(runWith("--cookie", "S").backends[0].cookie, { name: "S", mode: "insert" });
});

Deno.test("parseCli() --cookie NAME,prefix", () => {
  const cfg = runWith("--cookie", "JSESSIONID,prefix");
  assert.deepEqual(cfg.backends[0].cookie, { name: "JSESSIONID", mode: "prefix" });
  assert.deepEqual(resolveConfig(cfg).backends[0].cookie, {
    name: "JSESSIONID",
    mode: "prefix",
    indirect: false,
    nocache: false,
    attributes: "Path=/",
  });
});

Deno.test("parseCli() --cookie with server cookie= values resolves them", () => {
  const cfg = run(
    "--listen",
    ":0",
    "--server",
    "a:1,cookie=A",
    "--server",
    "b:1",
    "--cookie",
    "S",
  );
  assert.deepEqual(resolveConfig(cfg).backends[0].servers.map((s) => s.cookie), ["A", "srv2"]);
});

Deno.test("parseCli() rejects --cookie in TCP mode and bad --cookie values", () => {
  rejects(
    ["--mode", "tcp", "--listen", ":0", "--server", "a:1", "--cookie", "S"],
    "ERR_USAGE",
    /^--cookie needs --mode http$/,
  );
  for (const bad of ["", "a b", "a=b", ",insert"]) {
    rejects(
      ["--listen", ":0", "--server", "a:1", "--cookie", bad],
      "ERR_USAGE",
      /for --cookie: expected NAME\[,insert\|prefix\]\[,indirect\]\[,nocache\]$/,
    );
  }
  rejects(
    ["--listen", ":0", "--server", "a:1", "--cookie", "S,rewrite"],
    "ERR_USAGE",
    /^Invalid option "rewrite" in --cookie S,rewrite: expected insert, prefix, indirect or nocache$/,
  );
});

Deno.test("parseCli() --stick-source turns on source stickiness with the defaults", () => {
  const cfg = runWith("--stick-source");
  assert.deepEqual(cfg.backends[0].stickSource, {});
  assert.deepEqual(resolveConfig(cfg).backends[0].stickSource, {
    size: 100_000,
    expire: 1_800_000,
  });
  const tcp = runWith("--mode", "tcp", "--stick-source");
  assert.deepEqual(resolveConfig(tcp).backends[0].stickSource, {
    size: 100_000,
    expire: 1_800_000,
  });
  assert.equal(runWith().backends[0].stickSource, undefined);
  rejects(["--stick-source=yes"], "ERR_USAGE", /--stick-source/);
});

Deno.test("parseCli(): --accept-proxy applies to the --listen before it; send-proxy[-v2] server options", () => {
  const cfg = run(
    "--listen",
    ":1",
    "--accept-proxy",
    "--listen",
    ":2",
    "--server",
    "a:1,send-proxy",
    "--server",
    "b:2,send-proxy-v2",
    "--server",
    "c:3",
  );
  assert.deepEqual(cfg.frontends[0].binds, [{ address: ":1", acceptProxy: true }, {
    address: ":2",
  }]);
  assert.deepEqual(cfg.backends[0].servers.map((s) => s.sendProxy), ["v1", "v2", undefined]);
  rejects(
    ["--accept-proxy", "--listen", ":1"],
    "ERR_USAGE",
    /^--accept-proxy must follow the --listen it applies to$/,
  );
});

// -- --help, did you mean, warnings, ready line ---------------------------------------------

Deno.test("--help lists every flag of CLI_FLAGS under its group, then the examples", () => {
  const headings = CLI_GROUPS.map((g) => USAGE.indexOf(`\n${g}:\n`));
  assert.deepEqual([...headings].sort((a, b) => a - b), headings, "groups in CLI_GROUPS order");
  assert.ok(headings[0] > 0);
  for (const [name, def] of Object.entries(CLI_FLAGS) as [string, CliFlagDef][]) {
    const line = `--${name}${def.arg === undefined ? "" : ` ${def.arg}`}`;
    const pos = USAGE.indexOf(`${line} `);
    assert.ok(pos > 0, `USAGE documents ${line}`);
    const group = CLI_GROUPS.findLast((_, k) => headings[k] < pos);
    assert.equal(group, def.group, `${line} under its group`);
  }
  assert.ok(USAGE.indexOf("\nExamples:\n") > Math.max(...headings));
  for (const line of USAGE.split("\n")) assert.ok(line.length <= 80, `over 80 columns: ${line}`);
});

Deno.test("every --help example parses", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/haproxy.cfg`;
    Deno.writeTextFileSync(
      file,
      "frontend fe\n  bind 127.0.0.1:0\n  default_backend be\nbackend be\n  server s 127.0.0.1:1\n",
    );
    Deno.mkdirSync(`${dir}/conf.d`);
    Deno.writeTextFileSync(`${dir}/conf.d/x.cfg`, "backend other\n  server s 127.0.0.1:2\n");
    for (const ex of CLI_EXAMPLES) {
      const args = ex.args.map((a) =>
        a === "haproxy.cfg" ? file : a === "conf.d" ? `${dir}/conf.d` : a === "./public" ? dir : a
      );
      const action = parseCli(args);
      if (action.kind === "load") {
        assert.deepEqual(loadConfigFiles(action.files, {}).errors, [], ex.args.join(" "));
      } else {
        assert.ok(
          action.kind === "run" || action.kind === "check" || action.kind === "demo",
          ex.args.join(" "),
        );
        if (action.kind !== "demo") resolveConfig(action.config);
      }
      assert.ok(USAGE.includes(ex.what), ex.what);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseCli() suggests the flag a mistyped one most likely meant", () => {
  rejects(
    ["--lisen", ":80"],
    "ERR_USAGE",
    /^Unknown option '--lisen' \(did you mean --listen\?\)$/,
  );
  rejects(["--balanse", "first"], "ERR_USAGE", /\(did you mean --balance\?\)$/);
  rejects(["--timout", "client=1s"], "ERR_USAGE", /\(did you mean --timeout\?\)$/);
  rejects(["--stat=:8404"], "ERR_USAGE", /\(did you mean --stats\?\)$/);
  rejects(["--logformat", "json"], "ERR_USAGE", /\(did you mean --log-format\?\)$/);
  rejects(["--tsl-cert", "x"], "ERR_USAGE", /\(did you mean --tls-cert\?\)$/);
  rejects(["--foo"], "ERR_USAGE", /^Unknown option '--foo'$/);
  rejects(["--quiet"], "ERR_USAGE", /^Unknown option '--quiet'$/);
  assert.equal(cliSuggest("--maxcon"), "--maxconn");
  assert.equal(cliSuggest("--zzzzzz"), null);
});

Deno.test("parseCli() warns that a --timeout without unit under 100 means milliseconds, and keeps it", () => {
  const warnings: string[] = [];
  const cfg = parseCli(
    ["--listen", ":0", "--server", "a:1,check", "--timeout", "client=30", "--timeout", "check=5"],
    { warn: (m) => warnings.push(m) },
  ) as { config: SluiceConfig };
  assert.equal(cfg.config.frontends[0].timeouts?.client, 30);
  assert.deepEqual(warnings, [
    '--timeout client=30 is 30 ms (a duration without a unit is in milliseconds): write "client=30ms" if that is meant, or a unit such as "client=30s"',
    '--timeout check=5 is 5 ms (a duration without a unit is in milliseconds): write "check=5ms" if that is meant, or a unit such as "check=5s"',
  ]);
  warnings.length = 0;
  parseCli(
    [
      "--listen",
      ":0",
      "--server",
      "a:1",
      ...["client=30s", "server=30ms", "tunnel=0", "connect=100", "queue=5000"].flatMap((
        t,
      ) => ["--timeout", t]),
    ],
    { warn: (m) => warnings.push(m) },
  );
  assert.deepEqual(warnings, [], "a unit, 0 (none) or 100 and more: no warning");
  // Without a warn callback, the warning is dropped and the value accepted.
  assert.equal(runWith("--timeout", "server=10").backends[0].timeouts?.server, 10);
});

Deno.test("cliReadyLine() is the text line, or under json one event listing every listener", () => {
  const info = {
    version: "9.9.9",
    binds: [
      { frontend: "main", address: "127.0.0.1:8080", port: 8080, tls: false },
      { frontend: "main", address: "[::1]:8443", port: 8443, tls: true },
    ],
    stats: { host: "::1", port: 8404 },
    adminSocket: "/run/sluice.sock",
  };
  assert.equal(
    cliReadyLine(info, { json: false }),
    "sluice 9.9.9 ready, listening on 127.0.0.1:8080, [::1]:8443 (tls)",
  );
  const ev = JSON.parse(cliReadyLine(info, { json: true, date: new Date(0) }));
  assert.deepEqual(ev, {
    type: "event",
    event: "ready",
    date: "1970-01-01T00:00:00.000Z",
    level: "notice",
    message: "sluice 9.9.9 ready, listening on 127.0.0.1:8080, [::1]:8443 (tls)",
    version: "9.9.9",
    listeners: [
      { kind: "frontend", name: "main", address: "127.0.0.1:8080", port: 8080, tls: false },
      { kind: "frontend", name: "main", address: "[::1]:8443", port: 8443, tls: true },
      { kind: "stats", name: "stats", address: "[::1]:8404", port: 8404, tls: false },
      {
        kind: "admin-socket",
        name: "admin-socket",
        address: "unix:/run/sluice.sock",
        port: 0,
        tls: false,
      },
    ],
  });
});
