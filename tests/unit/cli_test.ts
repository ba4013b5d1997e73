/**
 * parseCli(): the command line as a shorthand for a configuration object.
 */
import assert from "node:assert/strict";
import { DEMO_LISTEN, parseCli, USAGE } from "../../lib/cfg/cli.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
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

Deno.test("parseCli() returns version for --version and -V", () => {
  assert.deepEqual(parseCli(["--version"]), { kind: "version" });
  assert.deepEqual(parseCli(["-V"]), { kind: "version" });
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
    /for --balance: expected roundrobin, static-rr, leastconn, first, source, uri, random or hdr\(NAME\)$/,
  );
  rejects(["--balance", "hdr()"], "ERR_USAGE", /for --balance/);
  rejects(["--log", "syslog"], "ERR_USAGE", /for --log: expected stdout, stderr or none$/);
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
