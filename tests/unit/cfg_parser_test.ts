/**
 * parseConfigText() / parseConfigFiles(): HAProxy configuration syntax into
 * the SluiceConfig model, keyword by keyword, and errors that name the file,
 * the line and the keyword.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cfgParse, parseConfigFiles, parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { loadConfig } from "../../lib/cfg/config_load.ts";
import type {
  BackendConfig,
  FrontendConfig,
  ServerConfig,
  SluiceConfig,
} from "../../lib/cfg/config_types.ts";
import { SluiceError } from "../../lib/core/errors.ts";
import { withTempDirSync } from "../helpers/temp_dir.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
const FIXTURES = join(ROOT, "tests", "fixtures");
const CERT_PEM = Deno.readTextFileSync(join(FIXTURES, "server.crt"));
const KEY_PEM = Deno.readTextFileSync(join(FIXTURES, "server.key"));
const CA_PEM = Deno.readTextFileSync(join(FIXTURES, "ca.crt"));

type Env = Record<string, string | undefined>;

/** Parses `lines` as file "t.cfg". */
function parse(lines: string[], env: Env = {}): SluiceConfig {
  return parseConfigText(lines.join("\n"), "t.cfg", env);
}

/** The warnings of parsing `lines` as "t.cfg" (which must have no error). */
function parseConfigTextWarnings(lines: string[]): { warnings: string[] } {
  const parsed = cfgParse([{ file: "t.cfg", text: lines.join("\n") }], {});
  assert.deepEqual(parsed.errors, []);
  return { warnings: parsed.warnings.map((w) => w.message) };
}

/**
 * Asserts that `fn` throws an ERR_CONFIG error at `where`, message matching
 * `re` (one of the errors, when it reports several).
 */
function throwsAt(fn: () => unknown, where: string, re: RegExp): void {
  assert.throws(
    fn,
    (thrown: unknown) => {
      assert.ok(thrown instanceof SluiceError, `a SluiceError, got ${thrown}`);
      const err = (thrown.errors ?? [thrown]).find((e) => e.where === where);
      assert.ok(err !== undefined, `an error at ${where}: ${thrown.message}`);
      assert.equal(err.code, "ERR_CONFIG", err.message);
      assert.ok(err.message.startsWith(`${where}: `), err.message);
      assert.match(err.message, re);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    },
  );
}

/** Asserts that parsing `lines` (file "t.cfg") fails at `line`. */
function rejects(lines: string[], line: number, re: RegExp, env: Env = {}): void {
  throwsAt(() => parse(lines, env), `t.cfg:${line}`, re);
}

/** A frontend fe (lines 1-2) then `body` from line 3, then a backend be. */
function feLines(body: string[], mode = "http"): string[] {
  return [
    "frontend fe",
    `  mode ${mode}`,
    ...body.map((l) => `  ${l}`),
    "  default_backend be",
    "backend be",
    `  mode ${mode}`,
    "  server s1 127.0.0.1:9000",
  ];
}

/** The frontend built from `body` (see feLines). */
function frontend(body: string[], mode = "http"): FrontendConfig {
  return parse(feLines(["bind :80", ...body], mode)).frontends[0];
}

/** A frontend fe (lines 1-4), then backend be (lines 5-6) with `body` from line 7. */
function beLines(body: string[], mode = "http"): string[] {
  return [
    "frontend fe",
    `  mode ${mode}`,
    "  bind :80",
    "  default_backend be",
    "backend be",
    `  mode ${mode}`,
    ...body.map((l) => `  ${l}`),
  ];
}

/** Line number of the first body line of beLines(). */
const BE = 7;

/** The backend built from `body` (see beLines). */
function backend(body: string[], mode = "http"): BackendConfig {
  return parse(beLines(body, mode)).backends[0];
}

/** The servers of a backend built from `body`. */
function servers(body: string[], mode = "http"): ServerConfig[] {
  return backend(body, mode).servers;
}

// ---------------------------------------------------------------- round trip

Deno.test("parseConfigText() turns a typical haproxy.cfg into the expected configuration", () => {
  const text = `# a typical small configuration
global
    maxconn 4096
    log stdout format raw local0
    tune.bufsize 32768

defaults
    mode http
    log global
    option httplog
    option forwardfor
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch

frontend www
    bind 127.0.0.1:8080
    default_backend webfarm

backend webfarm
    balance roundrobin
    cookie SERVERID insert indirect nocache
    option httpchk GET /health
    http-check expect status 200
    server web1 10.0.0.1:80 cookie w1 check inter 2s rise 2 fall 3
    server web2 10.0.0.2:80 cookie w2 check inter 2s rise 2 fall 3 weight 2
`;
  const cfg = parseConfigText(text, "haproxy.cfg", {});
  const check = (): ServerConfig["check"] => ({
    type: "http",
    inter: 2000,
    rise: 2,
    fall: 3,
    http: { method: "GET", path: "/health", expect: { match: "status", pattern: "200" } },
  });
  assert.deepEqual(cfg, {
    global: {
      maxconn: 4096,
      bufsize: 32768,
      log: {
        targets: [{ target: "stdout", format: "raw", maxLen: 1024, facility: "local0" }],
        format: "httplog",
      },
    },
    frontends: [{
      name: "www",
      mode: "http",
      binds: [{ address: "127.0.0.1:8080" }],
      defaultBackend: "webfarm",
      // HAProxy's timeout tarpit defaults to the timeout connect in force.
      timeouts: { client: 30_000, tarpit: 5_000 },
      http: { forwardFor: true, forwardedProto: true },
      log: { targets: ["global"] },
    }],
    backends: [{
      name: "webfarm",
      mode: "http",
      balance: "roundrobin",
      retries: 3,
      redispatch: -1,
      timeouts: { connect: 5_000, server: 30_000 },
      http: { forwardFor: true },
      cookie: { name: "SERVERID", mode: "insert", indirect: true, nocache: true },
      log: { targets: ["global"] },
      servers: [
        { name: "web1", address: "10.0.0.1:80", cookie: "w1", check: check() },
        { name: "web2", address: "10.0.0.2:80", cookie: "w2", weight: 2, check: check() },
      ],
    }],
  });
  resolveConfig(cfg);
});

Deno.test("examples/*.cfg parse and pass resolveConfig()", () => {
  const dir = join(ROOT, "examples");
  const names = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".cfg")).map((e) => e.name)
    .sort();
  assert.deepEqual(names, [
    "api-gateway.cfg",
    "demo.cfg",
    "http-lb.cfg",
    "routing.cfg",
    "tcp-lb.cfg",
    "tls-edge.cfg",
  ]);
  for (const name of names) {
    const cfg = parseConfigFiles([join(dir, name)], {});
    const r = resolveConfig(cfg);
    assert.ok(r.frontends.length > 0 && r.backends.length > 0, name);
  }
  const http = parseConfigFiles([join(dir, "http-lb.cfg")], { SLUICE_HTTP_ADDR: "[::1]:0" });
  assert.deepEqual(http.frontends[0].binds, [{ address: "[::1]:0" }]);
  const tcp = resolveConfig(parseConfigFiles([join(dir, "tcp-lb.cfg")], {}));
  assert.deepEqual(tcp.backends[0].stickSource, { size: 102_400, expire: 1_800_000 });
});

// ---------------------------------------------------------------- global

Deno.test("global: maxconn, tune.*, hard-stop-after and nbthread set the global settings", () => {
  const cfg = parse([
    "global",
    "  maxconn 500",
    "  tune.bufsize 8192",
    "  tune.buffers.limit 300",
    "  tune.maxrewrite 512",
    "  tune.http.maxhdr 50",
    "  tune.runqueue-depth 64",
    "  hard-stop-after 1m",
    "  nbthread 4",
    ...feLines(["bind :80"]),
  ]);
  assert.deepEqual(cfg.global, {
    maxconn: 500,
    bufsize: 8192,
    buffers: 300,
    maxRewrite: 512,
    maxHdrs: 50,
    runqueueDepth: 64,
    graceMs: 60_000,
    nbthread: 4,
  });
});

Deno.test("global: each log line adds a target with HAProxy's defaults (format local, len 1024)", () => {
  const targets = (...lines: string[]) =>
    parse(["global", ...lines.map((l) => `  ${l}`), ...feLines(["bind :80"])]).global?.log
      ?.targets;
  const t = (target: unknown, more: Record<string, unknown> = {}) => ({
    target,
    format: "local",
    maxLen: 1024,
    facility: "local0",
    ...more,
  });
  assert.deepEqual(targets("log stdout local0"), [t("stdout")]);
  assert.deepEqual(targets("log fd@2 local0"), [t("stderr")]);
  assert.deepEqual(targets("log fd@1 format raw daemon"), [
    t("stdout", { format: "raw", facility: "daemon" }),
  ]);
  assert.deepEqual(
    targets("log /dev/log local0", "log /dev/log local1 notice"),
    [
      t({ syslog: "unix:/dev/log" }),
      t({ syslog: "unix:/dev/log" }, { facility: "local1", level: "notice" }),
    ],
  );
  assert.deepEqual(targets("log 127.0.0.1 local0"), [t({ syslog: "127.0.0.1:514" })]);
  assert.deepEqual(targets("log udp@10.0.0.5:1514 local3 err emerg"), [
    t({ syslog: "10.0.0.5:1514" }, { facility: "local3", level: "err", minLevel: "emerg" }),
  ]);
  assert.deepEqual(targets("log unix@/run/syslog.sock len 4096 format rfc5424 local2"), [
    t({ syslog: "unix:/run/syslog.sock" }, { maxLen: 4096, format: "rfc5424", facility: "local2" }),
  ]);
  for (const f of ["local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw"]) {
    assert.deepEqual(targets(`log stderr format ${f} local0`), [t("stderr", { format: f })]);
  }
  assert.deepEqual(targets("log file@/var/log/sluice.log local0"), [
    t({ file: "/var/log/sluice.log" }),
  ]);
  const resolved = resolveConfig(
    parse(["global", "  log /dev/log local1 info", ...feLines(["bind :80"])]),
  );
  assert.deepEqual(resolved.global.log.targets.map((x) => [x.target, x.header.format, x.level]), [
    [{ syslog: "unix", path: "/dev/log", facility: 17 }, "local", 6],
  ]);
});

Deno.test("global: a unix syslog socket needs an absolute path of at most 107 bytes", () => {
  rejects(
    ["global", "  log unix@dev/log local0"],
    2,
    /invalid value "unix@dev\/log" for "log": expected unix@\/path$/,
  );
  rejects(
    ["global", `  log /${"x".repeat(107)} local0`],
    2,
    /invalid value "\/x+" for "log": unix socket path longer than 107 bytes$/,
  );
});

Deno.test("global: bad log lines are errors naming the part, with their line", () => {
  rejects(["global", "  log stdout"], 2, /missing facility for "log"/);
  rejects(["global", "  log stdout local9"], 2, /invalid value "local9" for "log facility"/);
  rejects(
    ["global", "  log stdout format json local0"],
    2,
    /invalid value "json" for "log format"/,
  );
  rejects(["global", "  log stdout format"], 2, /missing value for "log format"/);
  rejects(["global", "  log stdout len 79 local0"], 2, /invalid value "79" for "log len"/);
  rejects(["global", "  log stdout len 65536 local0"], 2, /invalid value "65536" for "log len"/);
  // HAProxy's order: len, then format.
  rejects(
    ["global", "  log stdout format raw len 100 local0"],
    2,
    /invalid value "len" for "log facility"/,
  );
  rejects(["global", "  log stdout local0 loud"], 2, /invalid value "loud" for "log level"/);
  rejects(
    ["global", "  log stdout local0 info nosuch"],
    2,
    /invalid value "nosuch" for "log minlevel"/,
  );
  rejects(["global", "  log stdout local0 info info x"], 2, /unexpected argument "x" for "log"/);
  rejects(["global", "  log stdout sample 1:2 local0"], 2, /unsupported keyword "log sample"/);
  rejects(["global", "  log ring@buf local0"], 2, /the "ring@" target is not supported/);
  rejects(["global", "  log tcp@127.0.0.1:514 local0"], 2, /the "tcp@" target is not supported/);
  rejects(["global", "  log global"], 2, /"log global" is for proxy sections/);
  rejects(["global", "  log"], 2, /missing value for "log"/);
  // Every problem at once: two bad lines, two errors.
  throwsAt(
    () => parse(["global", "  log stdout", "  log stderr local0 nope", ...feLines(["bind :80"])]),
    "t.cfg:3",
    /invalid value "nope" for "log level"/,
  );
});

Deno.test("global: tls-isolation on|off and tls-threads N (sluice), refused with file:line when wrong", () => {
  const g = (...lines: string[]) =>
    parse(["global", ...lines.map((l) => `  ${l}`), ...feLines(["bind :80"])]).global;
  assert.equal(g("tls-isolation on", "tls-threads 2")?.tlsIsolation, true);
  assert.equal(g("tls-isolation on", "tls-threads 2")?.tlsThreads, 2);
  assert.equal(g("tls-isolation off")?.tlsIsolation, false);
  rejects(["global", "  tls-isolation yes"], 2, /invalid value "yes"/);
  rejects(["global", "  tls-threads 0"], 2, /invalid value "0" for "tls-threads": from 1 to 64/);
  rejects(["global", "  tls-isolation"], 2, /tls-isolation/);
});

Deno.test("global: refuses nbthread outside 1..64, stats socket and unknown keywords", () => {
  rejects(["global", "  nbthread 65"], 2, /invalid value "65" for "nbthread": from 1 to 64/);
  rejects(["global", "  nbthread 0"], 2, /invalid value "0" for "nbthread": from 1 to 64/);
  rejects(
    ["global", "  stats socket ipv4@127.0.0.1:9999"],
    2,
    /expected a unix socket path/,
  );
  rejects(["global", "  stats maxconn 10"], 2, /unsupported keyword "stats maxconn"/);
  assert.deepEqual(
    parse(["global", "  stats socket /run/sluice.sock mode 660 level admin", ...feLines([])]).global
      ?.adminSocket,
    { path: "/run/sluice.sock", mode: 0o660 },
  );
  rejects(
    ["global", "  ulimit-n 100000"],
    2,
    /unsupported keyword "ulimit-n" in section "global"/,
  );
  rejects(["global", "  uid 99"], 2, /unsupported keyword "uid" in section "global"/);
  rejects(
    ["global", "  maxconn many"],
    2,
    /invalid value "many" for "maxconn": expected a non-negative integer/,
  );
  rejects(["global", "  maxconn 1 2"], 2, /unexpected argument "2" for "maxconn"/);
  rejects(["global", "  tune.bufsize"], 2, /missing value for "tune.bufsize"/);
  rejects(
    ["global", "  hard-stop-after 10x"],
    2,
    /invalid value "10x" for "hard-stop-after": unknown unit "x"/,
  );
  rejects(
    ["global", "  timeout client 1s"],
    2,
    /unsupported keyword "timeout" in section "global"/,
  );
  rejects(["global extra"], 1, /unexpected argument "extra" for "global"/);
});

// ---------------------------------------------------------------- mode, maxconn, timeouts

Deno.test("mode: http or tcp; without one a proxy is in tcp mode, as in HAProxy", () => {
  const cfg = parse([
    "frontend fe",
    "  bind :80",
    "  default_backend be",
    "backend be",
    "  server s1 127.0.0.1:9000",
  ]);
  assert.equal(cfg.frontends[0].mode, "tcp");
  assert.equal(cfg.backends[0].mode, "tcp");
  assert.equal(cfg.frontends[0].http, undefined);
  assert.equal(frontend([]).mode, "http");
  rejects(
    ["frontend fe", "  mode health"],
    2,
    /invalid value "health" for "mode": expected "http" or "tcp"/,
  );
});

Deno.test("maxconn: sets the frontend limit; not allowed in a backend", () => {
  assert.equal(frontend(["maxconn 300"]).maxconn, 300);
  rejects(
    beLines(["maxconn 10"]),
    BE,
    /keyword "maxconn" is not allowed in section "backend be" \(only in defaults, frontend or listen sections\)/,
  );
});

Deno.test("timeout: every name maps to its field, frontend and backend sides apart", () => {
  const cfg = parse([
    "defaults",
    "  mode http",
    "  timeout client 1s",
    "  timeout http-request 2s",
    "  timeout http-keep-alive 3s",
    "  timeout server 4s",
    "  timeout connect 500",
    "  timeout queue 6s",
    "  timeout tunnel 1h",
    "  timeout check 800ms",
    "frontend fe",
    "  bind :80",
    "  default_backend be",
    "backend be",
    "  server s1 127.0.0.1:9000 check",
    "  server s2 127.0.0.1:9001",
  ]);
  assert.deepEqual(cfg.frontends[0].timeouts, {
    client: 1000,
    httpRequest: 2000,
    httpKeepAlive: 3000,
    tarpit: 500,
  });
  assert.deepEqual(cfg.backends[0].timeouts, {
    server: 4000,
    connect: 500,
    queue: 6000,
    tunnel: 3_600_000,
  });
  // timeout check applies to checked servers only.
  assert.deepEqual(cfg.backends[0].servers[0].check, { type: "tcp", timeout: 800 });
  assert.equal(cfg.backends[0].servers[1].check, undefined);
});

Deno.test("timeout: wrong side, bad durations and unknown names are errors naming the keyword", () => {
  rejects(
    beLines(["timeout client 5s"]),
    BE,
    /keyword "timeout client" is not allowed in section "backend be" \(only in defaults, frontend or listen sections\)/,
  );
  rejects(
    feLines(["timeout server 5s"]),
    3,
    /keyword "timeout server" is not allowed in section "frontend fe" \(only in defaults, backend or listen sections\)/,
  );
  rejects(
    beLines(["timeout connect 5x"]),
    BE,
    /invalid value "5x" for "timeout connect": unknown unit "x"/,
  );
  rejects(
    beLines(["timeout connect 30d"]),
    BE,
    /invalid value "30d" for "timeout connect": too large: the maximum is 24d/,
  );
  rejects(beLines(["timeout connect"]), BE, /missing value for "timeout connect"/);
  rejects(beLines(["timeout"]), BE, /missing value for "timeout"/);
  rejects(
    beLines(["timeout server-fin 5s"]),
    BE,
    /unsupported keyword "timeout server-fin" in section "backend be"/,
  );
  rejects(beLines(["timeout connect 5s 6s"]), BE, /unexpected argument "6s" for "timeout connect"/);
});

// ---------------------------------------------------------------- http-reuse, idle pools

Deno.test("http-reuse and the server idle pool options", () => {
  for (const m of ["never", "safe", "aggressive", "always"]) {
    assert.equal(backend([`http-reuse ${m}`]).httpReuse, m);
  }
  assert.equal(backend([]).httpReuse, undefined);
  const inherited = parse(["defaults", "  mode http", "  http-reuse always", ...beLines([])]);
  assert.equal(inherited.backends[0].httpReuse, "always");
  rejects(beLines(["http-reuse sometimes"]), BE, /invalid value "sometimes" for "http-reuse"/);
  rejects(
    feLines(["http-reuse safe"]),
    3,
    /keyword "http-reuse" is not allowed in section "frontend fe"/,
  );
  rejects(beLines(["http-reuse always"], "tcp"), BE, /"http-reuse" needs mode http/);
  const [s] = servers([
    "server s1 127.0.0.1:80 pool-max-conn -1 pool-purge-delay 10s pool-low-conn 4",
  ]);
  assert.equal(s.poolMaxConn, -1);
  assert.equal(s.poolPurgeDelay, 10_000);
  assert.equal(s.poolLowConn, 4);
  const [d] = servers(["default-server pool-max-conn 0", "server s1 127.0.0.1:80"]);
  assert.equal(d.poolMaxConn, 0);
  rejects(
    beLines(["server s1 127.0.0.1:80 pool-low-conn -1"]),
    BE,
    /expected a non-negative integer/,
  );
});

// ---------------------------------------------------------------- retries, redispatch

Deno.test("retries and option redispatch [N] / no option redispatch", () => {
  assert.equal(backend(["retries 5"]).retries, 5);
  assert.equal(backend(["option redispatch"]).redispatch, -1);
  assert.equal(backend(["option redispatch 2"]).redispatch, 2);
  assert.equal(backend(["option redispatch -1"]).redispatch, -1);
  assert.equal(backend(["no option redispatch"]).redispatch, 0);
  // Not given: sluice's own default (resolveConfig), not HAProxy's "never".
  assert.equal(backend([]).redispatch, undefined);
  const cfg = parse(["defaults", "  option redispatch 3", ...beLines(["no option redispatch"])]);
  assert.equal(cfg.backends[0].redispatch, 0);
  rejects(
    beLines(["retries -1"]),
    BE,
    /invalid value "-1" for "retries": expected a non-negative integer/,
  );
  rejects(
    beLines(["option redispatch x"]),
    BE,
    /invalid value "x" for "option redispatch": expected an integer/,
  );
  rejects(
    beLines(["no option redispatch 1"]),
    BE,
    /unexpected argument "1" for "no option redispatch"/,
  );
  rejects(feLines(["retries 1"]), 3, /keyword "retries" is not allowed in section "frontend fe"/);
});

// ---------------------------------------------------------------- forwardfor, keep-alive, logs

Deno.test("option forwardfor: the frontend's and the backend's own, off unless asked, as in HAProxy", () => {
  const cfg = (fe: string[], be: string[]) =>
    parse([
      "frontend fe",
      "  mode http",
      "  bind :80",
      ...fe,
      "  default_backend be",
      "backend be",
      "  mode http",
      ...be,
      "  server s1 127.0.0.1:9000",
    ]);
  const http = (fe: string[], be: string[]) => cfg(fe, be).frontends[0].http;
  assert.deepEqual(http([], []), { forwardFor: false, forwardedProto: false });
  assert.deepEqual(http(["  option forwardfor"], []), { forwardFor: true, forwardedProto: true });
  // The backend's own goes to the backend; X-Forwarded-Proto follows the default backend's.
  assert.deepEqual(http([], ["  option forwardfor"]), { forwardFor: false, forwardedProto: true });
  assert.deepEqual(cfg([], ["  option forwardfor"]).backends[0].http, { forwardFor: true });
  const off = parse([
    "defaults",
    "  mode http",
    "  option forwardfor",
    ...feLines(["bind :80", "no option forwardfor"]),
  ]);
  // The backend still inherits it from defaults, and HAProxy adds the header when either asks.
  assert.deepEqual(off.frontends[0].http, { forwardFor: false, forwardedProto: true });
  assert.deepEqual(off.backends[0].http, { forwardFor: true });
  const both = parse([
    "defaults",
    "  mode http",
    "  option forwardfor",
    "frontend fe",
    "  bind :80",
    "  no option forwardfor",
    "  default_backend be",
    "backend be",
    "  no option forwardfor",
    "  server s1 127.0.0.1:9000",
  ]);
  assert.deepEqual(both.frontends[0].http, { forwardFor: false, forwardedProto: false });
  assert.equal(both.backends[0].http, undefined);
});

Deno.test("option forwardfor except NET, header NAME, if-none", () => {
  assert.deepEqual(
    frontend(["option forwardfor except 127.0.0.0/8 header X-Client if-none"]).http!.forwardFor,
    { except: "127.0.0.0/8", header: "X-Client", ifNone: true },
  );
  assert.deepEqual(
    backend(["option forwardfor header X-Real-IP", "server s1 127.0.0.1:9000"]).http,
    {
      forwardFor: { header: "X-Real-IP" },
    },
  );
  // A later line replaces the whole option, as HAProxy resets it.
  assert.deepEqual(
    frontend(["option forwardfor if-none", "option forwardfor except ::1"]).http!.forwardFor,
    { except: "::1" },
  );
  rejects(
    feLines(["option forwardfor except nowhere"]),
    3,
    /invalid value "nowhere" for "option forwardfor except": expected <address>\[\/mask\]/,
  );
  rejects(feLines(["option forwardfor except"]), 3, /missing value for "option forwardfor except"/);
  rejects(
    feLines(["option forwardfor header"]),
    3,
    /missing value for "option forwardfor header"/,
  );
  rejects(
    feLines(["option forwardfor header Content-Length"]),
    3,
    /the Content-Length header is managed by sluice/,
  );
  rejects(
    feLines(["option forwardfor sometimes"]),
    3,
    /invalid value "sometimes" for "option forwardfor": only except, header and if-none/,
  );
  resolveConfig(
    parse(feLines(["bind :80", "option forwardfor except 10.0.0.0/8 header X-Client if-none"])),
  );
});

Deno.test("connection modes: http-keep-alive, http-server-close, httpclose; the last one wins, no undoes its own", () => {
  const mode = (lines: string[], defaults: string[] = []) =>
    parse([
      ...(defaults.length > 0 ? ["defaults", "  mode http", ...defaults.map((l) => `  ${l}`)] : []),
      ...feLines(["bind :80", ...lines]),
    ]).frontends[0].http!.connectionMode;
  assert.equal(mode([]), undefined);
  assert.equal(mode(["option http-server-close"]), "server-close");
  assert.equal(mode(["option httpclose"]), "close");
  assert.equal(mode(["option httpclose", "option http-server-close"]), "server-close");
  assert.equal(mode(["option http-keep-alive"], ["option httpclose"]), "keep-alive");
  assert.equal(mode([], ["option http-server-close"]), "server-close", "inherited");
  // "no option X" goes back to keep-alive only when X is the mode in force.
  assert.equal(mode(["no option http-server-close"], ["option http-server-close"]), "keep-alive");
  assert.equal(mode(["no option httpclose"], ["option http-server-close"]), "server-close");
  assert.equal(mode(["no option http-keep-alive"]), "keep-alive", "keep-alive stays");
  assert.deepEqual(backend(["option httpclose", "server s1 127.0.0.1:9000"]).http, {
    connectionMode: "close",
  });
  rejects(
    feLines(["option http-keep-alive now"]),
    3,
    /unexpected argument "now" for "option http-keep-alive"/,
  );
  rejects(
    feLines(["option httpclose", "bind :80"], "tcp"),
    3,
    /"option httpclose" needs mode http \(section "frontend fe" is in mode tcp\)/,
  );
});

Deno.test("option http-buffer-request, option abortonclose, monitor-uri, timeout tarpit", () => {
  assert.equal(frontend(["option http-buffer-request"]).http!.bufferRequest, true);
  assert.deepEqual(backend(["option http-buffer-request", "server s1 127.0.0.1:9000"]).http, {
    bufferRequest: true,
  });
  assert.deepEqual(backend(["option abortonclose", "server s1 127.0.0.1:9000"]).http, {
    abortOnClose: true,
  });
  const inherited = parse([
    "defaults",
    "  mode http",
    "  option abortonclose",
    "  option http-buffer-request",
    ...feLines(["bind :80", "no option http-buffer-request"]),
  ]);
  assert.equal(inherited.frontends[0].http!.bufferRequest, undefined);
  assert.deepEqual(inherited.backends[0].http, { bufferRequest: true, abortOnClose: true });
  rejects(
    feLines(["option abortonclose"]),
    3,
    /keyword "option abortonclose" is not allowed in section "frontend fe" \(only in defaults, backend or listen sections\)/,
  );
  assert.equal(frontend(["monitor-uri /health"]).http!.monitorUri, "/health");
  rejects(feLines(["monitor-uri"]), 3, /missing value for "monitor-uri"|expected 1 argument/);
  rejects(
    beLines(["monitor-uri /x"]),
    BE,
    /keyword "monitor-uri" is not allowed in section "backend be"/,
  );
  // timeout tarpit: its own, else timeout connect (HAProxy's default).
  assert.equal(frontend(["timeout tarpit 2s"]).timeouts!.tarpit, 2000);
  const dflt = parse(["defaults", "  mode http", "  timeout connect 3s", ...feLines(["bind :80"])]);
  assert.equal(dflt.frontends[0].timeouts!.tarpit, 3000);
  assert.equal(backend(["timeout tarpit 1s", "server s1 127.0.0.1:9000"]).timeouts!.tarpit, 1000);
});

Deno.test("fullconn and server minconn: a dynamic limit following the backend's load", () => {
  assert.equal(backend(["fullconn 1000"]).fullconn, 1000);
  assert.equal(backend([]).fullconn, undefined);
  const [s] = servers(["server s1 127.0.0.1:80 minconn 10 maxconn 100"]);
  assert.equal(s.minconn, 10);
  assert.equal(s.maxconn, 100);
  rejects(beLines(["fullconn 0"]), BE, /invalid value "0" for "fullconn": expected at least 1/);
  rejects(beLines(["fullconn many"]), BE, /invalid value "many" for "fullconn"/);
  rejects(
    feLines(["fullconn 1000"]),
    3,
    /keyword "fullconn" is not allowed in section "frontend fe"/,
  );
});

Deno.test("acl, http-request and http-response in a backend section are the backend's rules", () => {
  const b = backend([
    "acl admin path_beg /admin",
    "http-request deny if admin",
    "http-response del-header Server",
    "server s1 127.0.0.1:9000",
  ]);
  assert.deepEqual(b.rules, {
    acls: [{ words: ["admin", "path_beg", "/admin"], where: "t.cfg:7" }],
    httpRequest: [{ words: ["deny", "if", "admin"], where: "t.cfg:8" }],
    httpResponse: [{ words: ["del-header", "Server"], where: "t.cfg:9" }],
  });
  resolveConfig(
    parse(beLines(["acl a path /", "http-request deny if a", "server s1 127.0.0.1:1"])),
  );
  rejects(
    beLines(["use_backend x"]),
    BE,
    /keyword "use_backend" is not allowed in section "backend be"/,
  );
  throwsAt(
    () => resolveConfig(parse(beLines(["http-request deny if nope", "server s1 127.0.0.1:1"]))),
    `t.cfg:${BE}`,
    /unknown ACL "nope"/,
  );
});

Deno.test("option httplog / option tcplog / log-format: the last one wins; tcplog in HTTP is HAProxy's line", () => {
  const log = (body: string[], mode = "http") => frontend(["log global", ...body], mode).log;
  assert.deepEqual(log(["option httplog"]), { targets: ["global"] });
  assert.deepEqual(log(["option tcplog"], "tcp"), { targets: ["global"] });
  assert.deepEqual(log(["option tcplog"]), {
    targets: ["global"],
    format: "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq",
  });
  assert.deepEqual(log(["option httplog", String.raw`log-format %ci\ %ST`]), {
    targets: ["global"],
    format: "%ci %ST",
  });
  assert.deepEqual(log(['log-format "%ci %ST"', "option httplog"]), { targets: ["global"] });
  rejects(feLines(["option httplog clf"]), 3, /unsupported keyword "option httplog clf"/);
  rejects(
    beLines(["option httplog"]),
    BE,
    /keyword "option httplog" is not allowed in section "backend be"/,
  );
  rejects(
    feLines(["log-format %ci %ST"]),
    3,
    /"log-format" expects one argument: escape its spaces/,
  );
  rejects(
    beLines(["log-format %ci"]),
    BE,
    /keyword "log-format" is not allowed in section "backend be"/,
  );
});

Deno.test("log in proxies: log global, own targets added to the inherited ones, no log", () => {
  const stdout = { target: "stdout", format: "raw", maxLen: 1024, facility: "local0" };
  const withDefaults = (defaults: string[], body: string[]) =>
    parse([
      "defaults",
      ...defaults.map((l) => `  ${l}`),
      ...feLines(["bind :80", ...body]),
    ]);
  // No log line: no target (HAProxy logs nothing).
  assert.deepEqual(frontend([]).log, { targets: [] });
  assert.deepEqual(frontend(["log global", "log global"]).log, { targets: ["global", "global"] });
  assert.deepEqual(frontend(["log stdout format raw local0"]).log, { targets: [stdout] });
  const cfg = withDefaults(["log global"], ["log stdout format raw local0"]);
  assert.deepEqual(cfg.frontends[0].log, { targets: ["global", stdout] });
  assert.deepEqual(cfg.backends[0].log, { targets: ["global"] });
  const fresh = withDefaults(["log global"], ["no log", "log stdout format raw local0"]);
  assert.deepEqual(fresh.frontends[0].log, { targets: [stdout] });
  assert.deepEqual(withDefaults(["log global"], ["no log"]).frontends[0].log, { targets: [] });
  rejects(feLines(["log global now"]), 3, /"log global" takes no other argument/);
  rejects(feLines(["log stdout"]), 3, /missing facility for "log"/);
  rejects(feLines(["no log now"]), 3, /unexpected argument "now" for "no log"/);
});

Deno.test("a frontend with a log format but no log target gets HAProxy's warning", () => {
  const { warnings } = parseConfigTextWarnings(feLines(["bind :80", "option httplog"]));
  assert.deepEqual(warnings, [
    't.cfg:1: warning: log format ignored for section "frontend fe" since it has no log target (add "log global" to use the global ones)',
  ]);
  assert.deepEqual(
    parseConfigTextWarnings(feLines(["bind :80", "log global", "option httplog"])).warnings,
    [],
  );
  const tcp = parseConfigTextWarnings(feLines(["bind :80", "log global", "option httplog"], "tcp"));
  assert.deepEqual(tcp.warnings, [
    't.cfg:5: warning: "option httplog" needs mode http: section "frontend fe" logs tcplog lines',
  ]);
});

Deno.test("option dontlognull / log-separate-errors / log-health-checks, and their no forms", () => {
  assert.deepEqual(frontend(["option dontlognull", "option log-separate-errors"]).log, {
    targets: [],
    dontLogNull: true,
    separateErrors: true,
  });
  const cfg = parse([
    "defaults",
    "  option dontlognull",
    "  option log-health-checks",
    ...feLines(["bind :80", "no option dontlognull"]),
  ]);
  assert.deepEqual(cfg.frontends[0].log, { targets: [], dontLogNull: false });
  assert.deepEqual(cfg.backends[0].log, { targets: [], healthChecks: true });
  assert.deepEqual(backend(["no option log-health-checks"]).log, {
    targets: [],
    healthChecks: false,
  });
  rejects(
    beLines(["option dontlognull"]),
    BE,
    /keyword "option dontlognull" is not allowed in section "backend be"/,
  );
  rejects(
    feLines(["option log-health-checks"]),
    3,
    /keyword "option log-health-checks" is not allowed in section "frontend fe"/,
  );
  rejects(feLines(["option dontlognull x"]), 3, /unexpected argument "x"/);
});

Deno.test("capture request|response header, log-format-sd, unique-id-format and unique-id-header", () => {
  assert.deepEqual(
    frontend([
      "capture request header Host len 32",
      "capture request header User-Agent len 64",
      "capture response header Content-Type len 20",
      String.raw`log-format-sd [id@1\ b=\"%B\"]`,
      String.raw`unique-id-format %{+X}o\ %ci:%cp_%rt`,
      "unique-id-header X-Unique-ID",
    ]).log,
    {
      targets: [],
      formatSd: '[id@1 b="%B"]',
      uniqueIdFormat: "%{+X}o %ci:%cp_%rt",
      uniqueIdHeader: "X-Unique-ID",
      captureRequest: [{ name: "Host", len: 32 }, { name: "User-Agent", len: 64 }],
      captureResponse: [{ name: "Content-Type", len: 20 }],
    },
  );
  rejects(
    ["defaults", "  capture request header Host len 32"],
    2,
    /keyword "capture request" is not allowed in section "defaults"/,
  );
  rejects(
    feLines(["capture request header Host"]),
    3,
    /expected 4 to 4 arguments|missing|argument/,
  );
  rejects(
    feLines(["capture request header Host size 3"]),
    3,
    /expected "len" after the header name/,
  );
  rejects(feLines(["capture request header Host len 0"]), 3, /expected a length of 1 to 65535/);
  rejects(feLines(["capture request header Ho(st len 3"]), 3, /expected a header name/);
  rejects(feLines(["capture cookie ID len 32"]), 3, /unsupported keyword "capture cookie"/);
  rejects(feLines(["capture request header Host len 3"], "tcp"), 3, /"capture" needs mode http/);
  rejects(feLines(["unique-id-header X-Id"], "tcp"), 3, /"unique-id-header" needs mode http/);
  rejects(feLines(["unique-id-header Bad:Name"]), 3, /expected a header name/);
});

Deno.test("log-format errors name the line of the log-format", () => {
  const at = (line: string, re: RegExp, mode = "http") => {
    const l = loadConfig([{ file: "t.cfg", text: feLines(["bind :80", line], mode).join("\n") }], {
      env: {},
    });
    assert.equal(l.errors.length, 1, l.errors.map((e) => e.message).join("\n"));
    assert.equal(l.errors[0].where, "t.cfg:4");
    assert.match(l.errors[0].message, re);
  };
  at("log-format %zz", /^t\.cfg:4: no such format variable "%zz"/);
  at("log-format %HM", /format variable "%HM" is reserved for HTTP mode/, "tcp");
  at("log-format %[req.hdr(host)]", /needs an HTTP request or response/, "tcp");
  at("log-format %bi", /"%bi" is not supported/);
  at("log-format %{+Q", /truncated line after "%\{\+Q"/);
  at("log-format %[src", /missing "\]" after "%\[src"/);
  at("log-format %[nosuch]", /unknown fetch "nosuch"/);
  at("log-format %{+Z}ci", /unknown flag "\+Z"/);
  at("log-format 5%", /write a literal % as %%/);
  at("unique-id-format %zz", /no such format variable "%zz"/);
  at("unique-id-format %[status]", /needs the response, which is not known when the id is made/);
  at("unique-id-header X-Id", /needs uniqueIdFormat/);
});

Deno.test("balance: every algorithm, hdr(NAME) [use_domain_only] and url_param NAME included", () => {
  for (
    const algo of [
      "roundrobin",
      "static-rr",
      "leastconn",
      "first",
      "source",
      "uri",
      "random",
      "hdr(X-User)",
      "hdr(host) use_domain_only",
      "url_param uid",
    ]
  ) {
    assert.equal(backend([`balance ${algo}`]).balance, algo);
  }
  rejects(
    beLines(["balance url_param"]),
    BE,
    /invalid value "url_param" for "balance": "url_param" needs a PARAM \(url_param PARAM\)/,
  );
  rejects(
    beLines(["balance url_param uid check_post"]),
    BE,
    /invalid value "url_param uid check_post" for "balance": "check_post" not supported: sluice does not look for the parameter in a POST body/,
  );
  rejects(
    beLines(["balance roundrobin x"]),
    BE,
    /invalid value "roundrobin x" for "balance": unexpected word "x" after "roundrobin"/,
  );
  rejects(
    beLines(["balance rdp-cookie"]),
    BE,
    /invalid value "rdp-cookie" for "balance": expected roundrobin, static-rr/,
  );
  rejects(
    beLines(["balance url_param a b c"]),
    BE,
    /unexpected argument "c" for "balance"/,
  );
  rejects(beLines(["balance random(3)"]), BE, /invalid value "random\(3\)" for "balance"/);
  rejects(beLines(["balance hdr()"]), BE, /invalid value "hdr\(\)" for "balance"/);
  rejects(
    feLines(["balance first"]),
    3,
    /keyword "balance" is not allowed in section "frontend fe"/,
  );
});

Deno.test("balance uri/hdr: an error in a tcp backend, dropped when inherited (HAProxy falls back to roundrobin)", () => {
  rejects(
    beLines(["balance uri"], "tcp"),
    BE,
    /"balance uri" needs mode http \(section "backend be" is in mode tcp\)/,
  );
  const cfg = parse(["defaults", "  balance hdr(host)", ...beLines([], "tcp")]);
  assert.equal(cfg.backends[0].balance, undefined);
  const kept = parse(["defaults", "  balance source", ...beLines([], "tcp")]);
  assert.equal(kept.backends[0].balance, "source");
});

Deno.test("hash-type consistent is accepted; map-based and hash functions are refused", () => {
  assert.equal(backend(["balance source", "hash-type consistent"]).balance, "source");
  rejects(
    beLines(["hash-type map-based"]),
    BE,
    /invalid value "map-based" for "hash-type": not supported: sluice always uses consistent hashing/,
  );
  rejects(
    beLines(["hash-type consistent sdbm"]),
    BE,
    /invalid value "sdbm" for "hash-type": the hash function cannot be chosen/,
  );
  rejects(
    beLines(["hash-type other"]),
    BE,
    /invalid value "other" for "hash-type": expected "consistent"/,
  );
});

// ---------------------------------------------------------------- HTTP checks

Deno.test("option httpchk: no argument, URI, METHOD URI, and the old version/Host form", () => {
  const http = (line: string) => servers([line, "server s1 127.0.0.1:9000 check"])[0].check;
  assert.deepEqual(http("option httpchk"), {
    type: "http",
    http: { method: "OPTIONS", path: "/" },
  });
  assert.deepEqual(http("option httpchk /ping"), {
    type: "http",
    http: { method: "OPTIONS", path: "/ping" },
  });
  assert.deepEqual(http("option httpchk HEAD /ping"), {
    type: "http",
    http: { method: "HEAD", path: "/ping" },
  });
  assert.deepEqual(http("option httpchk GET /ping HTTP/1.0"), {
    type: "http",
    http: { method: "GET", path: "/ping" },
  });
  assert.deepEqual(http("option httpchk GET /ping HTTP/1.1\\r\\nHost:\\ app.example.com"), {
    type: "http",
    http: { method: "GET", path: "/ping", host: "app.example.com" },
  });
  // Without "check" on the server, nothing is checked.
  assert.equal(servers(["option httpchk", "server s1 127.0.0.1:9000"])[0].check, undefined);
  rejects(
    beLines(["option httpchk GET / HTTP/2"]),
    BE,
    /invalid value "HTTP\/2" for "option httpchk": expected "HTTP\/1.0" or "HTTP\/1.1"/,
  );
  rejects(
    beLines(["option httpchk GET / HTTP/1.1\\r\\nAccept:\\ */*"]),
    BE,
    /invalid value "HTTP\/1.1\\r\\nAccept: \*\/\*" for "option httpchk": only a Host header can follow the version/,
  );
  rejects(
    beLines(["option httpchk GET / HTTP/1.1 x"]),
    BE,
    /unexpected argument "x" for "option httpchk"/,
  );
});

Deno.test("http-check expect [!] status|rstatus|string|rstring PATTERN", () => {
  const http = (line: string) =>
    servers(["option httpchk GET /", line, "server s1 127.0.0.1:9000 check"])[0].check?.http;
  const exp = (line: string) => http(line)?.expect;
  assert.deepEqual(http("http-check expect status 204"), {
    method: "GET",
    path: "/",
    expect: { match: "status", pattern: "204" },
  });
  assert.deepEqual(exp("http-check expect status 200-299,302"), {
    match: "status",
    pattern: "200-299,302",
  });
  assert.deepEqual(exp("http-check expect ! status 500-599"), {
    match: "status",
    pattern: "500-599",
    negate: true,
  });
  assert.deepEqual(exp("http-check expect !rstatus ^5"), {
    match: "rstatus",
    pattern: "^5",
    negate: true,
  });
  assert.deepEqual(exp('http-check expect string "all good"'), {
    match: "string",
    pattern: "all good",
  });
  assert.deepEqual(exp("http-check expect rstring ^ok\\s+[0-9]+"), {
    match: "rstring",
    pattern: "^ok\\s+[0-9]+",
  });
});

Deno.test("http-check send meth/uri/ver/hdr host overrides option httpchk's request", () => {
  const http = servers([
    "option httpchk",
    "http-check send meth GET uri /health ver HTTP/1.1 hdr Host app.local",
    "http-check expect status 200",
    "server s1 127.0.0.1:9000 check",
  ])[0].check?.http;
  assert.deepEqual(http, {
    method: "GET",
    path: "/health",
    host: "app.local",
    expect: { match: "status", pattern: "200" },
  });
});

Deno.test("http-check: unsupported forms, a second rule, and rules without option httpchk are errors", () => {
  const chk = (lines: string[]) =>
    beLines(["option httpchk", ...lines, "server s1 127.0.0.1:9000 check"]);
  rejects(
    chk(["http-check expect hdr name Server"]),
    BE + 1,
    /invalid value "hdr" for "http-check expect": expected status, rstatus, string or rstring \(log-format and header matches are not supported\)/,
  );
  rejects(
    chk(["http-check expect binary 00"]),
    BE + 1,
    /invalid value "binary" for "http-check expect": expected status, rstatus, string or rstring$/,
  );
  rejects(
    chk(["http-check expect status 2xx"]),
    BE + 1,
    /invalid value "2xx" for "http-check expect status": invalid status "2xx": expected codes or ranges such as 200-399,404/,
  );
  rejects(
    chk(["http-check expect status 300-200"]),
    BE + 1,
    /invalid value "300-200" for "http-check expect status": invalid status range "300-200"/,
  );
  rejects(
    chk(["http-check expect rstring (unclosed"]),
    BE + 1,
    /invalid value "\(unclosed" for "http-check expect rstring": invalid regular expression/,
  );
  rejects(
    chk(["http-check expect min-recv 10 string ok"]),
    BE + 1,
    /unsupported keyword "http-check expect min-recv"/,
  );
  rejects(
    chk(["http-check expect on-error %[src] status 200"]),
    BE + 1,
    /unsupported keyword "http-check expect on-error" in section "backend be": it needs log-format/,
  );
  rejects(
    chk(["http-check expect string ok extra"]),
    BE + 1,
    /invalid value "extra" for "http-check expect": expected status, rstatus, string or rstring/,
  );
  rejects(
    chk(["http-check expect string"]),
    BE + 1,
    /missing value for "http-check expect string"/,
  );
  rejects(
    chk(['http-check expect string ""']),
    BE + 1,
    /invalid value "" for "http-check expect string": "string" needs a pattern/,
  );
  rejects(
    chk(["http-check expect status 200", "http-check expect status 204"]),
    BE + 2,
    /only one "http-check expect" rule is supported \(the first one is at t.cfg:8\)/,
  );
  rejects(
    chk(["http-check send meth GET", "http-check send uri /"]),
    BE + 2,
    /only one "http-check send" rule is supported/,
  );
  rejects(chk(["http-check send body ok"]), BE + 1, /unsupported keyword "http-check send body"/);
  rejects(
    chk(["http-check send hdr Accept */*"]),
    BE + 1,
    /invalid value "Accept" for "http-check send hdr": only the Host header can be set/,
  );
  rejects(chk(["http-check send meth"]), BE + 1, /missing value for "http-check send meth"/);
  rejects(
    chk(["http-check send ver HTTP/2"]),
    BE + 1,
    /invalid value "HTTP\/2" for "http-check send ver"/,
  );
  rejects(chk(["http-check connect"]), BE + 1, /unsupported keyword "http-check connect"/);
  rejects(
    chk(["http-check disable-on-404"]),
    BE + 1,
    /unsupported keyword "http-check disable-on-404"/,
  );
  rejects(
    beLines(["http-check expect status 200", "server s1 127.0.0.1:9000 check"]),
    BE,
    /"http-check expect" needs "option httpchk" in section "backend be"/,
  );
  // Inherited from defaults without option httpchk: unused, as in HAProxy.
  const cfg = parse([
    "defaults",
    "  http-check expect status 200",
    ...beLines(["server s1 127.0.0.1:9000 check"]),
  ]);
  assert.deepEqual(cfg.backends[0].servers[0].check, { type: "tcp" });
});

// ---------------------------------------------------------------- tcp-check

Deno.test("option tcp-check and tcp-check rules make a scripted TCP check", () => {
  const [s] = servers([
    "option tcp-check",
    "tcp-check comment PING\\ phase",
    "tcp-check connect port 6380 ssl send-proxy comment redis",
    "tcp-check send PING\\r\\n",
    "tcp-check send-binary 50494e470d0a comment bin",
    "tcp-check expect min-recv 5 comment pong ! string -ERR",
    "tcp-check expect rstring ^\\+PONG",
    "tcp-check expect !binary 2d455252",
    "tcp-check expect rbinary ^2B",
    "tcp-check connect default",
    "server s1 127.0.0.1:6379 check",
  ]);
  assert.deepEqual(s.check, {
    type: "tcp",
    tcpCheck: [
      { action: "comment", text: "PING phase" },
      { action: "connect", port: 6380, ssl: true, sendProxy: true, comment: "redis" },
      { action: "send", data: "PING\r\n" },
      { action: "send-binary", hex: "50494e470d0a", comment: "bin" },
      {
        action: "expect",
        match: "string",
        pattern: "-ERR",
        negate: true,
        minRecv: 5,
        comment: "pong",
      },
      { action: "expect", match: "rstring", pattern: "^\\+PONG" },
      { action: "expect", match: "binary", pattern: "2d455252", negate: true },
      { action: "expect", match: "rbinary", pattern: "^2B" },
      { action: "connect", default: true },
    ],
  });
  // Options anywhere, as HAProxy; each "!" toggles.
  const [t] = servers([
    "option tcp-check",
    "tcp-check expect string +OK comment ok min-recv 3",
    "tcp-check expect !! string x",
    "server s1 127.0.0.1:6379 check",
  ]);
  assert.deepEqual(t.check?.tcpCheck, [
    { action: "expect", match: "string", pattern: "+OK", minRecv: 3, comment: "ok" },
    { action: "expect", match: "string", pattern: "x" },
  ]);
  // option tcp-check alone: a connection only.
  assert.deepEqual(servers(["option tcp-check", "server s1 127.0.0.1:1 check"])[0].check, {
    type: "tcp",
    tcpCheck: [],
  });
});

Deno.test("tcp-check rules: a section's own replace the defaults', the last option wins", () => {
  const cfg = parse([
    "defaults",
    "  option tcp-check",
    "  tcp-check send A\\n",
    "  tcp-check expect string a",
    ...beLines(["server s1 127.0.0.1:1 check"], "tcp"),
    "backend be2",
    "  mode tcp",
    "  tcp-check expect string own",
    "  server s1 127.0.0.1:1 check",
    "backend be3",
    "  mode tcp",
    "  option httpchk",
    "  server s1 127.0.0.1:1 check",
  ]);
  assert.deepEqual(cfg.backends[0].servers[0].check?.tcpCheck, [
    { action: "send", data: "A\n" },
    { action: "expect", match: "string", pattern: "a" },
  ]);
  assert.deepEqual(cfg.backends[1].servers[0].check?.tcpCheck, [
    { action: "expect", match: "string", pattern: "own" },
  ]);
  assert.equal(cfg.backends[2].servers[0].check?.type, "http");
  assert.equal(cfg.backends[2].servers[0].check?.tcpCheck, undefined);
});

Deno.test("tcp-check: bad patterns, unsupported options and rules without the option are errors at their line", () => {
  const chk = (lines: string[]) =>
    beLines(["option tcp-check", ...lines, "server s1 127.0.0.1:9000 check"], "tcp");
  rejects(
    chk(["tcp-check expect binary 0"]),
    BE + 1,
    /invalid value "0" for "tcp-check expect binary": invalid hexadecimal string "0"/,
  );
  rejects(
    chk(["tcp-check expect rstring (x"]),
    BE + 1,
    /invalid value "\(x" for "tcp-check expect rstring": invalid regular expression/,
  );
  rejects(
    chk(["tcp-check expect status 200"]),
    BE + 1,
    /invalid value "status" for "tcp-check expect": expected string, rstring, binary or rbinary/,
  );
  rejects(
    chk(["tcp-check expect string-lf %[src]"]),
    BE + 1,
    /log-format and header matches are not supported/,
  );
  rejects(
    chk(["tcp-check expect ok-status L4OK string x"]),
    BE + 1,
    /unsupported keyword "tcp-check expect ok-status" in section "backend be"/,
  );
  rejects(
    chk(["tcp-check expect string x on-error %[src]"]),
    BE + 1,
    /unsupported keyword "tcp-check expect on-error" in section "backend be": it needs log-format or sample expressions/,
  );
  rejects(
    chk(["tcp-check expect string x rstring y"]),
    BE + 1,
    /"tcp-check expect" takes one match, got "string" and "rstring"/,
  );
  rejects(chk(["tcp-check expect min-recv 3"]), BE + 1, /"tcp-check expect" needs a match/);
  rejects(
    chk(["tcp-check expect min-recv 99999 string x"]),
    BE + 1,
    /invalid value "99999" for "tcp-check expect min-recv": expected -1 to 16384/,
  );
  rejects(chk(["tcp-check expect"]), BE + 1, /missing value for "tcp-check expect"/);
  rejects(chk(["tcp-check expect string"]), BE + 1, /missing value for "tcp-check expect string"/);
  rejects(
    chk(["tcp-check send-binary 5g"]),
    BE + 1,
    /invalid value "5g" for "tcp-check send-binary": expected an even count of hexadecimal digits/,
  );
  rejects(
    chk(["tcp-check send a b"]),
    BE + 1,
    /unexpected argument "b" for "tcp-check send"/,
  );
  rejects(
    chk(["tcp-check connect port 0"]),
    BE + 1,
    /invalid value "0" for "tcp-check connect port": expected a port from 1 to 65535/,
  );
  rejects(
    chk(["tcp-check connect port src_port"]),
    BE + 1,
    /expected a port number \(sample expressions are not supported\)/,
  );
  rejects(
    chk(["tcp-check connect sni example.com"]),
    BE + 1,
    /unsupported keyword "tcp-check connect sni"/,
  );
  rejects(chk(["tcp-check send-lf %[src]"]), BE + 1, /unsupported keyword "tcp-check send-lf"/);
  rejects(
    chk(["tcp-check set-var(check.x) int(1)"]),
    BE + 1,
    /unsupported keyword "tcp-check set-var\(check.x\)"/,
  );
  rejects(
    beLines(["tcp-check expect string x", "server s1 127.0.0.1:9000 check"], "tcp"),
    BE,
    /"tcp-check" needs "option tcp-check" in section "backend be"/,
  );
  rejects(
    feLines(["option tcp-check"]),
    3,
    /keyword "option tcp-check" is not allowed in section "frontend fe"/,
  );
});

Deno.test("check-send-proxy sets check.sendProxy; it needs check", () => {
  const [s] = servers(["server s1 127.0.0.1:1 check check-send-proxy send-proxy-v2"]);
  assert.deepEqual(s.check, { type: "tcp", sendProxy: true });
  assert.equal(s.sendProxy, "v2");
  rejects(
    beLines(["server s1 127.0.0.1:1 check-send-proxy"]),
    BE,
    /"check-send-proxy" on server needs "check"/,
  );
});

Deno.test("agent-check, agent-port, agent-inter, agent-send make the server's agent", () => {
  const [s] = parse([
    "defaults",
    "  timeout check 3s",
    ...beLines([
      "server s1 10.0.0.1:80 check agent-check agent-port 9999 agent-inter 5s agent-send ping\\n",
    ]),
  ]).backends[0].servers;
  assert.deepEqual(s.agent, { port: 9999, inter: 5000, send: "ping\n", timeout: 3000 });
  rejects(
    beLines(["server s1 10.0.0.1:80 agent-check"]),
    BE,
    /"agent-check" on server needs "agent-port"/,
  );
  rejects(
    beLines(["server s1 10.0.0.1:80 agent-port 9999"]),
    BE,
    /"agent-port" on server needs "agent-check"/,
  );
  rejects(
    beLines(["server s1 10.0.0.1:80 agent-check agent-port 0"]),
    BE,
    /invalid value "0" for "server agent-port": expected a port from 1 to 65535/,
  );
  rejects(
    beLines(["server s1 10.0.0.1:80 agent-check agent-port 1 agent-addr 10.0.0.2"]),
    BE,
    /unsupported keyword "server agent-addr"/,
  );
});

// ---------------------------------------------------------------- servers

Deno.test("server: every option maps to the server model", () => {
  const [s] = servers([
    "server web1 10.0.0.1:8080 weight 10 maxconn 100 maxqueue 20 backup disabled slowstart 30s" +
    " cookie c1 check inter 3s fastinter 1s downinter 10s rise 3 fall 4 port 8081" +
    " observe layer7 error-limit 5 on-error mark-down",
  ]);
  assert.deepEqual(s, {
    name: "web1",
    address: "10.0.0.1:8080",
    weight: 10,
    maxconn: 100,
    maxqueue: 20,
    backup: true,
    state: "maint",
    slowstart: 30_000,
    cookie: "c1",
    check: {
      type: "tcp",
      inter: 3000,
      fastinter: 1000,
      downinter: 10_000,
      rise: 3,
      fall: 4,
      port: 8081,
    },
    observe: { mode: "layer7", errorLimit: 5, onError: "mark-down" },
  });
  assert.deepEqual(servers(["server a 127.0.0.1:1 check observe layer4"])[0].observe, {
    mode: "layer4",
  });
});

Deno.test("server: ssl, verify, ca-file (relative to the config file), sni str() and check-ssl", () => {
  withTempDirSync((dir) => {
    Deno.writeTextFileSync(join(dir, "ca.pem"), CA_PEM);
    const cfg = parseConfigText(
      beLines([
        "server s1 10.0.0.1:443 ssl verify required ca-file ca.pem sni str(app.internal) check check-ssl",
        "server s2 10.0.0.2:443 ssl verify none",
        "server s3 10.0.0.3:80 check check-ssl",
      ]).join("\n"),
      join(dir, "haproxy.cfg"),
      {},
    );
    const [s1, s2, s3] = cfg.backends[0].servers;
    assert.deepEqual(s1.tls, { verify: "required", ca: [CA_PEM], sni: "app.internal" });
    assert.deepEqual(s1.check, { type: "tcp", tls: true });
    assert.deepEqual(s2.tls, { verify: "none" });
    assert.equal(s3.tls, undefined);
    assert.deepEqual(s3.check, { type: "tcp", tls: true });
    resolveConfig(cfg);
  });
});

Deno.test("default-server: options apply to the servers after it; server options win", () => {
  const list = servers([
    "server s0 127.0.0.1:9000",
    "default-server check inter 5s maxconn 50",
    "default-server rise 1",
    "server s1 127.0.0.1:9001",
    "server s2 127.0.0.1:9002 inter 1s maxconn 10",
  ]);
  assert.deepEqual(list[0], { name: "s0", address: "127.0.0.1:9000" });
  assert.deepEqual(list[1], {
    name: "s1",
    address: "127.0.0.1:9001",
    maxconn: 50,
    check: { type: "tcp", inter: 5000, rise: 1 },
  });
  assert.deepEqual(list[2], {
    name: "s2",
    address: "127.0.0.1:9002",
    maxconn: 10,
    check: { type: "tcp", inter: 1000, rise: 1 },
  });
  // default-server of a defaults section, and TLS settings used only by ssl servers.
  const cfg = parse([
    "defaults",
    "  default-server check verify none",
    ...beLines(["server a 127.0.0.1:1", "server b 127.0.0.1:2 ssl"]),
  ]);
  assert.deepEqual(cfg.backends[0].servers, [
    { name: "a", address: "127.0.0.1:1", check: { type: "tcp" } },
    { name: "b", address: "127.0.0.1:2", check: { type: "tcp" }, tls: { verify: "none" } },
  ]);
});

Deno.test("server: options that cannot take effect are errors", () => {
  rejects(beLines(["server s1 127.0.0.1:1 inter 2s"]), BE, /"inter" on server needs "check"/);
  rejects(beLines(["server s1 127.0.0.1:1 check-ssl"]), BE, /"check-ssl" on server needs "check"/);
  rejects(beLines(["server s1 127.0.0.1:1 verify none"]), BE, /"verify" on server needs "ssl"/);
  rejects(beLines(["server s1 127.0.0.1:1 sni str(x)"]), BE, /"sni" on server needs "ssl"/);
  rejects(
    beLines(["server s1 127.0.0.1:1 check error-limit 3"]),
    BE,
    /"error-limit" on server needs "observe"/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 observe layer4"]),
    BE,
    /"observe" on server needs "check"/,
  );
});

Deno.test("server: bad values, missing values and unsupported options name the option", () => {
  rejects(beLines(["server s1"]), BE, /missing value for "server"/);
  rejects(beLines(["server s1 127.0.0.1:1 weight"]), BE, /missing value for "server weight"/);
  rejects(
    beLines(["server s1 127.0.0.1:1 weight heavy"]),
    BE,
    /invalid value "heavy" for "server weight": expected a non-negative integer/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 slowstart 1y"]),
    BE,
    /invalid value "1y" for "server slowstart": unknown unit "y"/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 check observe layer5"]),
    BE,
    /invalid value "layer5" for "server observe": expected "layer4" or "layer7"/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 check observe layer4 on-error kill"]),
    BE,
    /invalid value "kill" for "server on-error": expected "fail-check", "fastinter" or "mark-down"/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 ssl verify maybe"]),
    BE,
    /invalid value "maybe" for "server verify"/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 ssl verify none sni req.nope(host)"]),
    BE,
    /unknown fetch "req\.nope"/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 ssl ca-file /nonexistent/ca.pem"]),
    BE,
    /invalid value "\/nonexistent\/ca.pem" for "server ca-file": cannot read it/,
  );
  rejects(
    beLines(["server s1 127.0.0.1:1 track be/s2"]),
    BE,
    /unsupported keyword "server track" in section "backend be" \(see docs\/migrating-from-haproxy\.md\)/,
  );
  rejects(
    beLines(["default-server agent-addr 10.0.0.1"]),
    BE,
    /unsupported keyword "default-server agent-addr"/,
  );
  rejects(beLines(["default-server"]), BE, /missing value for "default-server"/);
  rejects(
    feLines(["server s1 127.0.0.1:1"]),
    3,
    /keyword "server" is not allowed in section "frontend fe" \(only in backend or listen sections\)/,
  );
  rejects(
    ["defaults", "  server s1 127.0.0.1:1"],
    2,
    /keyword "server" is not allowed in section "defaults"/,
  );
});

Deno.test("server and bind addresses: HAProxy forms become sluice's", () => {
  const addr = (a: string) => servers([`server s1 ${a}`])[0].address;
  assert.equal(addr("10.0.0.1:80"), "10.0.0.1:80");
  assert.equal(addr("ipv4@10.0.0.1:80"), "10.0.0.1:80");
  assert.equal(addr("app.internal:8080"), "app.internal:8080");
  assert.equal(addr("::1:8080"), "[::1]:8080");
  assert.equal(addr("[2001:db8::1]:443"), "[2001:db8::1]:443");
  assert.equal(addr("ipv6@2001:db8::1:443"), "[2001:db8::1]:443");
  assert.equal(addr("/run/app.sock"), "unix:/run/app.sock");
  assert.equal(addr("unix@/run/app.sock"), "unix:/run/app.sock");
  const binds =
    frontend(["bind *:8080", "bind :::8443", "bind 127.0.0.1:0,[::1]:0", "bind /run/s.sock"]).binds;
  assert.deepEqual(binds, [
    { address: ":80" },
    { address: ":8080" },
    { address: "[::]:8443" },
    { address: "127.0.0.1:0" },
    { address: "[::1]:0" },
    { address: "unix:/run/s.sock" },
  ]);
  rejects(
    beLines(["server s1 10.0.0.1"]),
    BE,
    /invalid value "10.0.0.1" for "server": missing port/,
  );
  rejects(beLines(["server s1 10.0.0.1:+1"]), BE, /port offsets are not supported/);
  rejects(beLines(["server s1 tls://10.0.0.1:443"]), BE, /use the "ssl" option for TLS/);
  rejects(beLines(["server s1 unix:/x.sock"]), BE, /write unix@\/path or \/path/);
  rejects(beLines(["server s1 abns@app"]), BE, /the "abns@" address family is not supported/);
  rejects(beLines(["server s1 10.0.0.1:99999"]), BE, /invalid value "10.0.0.1:99999" for "server"/);
  rejects(
    feLines(["bind :8000-8010"]),
    3,
    /invalid value ":8000-8010" for "bind": port ranges are not supported/,
  );
  rejects(beLines(["server s1 10.0.0.1:0"]), BE, /invalid value "10.0.0.1:0" for "server"/);
});

// ---------------------------------------------------------------- bind, TLS

Deno.test("bind ssl crt: the PEM file is split into certificate chain and key", () => {
  withTempDirSync((dir) => {
    Deno.writeTextFileSync(join(dir, "site.pem"), `${CERT_PEM}\n${KEY_PEM}`);
    Deno.mkdirSync(join(dir, "certs"));
    Deno.writeTextFileSync(join(dir, "certs", "other.pem"), CERT_PEM);
    Deno.writeTextFileSync(join(dir, "certs", "other.pem.key"), KEY_PEM);
    const cfg = parseConfigText(
      feLines(["bind 127.0.0.1:0 ssl crt site.pem", "bind 127.0.0.1:0 crt certs/other.pem ssl"])
        .join("\n"),
      join(dir, "haproxy.cfg"),
      {},
    );
    const [a, b] = cfg.frontends[0].binds;
    assert.equal(a.address, "127.0.0.1:0");
    assert.equal(a.tls?.cert.trim(), CERT_PEM.trim());
    assert.equal(a.tls?.key.trim(), KEY_PEM.trim());
    assert.ok(!a.tls?.cert.includes("PRIVATE KEY"));
    assert.ok(!a.tls?.key.includes("CERTIFICATE"));
    assert.equal(b.tls?.cert.trim(), CERT_PEM.trim());
    assert.equal(b.tls?.key.trim(), KEY_PEM.trim());
    resolveConfig(cfg);
  });
});

Deno.test("bind: ssl without crt, unreadable or keyless certificates and other options are errors", () => {
  withTempDirSync((dir) => {
    Deno.writeTextFileSync(join(dir, "nokey.pem"), CERT_PEM);
    Deno.writeTextFileSync(join(dir, "keyonly.pem"), KEY_PEM);
    const file = join(dir, "h.cfg");
    const at = (line: number) => `${file}:${line}`;
    const run = (body: string[]) => () => parseConfigText(feLines(body).join("\n"), file, {});
    throwsAt(run(["bind :443 ssl"]), at(3), /"bind ... ssl" needs "crt FILE"/);
    throwsAt(run(["bind :443 crt nokey.pem"]), at(3), /"bind ... crt" needs "ssl"/);
    throwsAt(
      run(["bind :443 ssl crt missing.pem"]),
      at(3),
      /invalid value "missing.pem" for "bind crt": cannot read it/,
    );
    throwsAt(
      run(["bind :443 ssl crt nokey.pem"]),
      at(3),
      /invalid value "nokey.pem" for "bind crt": no private key in the file nor in "nokey.pem.key"/,
    );
    throwsAt(run(["bind :443 ssl crt keyonly.pem"]), at(3), /no certificate in the file/);
    // Several crt are chosen by SNI: each must be valid; a directory must hold one.
    Deno.writeTextFileSync(join(dir, "both.pem"), CERT_PEM + KEY_PEM);
    throwsAt(
      run(["bind :443 ssl crt both.pem crt keyonly.pem"]),
      at(3),
      /invalid value "keyonly.pem" for "bind crt": no certificate in the file/,
    );
    Deno.mkdirSync(join(dir, "empty"));
    throwsAt(run(["bind :443 ssl crt empty"]), at(3), /no certificate file in the directory/);
    throwsAt(
      run(["bind :443 ssl crt nokey.pem npn h2"]),
      at(3),
      /unsupported keyword "bind npn" in section "frontend fe"/,
    );
    throwsAt(run(["bind :80 defer-accept"]), at(3), /unsupported keyword "bind defer-accept"/);
    throwsAt(run(["bind"]), at(3), /missing value for "bind"/);
  });
  rejects(
    beLines(["bind :80"]),
    BE,
    /keyword "bind" is not allowed in section "backend be" \(only in frontend or listen sections\)/,
  );
});

// ---------------------------------------------------------------- TLS versions, ca-base, crt-base

Deno.test("TLS versions: ssl-min-ver/ssl-max-ver, no-/force- options, ssl-default-*-options, crt-base, ca-base", () => {
  withTempDirSync((dir) => {
    Deno.mkdirSync(join(dir, "certs"));
    Deno.writeTextFileSync(join(dir, "certs", "site.pem"), `${CERT_PEM}\n${KEY_PEM}`);
    Deno.mkdirSync(join(dir, "ca"));
    Deno.writeTextFileSync(join(dir, "ca", "root.pem"), CERT_PEM);
    const file = join(dir, "h.cfg");
    const load = (lines: string[]) => cfgParse([{ file, text: lines.join("\n") }], {});
    const cfg = (global: string[], fe: string[], be: string[] = []) =>
      load([
        "global",
        ...global.map((l) => `  ${l}`),
        "frontend fe",
        "  mode http",
        ...fe.map((l) => `  ${l}`),
        "  default_backend be",
        "backend be",
        "  mode http",
        ...be.map((l) => `  ${l}`),
        "  server s0 127.0.0.1:80",
      ]);
    const bindTls = (global: string[], opts: string) => {
      const r = cfg(["crt-base certs", ...global], [`bind :443 ssl crt site.pem ${opts}`]);
      const t = r.config.frontends[0].binds[0].tls!;
      return { min: t.minVersion, max: t.maxVersion, warnings: r.warnings.map((w) => w.message) };
    };
    assert.deepEqual(bindTls([], ""), { min: undefined, max: undefined, warnings: [] });
    assert.deepEqual(bindTls([], "ssl-min-ver TLSv1.3"), {
      min: "TLSv1.3",
      max: undefined,
      warnings: [],
    });
    assert.deepEqual(bindTls([], "ssl-max-ver TLSv1.2"), {
      min: undefined,
      max: "TLSv1.2",
      warnings: [],
    });
    assert.deepEqual(bindTls([], "no-tlsv13"), { min: undefined, max: "TLSv1.2", warnings: [] });
    assert.deepEqual(bindTls([], "force-tlsv13"), { min: "TLSv1.3", max: undefined, warnings: [] });
    assert.deepEqual(bindTls([], "no-sslv3 no-tlsv10 no-tlsv11"), {
      min: undefined,
      max: undefined,
      warnings: [],
    });
    // The global defaults, and a line's own options over them.
    assert.equal(bindTls(["ssl-default-bind-options ssl-min-ver TLSv1.3"], "").min, "TLSv1.3");
    assert.equal(
      bindTls(["ssl-default-bind-options ssl-min-ver TLSv1.3"], "ssl-min-ver TLSv1.2").min,
      undefined,
    );
    // Below TLS 1.2: loads, with a warning that older clients cannot connect.
    const old = bindTls(["ssl-default-bind-options ssl-min-ver TLSv1.0"], "");
    assert.equal(old.min, undefined);
    assert.equal(old.warnings.length, 1);
    assert.match(
      old.warnings[0],
      /h\.cfg:3: warning: TLSv1\.0 is below what sluice's TLS has \(TLS 1\.2 and 1\.3 only\)/,
    );
    // Servers: versions over ssl-default-server-options, ca-file under ca-base.
    const srv = cfg(
      ["ca-base ca", "ssl-default-server-options ssl-max-ver TLSv1.2"],
      ["bind :80"],
      [
        "server s1 127.0.0.1:443 ssl ca-file root.pem",
        "server s2 127.0.0.1:443 ssl force-tlsv13 verify none",
      ],
    ).config.backends[0].servers;
    assert.equal(srv[0].tls?.maxVersion, "TLSv1.2");
    assert.equal(srv[0].tls?.ca?.[0].trim(), CERT_PEM.trim());
    assert.equal(srv[1].tls?.minVersion, "TLSv1.3");
    assert.equal(srv[1].tls?.maxVersion, undefined);
    // Errors, each at its line.
    const fails = (global: string[], fe: string[], be: string[], line: number, re: RegExp) =>
      throwsAt(
        () => {
          const r = cfg(["crt-base certs", ...global], fe, be);
          if (r.errors.length > 0) throw r.errors[0];
        },
        `${file}:${line}`,
        re,
      );
    fails(
      [],
      ["bind :443 ssl crt site.pem no-tls-tickets"],
      [],
      5,
      /"no-tls-tickets" cannot be honoured: sluice's TLS \(Deno's rustls\) always issues TLS 1\.2 session tickets/,
    );
    fails(
      ["ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets"],
      [],
      [],
      3,
      /"no-tls-tickets" cannot be honoured/,
    );
    fails(
      [],
      ["bind :443 ssl crt site.pem ssl-max-ver TLSv1.1"],
      [],
      5,
      /no TLS version left: sluice's TLS has TLS 1\.2 and 1\.3 only/,
    );
    fails(
      [],
      ["bind :443 ssl crt site.pem force-tlsv11"],
      [],
      5,
      /"force-tlsv11": sluice's TLS has TLS 1\.2 and 1\.3 only, not TLSv1\.1/,
    );
    fails(
      [],
      ["bind :443 ssl crt site.pem ssl-min-ver TLSv1.4"],
      [],
      5,
      /invalid value "TLSv1\.4" for "bind ssl-min-ver"/,
    );
    fails([], ["bind :80 ssl-min-ver TLSv1.2"], [], 5, /"bind \.\.\. ssl-min-ver" needs "ssl"/);
    fails([], ["bind :80"], ["server s1 127.0.0.1:443 ssl-max-ver TLSv1.2"], 9, /needs "ssl"/);
    fails(
      ["ssl-default-bind-options strict-sni"],
      [],
      [],
      3,
      /unsupported keyword "ssl-default-bind-options strict-sni"/,
    );
  });
});

Deno.test("TLS cipher lists: Mozilla's intermediate settings load; a list leaving out a suite in play is an error", () => {
  withTempDirSync((dir) => {
    // The test certificate has an EC key: only the ECDSA suites are in play.
    Deno.writeTextFileSync(join(dir, "site.pem"), `${CERT_PEM}\n${KEY_PEM}`);
    const file = join(dir, "h.cfg");
    const mozilla = [
      "global",
      "  ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" +
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" +
      "ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:" +
      "DHE-RSA-CHACHA20-POLY1305",
      "  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
      "  ssl-default-bind-options prefer-client-ciphers no-sslv3 no-tlsv10 no-tlsv11",
      "  ssl-default-server-ciphers HIGH:!aNULL",
      "  ssl-default-server-options no-sslv3 no-tlsv10 no-tlsv11",
    ];
    const run = (
      global: string[],
      bind: string,
      server = "server s0 127.0.0.1:443 ssl verify none",
    ) =>
      cfgParse([{
        file,
        text: [
          ...global,
          "frontend fe",
          "  mode http",
          `  bind :443 ssl crt site.pem ${bind}`,
          "  default_backend be",
          "backend be",
          "  mode http",
          `  ${server}`,
        ].join("\n"),
      }], {});
    const ok = run(mozilla, "");
    assert.deepEqual(ok.errors.map((e) => e.message), []);
    assert.deepEqual(ok.warnings, []);
    assert.deepEqual(run([], "ciphers ECDSA:-CHACHA20:CHACHA20 prefer-client-ciphers").errors, []);
    const msg = (r: ReturnType<typeof run>) => r.errors.map((e) => e.message).join("\n");
    assert.match(
      msg(run([], "ciphers ECDHE-ECDSA-AES256-GCM-SHA384")),
      /h\.cfg:3: the cipher list \(\S*h\.cfg:3\) leaves out ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-ECDSA-CHACHA20-POLY1305, which sluice's TLS would still negotiate/,
    );
    // TLS 1.2 off: its list no longer matters.
    assert.deepEqual(
      run([], "ciphers ECDHE-ECDSA-AES256-GCM-SHA384 ssl-min-ver TLSv1.3").errors,
      [],
    );
    assert.match(
      msg(run(["global", "  ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384"], "")),
      /h\.cfg:5: the cipher suites \(\S*h\.cfg:2\) leave out TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256/,
    );
    // Towards servers every suite is offered: the list must allow all six.
    assert.match(
      msg(run([], "", "server s0 127.0.0.1:443 ssl verify none ciphers aECDSA")),
      /h\.cfg:7: the cipher list \(\S*h\.cfg:7\) leaves out ECDHE-RSA-AES128-GCM-SHA256/,
    );
    assert.match(
      msg(run(["global", "  ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384:TLS_FOO"], "")),
      /h\.cfg:2: invalid value .* "TLS_FOO" is not a TLS 1\.3 cipher suite/,
    );
  });
});

// ---------------------------------------------------------------- cookie, stickiness

Deno.test("cookie: insert/prefix with indirect, nocache and attributes", () => {
  assert.deepEqual(backend(["cookie SRV insert"]).cookie, { name: "SRV", mode: "insert" });
  assert.deepEqual(backend(["cookie JSESSIONID prefix"]).cookie, {
    name: "JSESSIONID",
    mode: "prefix",
  });
  assert.deepEqual(
    backend([
      "cookie SRV insert indirect nocache httponly secure domain .example.com attr SameSite=Lax",
    ])
      .cookie,
    {
      name: "SRV",
      mode: "insert",
      indirect: true,
      nocache: true,
      attributes: "Path=/; HttpOnly; Secure; Domain=.example.com; SameSite=Lax",
    },
  );
  rejects(beLines(["cookie SRV"]), BE, /"cookie" needs a mode: insert or prefix/);
  rejects(beLines(["cookie SRV indirect"]), BE, /"cookie" needs a mode/);
  rejects(
    beLines(["cookie SRV rewrite"]),
    BE,
    /unsupported keyword "cookie rewrite" in section "backend be"/,
  );
  rejects(beLines(["cookie SRV insert maxidle 30m"]), BE, /unsupported keyword "cookie maxidle"/);
  rejects(
    beLines(["cookie SRV insert prefix"]),
    BE,
    /"cookie" takes one mode, got "insert" and "prefix"/,
  );
  rejects(beLines(["cookie SRV insert domain"]), BE, /missing value for "cookie domain"/);
  rejects(
    beLines(["cookie SRV insert"], "tcp"),
    BE,
    /"cookie" needs mode http \(section "backend be" is in mode tcp\)/,
  );
  const inherited = parse(["defaults", "  cookie SRV insert", ...beLines([], "tcp")]);
  assert.equal(inherited.backends[0].cookie, undefined);
});

Deno.test("stick-table type ip + stick on src set source stickiness", () => {
  assert.deepEqual(
    backend(["stick-table type ip size 200k expire 10m", "stick on src"]).stickSource,
    {
      size: 204_800,
      expire: 600_000,
    },
  );
  assert.deepEqual(backend(["stick on src", "stick-table type ipv6 size 1000"]).stickSource, {
    size: 1000,
  });
  assert.deepEqual(backend(["stick-table type ip size 1m", "stick on src"]).stickSource, {
    size: 1 << 20,
  });
});

Deno.test("stick-table and stick on: one without the other and other forms are errors", () => {
  rejects(
    beLines(["stick-table type ip size 1k"]),
    BE,
    /"stick-table" needs "stick on src" in the same section/,
  );
  rejects(
    beLines(["stick on src"]),
    BE,
    /"stick on src" needs a "stick-table" in the same section/,
  );
  rejects(
    beLines(["stick on hdr(x)"]),
    BE,
    /invalid value "hdr\(x\)" for "stick on": only "stick on src" is supported/,
  );
  rejects(
    beLines(["stick match src"]),
    BE,
    /unsupported keyword "stick match" in section "backend be"/,
  );
  rejects(
    beLines(["stick-table type string size 1k"]),
    BE,
    /invalid value "string" for "stick-table type": expected "ip" or "ipv6"/,
  );
  rejects(
    beLines(["stick-table type ip size lots"]),
    BE,
    /invalid value "lots" for "stick-table size"/,
  );
  rejects(beLines(["stick-table type ip"]), BE, /"stick-table" needs "size N"/);
  rejects(beLines(["stick-table size 10"]), BE, /"stick-table" needs "type ip"/);
  rejects(
    beLines(["stick-table type ip size 1k store conn_cur"]),
    BE,
    /unsupported keyword "stick-table store"/,
  );
  rejects(
    ["defaults", "  stick on src"],
    2,
    /keyword "stick on" is not allowed in section "defaults"/,
  );
});

// ---------------------------------------------------------------- default_backend, errorfile

Deno.test("default_backend: required in a frontend, inherited from defaults, refused in listen", () => {
  const cfg = parse([
    "defaults",
    "  default_backend be",
    "frontend fe",
    "  bind :80",
    "backend be",
    "  server s1 127.0.0.1:9000",
  ]);
  assert.equal(cfg.frontends[0].defaultBackend, "be");
  rejects(
    ["frontend fe", "  bind :80"],
    1,
    /section "frontend fe" has no "default_backend"$/,
  );
  rejects(
    ["listen web", "  default_backend other"],
    2,
    /"default_backend" is not allowed in a listen section/,
  );
  rejects(
    beLines(["default_backend x"]),
    BE,
    /keyword "default_backend" is not allowed in section "backend be"/,
  );
});

Deno.test("errorfile: files are read relative to the config file; the backend's win", () => {
  withTempDirSync((dir) => {
    const r503 = "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";
    const fe503 = "HTTP/1.1 503 Frontend\r\nContent-Length: 0\r\n\r\n";
    const r400 = "HTTP/1.1 400 Nope\r\nContent-Length: 0\r\n\r\n";
    Deno.mkdirSync(join(dir, "errors"));
    Deno.writeTextFileSync(join(dir, "errors", "503.http"), r503);
    Deno.writeTextFileSync(join(dir, "errors", "fe503.http"), fe503);
    Deno.writeTextFileSync(join(dir, "errors", "400.http"), r400);
    const cfg = parseConfigText(
      [
        "frontend fe",
        "  mode http",
        "  bind :80",
        "  errorfile 400 errors/400.http",
        "  errorfile 503 errors/fe503.http",
        "  default_backend be",
        "backend be",
        "  mode http",
        `  errorfile 503 ${join(dir, "errors", "503.http")}`,
        "  server s1 127.0.0.1:9000",
      ].join("\n"),
      join(dir, "haproxy.cfg"),
      {},
    );
    const files = cfg.frontends[0].http?.errorFiles ?? {};
    const text = (b: string | Uint8Array | undefined) => new TextDecoder().decode(b as Uint8Array);
    assert.deepEqual(Object.keys(files).sort(), ["400", "503"]);
    assert.equal(text(files[400]), r400);
    assert.equal(text(files[503]), r503);
    resolveConfig(cfg);
    throwsAt(
      () =>
        parseConfigText(feLines(["errorfile 503 nope.http"]).join("\n"), join(dir, "x.cfg"), {}),
      `${join(dir, "x.cfg")}:3`,
      /invalid value "nope.http" for "errorfile": cannot read it/,
    );
  });
  rejects(feLines(["errorfile 5xx x"]), 3, /invalid value "5xx" for "errorfile"/);
  rejects(feLines(["errorfile 503"]), 3, /missing value for "errorfile"/);
});

Deno.test("errorfile and option forwardfor: errors in a tcp section, dropped when inherited", () => {
  withTempDirSync((dir) => {
    Deno.writeTextFileSync(join(dir, "503.http"), "HTTP/1.1 503 x\r\n\r\n");
    const file = join(dir, "h.cfg");
    const run = (lines: string[]) => () => parseConfigText(lines.join("\n"), file, {});
    throwsAt(
      run(feLines(["bind :80", "errorfile 503 503.http"], "tcp")),
      `${file}:4`,
      /"errorfile" needs mode http \(section "frontend fe" is in mode tcp\)/,
    );
    throwsAt(
      run(beLines(["errorfile 503 503.http"], "tcp")),
      `${file}:${BE}`,
      /"errorfile" needs mode http \(section "backend be" is in mode tcp\)/,
    );
    const cfg = run([
      "defaults",
      "  errorfile 503 503.http",
      "  option forwardfor",
      ...feLines(["bind :80"], "tcp"),
    ])();
    assert.equal(cfg.frontends[0].http, undefined);
    resolveConfig(cfg);
  });
  rejects(
    feLines(["bind :80", "option forwardfor"], "tcp"),
    4,
    /"option forwardfor" needs mode http \(section "frontend fe" is in mode tcp\)/,
  );
  // "no option forwardfor" in tcp is harmless.
  assert.equal(frontend(["no option forwardfor"], "tcp").http, undefined);
});

// ---------------------------------------------------------------- not supported yet

Deno.test("filter is an unsupported keyword", () => {
  rejects(
    feLines(["filter compression"]),
    3,
    /^t\.cfg:3: unsupported keyword "filter" in section "frontend fe" \(see docs\/migrating-from-haproxy\.md\)$/,
  );
});

Deno.test("acl, use_backend, http-request and http-response lines are kept as words with their place", () => {
  const f = frontend([
    "acl is_api path_beg /api",
    "use_backend be if is_api",
    'http-request set-header X-A "a b"',
    "http-response del-header Server",
    "tcp-request connection reject if { src 10.0.0.0/8 }",
  ]);
  assert.deepEqual(f.rules, {
    acls: [{ words: ["is_api", "path_beg", "/api"], where: "t.cfg:4" }],
    useBackends: [{ words: ["be", "if", "is_api"], where: "t.cfg:5" }],
    httpRequest: [{ words: ["set-header", "X-A", "a b"], where: "t.cfg:6" }],
    httpResponse: [{ words: ["del-header", "Server"], where: "t.cfg:7" }],
    tcpRequest: [{
      words: ["connection", "reject", "if", "{", "src", "10.0.0.0/8", "}"],
      where: "t.cfg:8",
    }],
  });
});

Deno.test("tcp-request inspect-delay, tcp-request content and use_backend in TCP mode", () => {
  const tcp = (body: string[]) => [
    "frontend fe", // 1
    "  mode tcp", // 2
    "  bind :443", // 3
    ...body.map((l) => `  ${l}`), // 4...
    "  default_backend be",
    "backend be",
    "  mode tcp",
    "  server s1 127.0.0.1:9000",
    "backend be_a",
    "  mode tcp",
    "  server s1 127.0.0.1:9001",
    "backend web",
    "  mode http",
    "  server s1 127.0.0.1:9002",
  ];
  const cfg = parse(tcp([
    "tcp-request inspect-delay 5s",
    "acl is_tls req.ssl_hello_type 1",
    "tcp-request content accept if is_tls",
    "tcp-request content reject",
    "use_backend be_a if { req.ssl_sni -i a.example }",
  ]));
  const f = cfg.frontends[0];
  assert.equal(f.inspectDelay, 5000);
  assert.deepEqual(f.rules?.tcpRequest, [
    { words: ["content", "accept", "if", "is_tls"], where: "t.cfg:6" },
    { words: ["content", "reject"], where: "t.cfg:7" },
  ]);
  const r = resolveConfig(cfg).frontends[0];
  assert.equal(r.inspectDelay, 5000);
  assert.equal(r.rules?.tcpContent.length, 2);
  assert.equal(r.rules?.tcpRequest.length, 0);
  assert.equal(r.rules?.useBackends[0].backend, "be_a");
  // A listen section takes them too; without default_backend, use_backend suffices.
  const listen = parse([
    "listen l",
    "  mode tcp",
    "  bind :443",
    "  tcp-request inspect-delay 1s",
    "  tcp-request content accept if { req.len gt 0 }",
    "  server s1 127.0.0.1:9000",
    "frontend f2",
    "  mode tcp",
    "  bind :444",
    "  use_backend l if { req.ssl_sni x }",
  ]);
  assert.equal(resolveConfig(listen).frontends[0].inspectDelay, 1000);
  assert.equal(resolveConfig(listen).frontends[1].backend, null);
  rejects(tcp(["tcp-request inspect-delay"]), 4, /missing value for "tcp-request inspect-delay"/);
  rejects(
    tcp(["tcp-request inspect-delay 5x"]),
    4,
    /invalid value "5x" for "tcp-request inspect-delay"/,
  );
  rejects(
    tcp(["tcp-request inspect-delay 1s", "tcp-request inspect-delay 2s"]),
    5,
    /"tcp-request inspect-delay" is given twice \(first at t\.cfg:4\)/,
  );
  rejects(
    [...tcp([]), "  tcp-request content reject"],
    14,
    /"tcp-request content" in a backend section is not supported yet/,
  );
  rejects(
    [...tcp([]), "  tcp-request connection reject"],
    14,
    /"tcp-request connection" is not allowed in a backend/,
  );
  rejects(
    ["defaults", "  tcp-request inspect-delay 1s"],
    2,
    /keyword "tcp-request" is not allowed in section "defaults"/,
  );
  /** Asserts that loading (parse and check) fails at `line` with a message matching `re`. */
  const refused = (body: string[], line: number, re: RegExp, mode = "tcp") => {
    const text = (mode === "tcp" ? tcp(body) : feLines(body)).join("\n");
    const errs = loadConfig([{ file: "t.cfg", text }], { env: {} }).errors;
    const err = errs.find((e) => e.where === `t.cfg:${line}`);
    assert.ok(err !== undefined, `an error at t.cfg:${line}: ${errs.map((e) => e.message)}`);
    assert.ok(err.message.startsWith(`t.cfg:${line}: `), err.message);
    assert.match(err.message, re);
  };
  refused(
    ["tcp-request content set-var(sess.x) src"],
    4,
    /unsupported action "tcp-request content set-var\(sess\.x\)"/,
  );
  refused(
    ["tcp-request content accept when x"],
    4,
    /unexpected "when" after tcp-request content accept/,
  );
  refused(
    ["tcp-request content accept if { path /a }"],
    4,
    /"path" cannot be used in TCP mode, which sees raw bytes/,
  );
  refused(
    ["use_backend web if { req.len gt 0 }"],
    4,
    /use_backend: backend "web" is not in tcp mode/,
  );
  refused(
    ["bind :80", "tcp-request content reject"],
    4,
    /tcp-request content rules need mode "tcp"/,
    "http",
  );
  refused(
    ["bind :80", "http-request deny if { req.ssl_sni a }"],
    4,
    /"req\.ssl_sni" reads the raw request bytes, which only TCP-mode "tcp-request content" rules and use_backend see \(for TLS terminated here, use "ssl_fc_sni"/,
    "http",
  );
  refused(
    ["tcp-request connection reject if { req.len gt 0 }"],
    4,
    /"req\.len" reads the raw request bytes/,
  );
  refused(["tcp-request content accept if { req.ssl_ver 3.x }"], 4, /expected a dotted version/);
});

Deno.test("sections: keywords outside a section, unknown sections, names and duplicates", () => {
  rejects(
    ["maxconn 10"],
    1,
    /keyword "maxconn" outside of any section \(expected global, defaults, frontend, backend or listen first\)/,
  );
  rejects(
    ["global", "resolvers dns", "  nameserver a 1.1.1.1:53"],
    2,
    /unsupported section "resolvers" \(see docs\/migrating-from-haproxy\.md\)/,
  );
  rejects(["mailers alerts"], 1, /unsupported section "mailers"/);
  rejects(["frontend"], 1, /missing name for "frontend"/);
  rejects(
    ["listen stats 0.0.0.0:9000"],
    1,
    /unexpected argument "0.0.0.0:9000" for "listen" \(addresses go on "bind" lines\)/,
  );
  rejects(["backend be extra"], 1, /unexpected argument "extra" for "backend"$/);
  rejects(
    ["defaults a", "frontend fe from a"],
    2,
    /unsupported keyword "from" in section "frontend fe"/,
  );
  rejects(["defaults a from b"], 1, /unsupported keyword "from" in section "defaults"/);
  rejects(["defaults a b"], 1, /unexpected argument "b" for "defaults"/);
  rejects(
    ["frontend web", "  bind :80", "listen web"],
    3,
    /section "listen web" has the name of "frontend web" at t.cfg:1/,
  );
  rejects(
    ["backend app", "backend app"],
    2,
    /section "backend app" has the name of "backend app" at t.cfg:1/,
  );
  // A frontend and a backend may share a name, as in HAProxy.
  const cfg = parse([
    "frontend app",
    "  bind :80",
    "  default_backend app",
    "backend app",
    "  server s 127.0.0.1:1",
  ]);
  assert.equal(cfg.frontends[0].defaultBackend, "app");
});

Deno.test("listen: one section makes a frontend and a backend of the same name", () => {
  const cfg = parse([
    "listen db",
    "  mode tcp",
    "  bind 127.0.0.1:5432",
    "  maxconn 50",
    "  timeout client 1m",
    "  timeout server 1m",
    "  balance leastconn",
    "  server pg1 10.0.0.1:5432 check",
  ]);
  assert.deepEqual(cfg.frontends, [{
    name: "db",
    mode: "tcp",
    binds: [{ address: "127.0.0.1:5432" }],
    maxconn: 50,
    timeouts: { client: 60_000 },
    defaultBackend: "db",
    log: { targets: [] },
  }]);
  assert.deepEqual(cfg.backends, [{
    name: "db",
    mode: "tcp",
    balance: "leastconn",
    timeouts: { server: 60_000 },
    log: { targets: [] },
    servers: [{ name: "pg1", address: "10.0.0.1:5432", check: { type: "tcp" } }],
  }]);
  resolveConfig(cfg);
  // A listen ignores a default_backend inherited from defaults: it serves its own servers.
  const own = parse([
    "defaults",
    "  default_backend elsewhere",
    "listen x",
    "  bind :80",
    "  server s 127.0.0.1:1",
  ]);
  assert.equal(own.frontends[0].defaultBackend, "x");
  // HTTP in a listen section: forwardfor and errorfile come from the same section.
  const http = parse([
    "listen w",
    "  mode http",
    "  option forwardfor",
    "  bind :80",
    "  server s 127.0.0.1:1",
  ]);
  assert.deepEqual(http.frontends[0].http, { forwardFor: true, forwardedProto: true });
});

Deno.test("defaults: values apply to the proxies after the section; a new defaults section resets them", () => {
  const cfg = parse([
    "defaults base",
    "  mode http",
    "  timeout client 11s",
    "  timeout connect 2s",
    "  retries 7",
    "  option forwardfor",
    "  balance leastconn",
    "  default-server check inter 4s",
    "frontend fe1",
    "  bind :81",
    "  default_backend be1",
    "backend be1",
    "  timeout connect 3s",
    "  server s1 127.0.0.1:9001",
    "defaults",
    "  mode tcp",
    "frontend fe2",
    "  bind :82",
    "  default_backend be2",
    "backend be2",
    "  server s2 127.0.0.1:9002",
  ]);
  const [fe1, fe2] = cfg.frontends;
  const [be1, be2] = cfg.backends;
  assert.equal(fe1.mode, "http");
  assert.deepEqual(fe1.timeouts, { client: 11_000, tarpit: 2_000 });
  assert.deepEqual(fe1.http, { forwardFor: true, forwardedProto: true });
  assert.deepEqual(be1, {
    name: "be1",
    mode: "http",
    balance: "leastconn",
    retries: 7,
    timeouts: { connect: 3000 },
    http: { forwardFor: true },
    log: { targets: [] },
    servers: [{ name: "s1", address: "127.0.0.1:9001", check: { type: "tcp", inter: 4000 } }],
  });
  // The second defaults section starts afresh.
  assert.deepEqual(fe2, {
    name: "fe2",
    mode: "tcp",
    binds: [{ address: ":82" }],
    defaultBackend: "be2",
    log: { targets: [] },
  });
  assert.deepEqual(be2, {
    name: "be2",
    mode: "tcp",
    log: { targets: [] },
    servers: [{ name: "s2", address: "127.0.0.1:9002" }],
  });
  resolveConfig(cfg);
});

Deno.test("defaults: a keyword only a proxy can have is refused there", () => {
  rejects(
    ["defaults", "  bind :80"],
    2,
    /keyword "bind" is not allowed in section "defaults" \(only in frontend or listen sections\)/,
  );
  rejects(
    ["defaults", "  stick-table type ip size 1"],
    2,
    /keyword "stick-table" is not allowed in section "defaults"/,
  );
  rejects(
    ["defaults web", "  acl a src 1.2.3.4"],
    2,
    /keyword "acl" is not allowed in section "defaults web" \(only in frontend, backend or listen sections\)/,
  );
});

Deno.test("environment variables expand in keyword values", () => {
  const cfg = parse(
    [
      "frontend fe",
      '  bind "${ADDR}:${PORT}"',
      "  default_backend be",
      "backend be",
      "  server s1 ${BACKEND}:80 weight ${WEIGHT-1}",
    ],
    { ADDR: "127.0.0.1", PORT: "8080", BACKEND: "10.0.0.5" },
  );
  assert.deepEqual(cfg.frontends[0].binds, [{ address: "127.0.0.1:8080" }]);
  assert.deepEqual(cfg.backends[0].servers[0], { name: "s1", address: "10.0.0.5:80", weight: 1 });
  // Single quotes are literal, so the address is the text "${LITERAL}:80", refused as an address.
  assert.throws(
    () => parse(["backend be", "  server s2 '${LITERAL}':80"]),
    /invalid value "\$\{LITERAL\}:80" for "server"/,
  );
  rejects(["frontend fe", '  bind "${MISSING}:80"'], 2, /undefined environment variable "MISSING"/);
});

// ---------------------------------------------------------------- files

Deno.test("parseConfigFiles() reads files in order as one configuration", () => {
  withTempDirSync((dir) => {
    const a = join(dir, "a.cfg");
    const b = join(dir, "b.cfg");
    Deno.writeTextFileSync(
      a,
      "global\n  maxconn 100\ndefaults\n  mode http\n  timeout client 9s\n",
    );
    Deno.writeTextFileSync(
      b,
      "frontend fe\n  bind :80\n  default_backend be\nbackend be\n  server s1 ${HOST}:80\n",
    );
    const cfg = parseConfigFiles([a, b], { HOST: "10.1.1.1" });
    assert.deepEqual(cfg.global, { maxconn: 100 });
    // The defaults of the first file apply to the proxies of the second.
    assert.equal(cfg.frontends[0].mode, "http");
    assert.deepEqual(cfg.frontends[0].timeouts, { client: 9000 });
    assert.equal(cfg.backends[0].servers[0].address, "10.1.1.1:80");
    resolveConfig(cfg);
  });
});

Deno.test("parseConfigFiles(): each file starts outside any section; errors name their file", () => {
  withTempDirSync((dir) => {
    const a = join(dir, "a.cfg");
    const b = join(dir, "b.cfg");
    const c = join(dir, "c.cfg");
    Deno.writeTextFileSync(a, "global\n  maxconn 100\n");
    Deno.writeTextFileSync(b, "# continues?\n  maxconn 200\n");
    Deno.writeTextFileSync(c, "backend be\n\n  server s1 127.0.0.1:1 bogus\n");
    throwsAt(
      () => parseConfigFiles([a, b], {}),
      `${b}:2`,
      /keyword "maxconn" outside of any section/,
    );
    throwsAt(
      () => parseConfigFiles([a, c], {}),
      `${c}:3`,
      /unsupported keyword "server bogus" in section "backend be"/,
    );
    const missing = join(dir, "missing.cfg");
    throwsAt(
      () => parseConfigFiles([a, missing], {}),
      missing,
      /cannot read the configuration file/,
    );
  });
  assert.throws(() => parseConfigFiles([], {}), /No configuration file given/);
});

Deno.test("parseConfigFiles() takes environment variables from the process by default", () => {
  withTempDirSync((dir) => {
    const f = join(dir, "env.cfg");
    Deno.writeTextFileSync(f, 'global\n  maxconn "${SLUICE_TEST_MAXCONN}"\n');
    Deno.env.set("SLUICE_TEST_MAXCONN", "321");
    try {
      assert.deepEqual(parseConfigFiles([f]).global, { maxconn: 321 });
    } finally {
      Deno.env.delete("SLUICE_TEST_MAXCONN");
    }
  });
});

Deno.test("the configuration examples in README and docs/ parse", () => {
  const docs = [...Deno.readDirSync(join(ROOT, "docs"))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => join("docs", e.name));
  let count = 0;
  for (const file of ["README.md", "CONTRIBUTING.md", ...docs]) {
    const text = Deno.readTextFileSync(join(ROOT, file));
    // Fenced blocks without a language, opening and closing fences paired.
    const blocks: string[] = [];
    let block: string[] | null = null, plain = false;
    for (const line of text.split("\n")) {
      const fence = /^```(.*)$/.exec(line);
      if (fence === null) block?.push(line);
      else if (block === null) [block, plain] = [[], fence[1].trim() === ""];
      else {
        if (plain) blocks.push(block.join("\n"));
        block = null;
      }
    }
    const configs = blocks.filter((b) =>
      /^(global|defaults|frontend|backend|listen|userlist)\b/.test(b)
    );
    for (const b of configs) {
      const cfg = parseConfigText(b, file, {});
      assert.ok(cfg.frontends.length + cfg.backends.length > 0 || cfg.global?.stats, file);
      count++;
    }
  }
  assert.ok(count >= 4, `configuration examples found: ${count}`);
});

Deno.test("a listen section with stats enable is the stats listener", () => {
  const cfg = parse([
    "listen stats",
    "  mode http",
    "  bind 127.0.0.1:8404",
    "  stats enable",
    "  stats uri /",
    "  stats refresh 5s",
    "  stats auth admin:secret",
    ...feLines([]),
  ]);
  assert.deepEqual(cfg.global?.stats, {
    address: "127.0.0.1:8404",
    auth: "admin:secret",
    refresh: 5,
  });
  assert.equal(cfg.frontends.length, 1, "not a proxy");
  rejects(
    ["listen stats", "  bind :8404", "  stats enable", "  server s 127.0.0.1:1", ...feLines([])],
    3,
    /only serves stats in sluice/,
  );
  rejects(
    ["listen stats", "  bind :8404", "  stats auth a:b", "  stats auth c:d"],
    4,
    /only one "stats auth"/,
  );
});
