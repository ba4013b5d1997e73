/**
 * resolveConfig(): defaults, references, and errors that name the field.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { ffiUnavailable } from "../../lib/conn/ffi/libc.ts";
import {
  DEFAULT_GRACE_MS,
  DEFAULT_LOG_QUEUE_BYTES,
  DEFAULT_MAXCONN,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUTS,
} from "../../lib/cfg/config_defaults.ts";
import type { SluiceConfig } from "../../lib/cfg/config_types.ts";
import { SluiceError, type SluiceErrorCode } from "../../lib/core/errors.ts";
import { DEFAULT_BUFSIZE } from "../../lib/core/pool.ts";
import { lc } from "../../lib/http/h1_chars.ts";
import { DEFAULT_BUDGET } from "../../lib/sched/scheduler.ts";

const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

/** The smallest valid configuration: one frontend, one backend, one server. */
function minimal(): SluiceConfig {
  return {
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{ name: "be", servers: [{ name: "s1", address: "127.0.0.1:9000" }] }],
  };
}

/** Checks that `cfg` fails with `code`, at `where`, with a message matching `re`. */
function rejects(
  cfg: unknown,
  where: string,
  re: RegExp,
  code: SluiceErrorCode = "ERR_CONFIG",
): void {
  assert.throws(
    () => resolveConfig(cfg as SluiceConfig),
    (thrown: unknown) => {
      assert.ok(thrown instanceof SluiceError, `a SluiceError, got ${thrown}`);
      // One of the errors, when there are several.
      const err = (thrown.errors ?? [thrown]).find((e) => e.where === where);
      assert.ok(err !== undefined, `an error at ${where}: ${thrown.message}`);
      assert.equal(err.code, code);
      assert.equal(err.where, where);
      assert.ok(
        err.message.startsWith(`Invalid configuration at ${where}: `),
        `message names the field: ${err.message}`,
      );
      assert.match(err.message, re);
      assert.doesNotMatch(err.message, /\.$/, "no final period");
      return true;
    },
  );
}

/** `minimal()` changed by `edit`. */
function withEdit(edit: (cfg: SluiceConfig) => void): SluiceConfig {
  const cfg = minimal();
  edit(cfg);
  return cfg;
}

Deno.test("resolveConfig() takes global.io, else SLUICE_IO, and refuses other values", () => {
  const c = minimal();
  c.global = { io: "ffi" };
  assert.equal(resolveConfig(c).global.io, "ffi");
  c.global = { io: "epoll" as "ffi" };
  assert.throws(() => resolveConfig(c), /global\.io: expected "node" or "ffi", got "epoll"/);
  c.global = { io: "node" };
  assert.equal(resolveConfig(c).global.io, "node");
});

Deno.test("resolveConfig() applies every default to a minimal configuration", () => {
  const r = resolveConfig(minimal());
  assert.deepEqual(r.global, {
    maxconn: 4096,
    bufsize: 16384,
    buffers: 2 * 4096 + 64,
    largeBuffers: 256,
    runqueueDepth: 200,
    sslCertExpiryWarning: 30,
    // SLUICE_IO sets the default (CI runs the suite once with "node"),
    // else the FFI layer where it can run.
    io: Deno.env.get("SLUICE_IO") || (ffiUnavailable() === null ? "ffi" : "node"),
    graceMs: 10_000,
    maxHdrs: 101,
    maxRewrite: 1024,
    maxBody: 0,
    log: {
      targets: [{
        target: "stdout",
        header: { format: "raw", facility: 16, host: "-" },
        level: 7,
        minLevel: 0,
        maxLen: Infinity,
        key: '"stdout" raw 16 7 0 Infinity',
      }],
      format: "tcplog",
      queueBytes: 1 << 20,
    },
    stats: null,
    tlsIsolation: false,
    tlsThreads: 1,
    adminSocket: null,
    pidfile: null,
    nbthread: null,
  });
  assert.deepEqual(r.frontends, [{
    name: "fe",
    mode: "http",
    binds: [{ addr: { kind: "tcp", host: "127.0.0.1", port: 0 }, tls: null, acceptProxy: false }],
    maxconn: 4096,
    clientTimeout: 30_000,
    backend: "be",
    rules: null,
    hooks: null,
    inspectDelay: 0,
    log: {
      targets: ["global"],
      format: null,
      sd: null,
      dontLogNull: false,
      separateErrors: false,
      captureRequest: [],
      captureResponse: [],
      uniqueId: null,
      uniqueIdHeader: null,
      slots: { reqCaptures: 0, resCaptures: 0, req: [], res: [] },
    },
    http: {
      httpRequestTimeout: 10_000,
      keepAliveTimeout: 10_000,
      forwardFor: {
        header: "X-Forwarded-For",
        lname: lc("x-forwarded-for"),
        except: null,
        ifNone: false,
      },
      connMode: 0,
      bufferRequest: false,
      monitorUri: null,
      tarpitTimeout: 5000,
      forwardedProto: true,
      forwarded: false,
      compression: null,
      errorFiles: new Map(),
    },
  }]);
  assert.deepEqual(r.backends, [{
    name: "be",
    mode: "http",
    balance: { algo: "roundrobin" },
    retries: 3,
    redispatch: -1,
    httpReuse: "safe",
    fullconn: 410,
    timeouts: { connect: 5000, server: 30_000, tunnel: 0, queue: 5000, tarpit: 5000 },
    cookie: null,
    stickSource: null,
    hooks: null,
    http: {
      connMode: 0,
      forwardFor: null,
      bufferRequest: false,
      abortOnClose: false,
      compression: null,
    },
    rules: null,
    log: { targets: ["global"], healthChecks: false },
    static: null,
    servers: [{
      name: "s1",
      addr: { kind: "tcp", host: "127.0.0.1", port: 9000 },
      tls: null,
      sendProxy: 0,
      weight: 1,
      maxconn: 0,
      minconn: 0,
      maxqueue: 0,
      backup: false,
      slowstart: 0,
      state: "ready",
      cookie: "s1",
      poolMaxConn: -1,
      poolPurgeDelay: 5000,
      poolLowConn: 0,
      check: null,
      agent: null,
      observe: null,
    }],
  }]);
});

Deno.test("resolveConfig() checks http-reuse and the idle pool settings, refuses the old global ones", () => {
  const c = minimal();
  c.backends![0].httpReuse = "always";
  c.backends![0].servers[0] = {
    name: "s1",
    address: "127.0.0.1:9000",
    poolMaxConn: 0,
    poolPurgeDelay: 0,
  };
  const b = resolveConfig(c).backends[0];
  assert.equal(b.httpReuse, "always");
  assert.equal(b.servers[0].poolMaxConn, 0);
  assert.equal(b.servers[0].poolPurgeDelay, 0);
  c.backends![0].httpReuse = "sometimes" as "always";
  assert.throws(
    () => resolveConfig(c),
    /backends\[0\]\.httpReuse: expected "never", "safe", "aggressive" or "always"/,
  );
  const d = minimal();
  d.backends![0].servers[0].poolMaxConn = -2;
  assert.throws(() => resolveConfig(d), /backends\[0\]\.servers\[0\]\.poolMaxConn/);
  const e = minimal();
  e.global = { serverIdleTimeout: 4000 } as SluiceConfig["global"];
  assert.throws(
    () => resolveConfig(e),
    /global\.serverIdleTimeout: replaced by each server's poolPurgeDelay/,
  );
});

Deno.test("resolveConfig() defaults match the exported constants", () => {
  const r = resolveConfig(minimal());
  assert.equal(r.global.maxconn, DEFAULT_MAXCONN);
  assert.equal(r.global.bufsize, DEFAULT_BUFSIZE);
  assert.equal(r.global.runqueueDepth, DEFAULT_BUDGET);
  assert.equal(r.global.graceMs, DEFAULT_GRACE_MS);
  assert.equal(r.global.log.queueBytes, DEFAULT_LOG_QUEUE_BYTES);
  assert.equal(r.backends[0].retries, DEFAULT_RETRIES);
  assert.equal(r.backends[0].timeouts.connect, DEFAULT_TIMEOUTS.connect);
  assert.equal(r.backends[0].timeouts.server, DEFAULT_TIMEOUTS.server);
  assert.equal(r.backends[0].timeouts.tunnel, DEFAULT_TIMEOUTS.tunnel);
  assert.equal(r.frontends[0].clientTimeout, DEFAULT_TIMEOUTS.client);
});

Deno.test("resolveConfig() derives buffers from maxconn and frontend maxconn from global", () => {
  const r = resolveConfig(withEdit((c) => (c.global = { maxconn: 100 })));
  assert.equal(r.global.buffers, 264);
  assert.equal(r.frontends[0].maxconn, 100);
  const r2 = resolveConfig(withEdit((c) => {
    c.global = { maxconn: 100, buffers: 50 };
    c.frontends[0].maxconn = 10;
  }));
  assert.equal(r2.global.buffers, 50, "an explicit value wins");
  assert.equal(r2.frontends[0].maxconn, 10);
});

Deno.test("resolveConfig() defaults the queue timeout to the connect timeout", () => {
  const r = resolveConfig(withEdit((c) => (c.backends[0].timeouts = { connect: 1234 })));
  assert.equal(r.backends[0].timeouts.queue, 1234);
  const r2 = resolveConfig(withEdit((c) => (c.backends[0].timeouts = { connect: 1234, queue: 0 })));
  assert.equal(r2.backends[0].timeouts.queue, 0, "0 (none) is a value, not a default");
});

Deno.test("resolveConfig() keeps given values and accepts a log function", () => {
  const lines: string[] = [];
  const target = (line: string) => lines.push(line);
  const r = resolveConfig(withEdit((c) => {
    c.global = {
      maxconn: 10,
      bufsize: 4096,
      buffers: 30,
      runqueueDepth: 7,
      graceMs: 0,
      log: { target, format: "json", queueBytes: 0 },
    };
    c.frontends[0].timeouts = { client: 1000, server: 99 }; // server ignored here
    c.backends[0].retries = 0;
    c.backends[0].timeouts = { connect: 100, server: 200, tunnel: 300, queue: 400 };
    c.backends[0].servers[0].weight = 0;
    c.backends[0].servers[0].maxconn = 5;
  }));
  assert.equal(r.global.log.targets[0].target, target);
  assert.equal(r.global.log.format, "json");
  assert.deepEqual([r.global.bufsize, r.global.buffers, r.global.runqueueDepth], [4096, 30, 7]);
  assert.equal(r.global.graceMs, 0);
  assert.equal(r.frontends[0].clientTimeout, 1000);
  assert.equal(r.backends[0].retries, 0);
  assert.deepEqual(r.backends[0].timeouts, {
    connect: 100,
    server: 200,
    tunnel: 300,
    queue: 400,
    tarpit: 100,
  });
  assert.equal(r.backends[0].servers[0].weight, 0);
  assert.equal(r.backends[0].servers[0].maxconn, 5);
});

Deno.test("resolveConfig() parses every address kind", () => {
  const r = resolveConfig(withEdit((c) => {
    c.frontends[0].binds = [{ address: ":8080" }, { address: "[::1]:0" }, {
      address: "unix:/tmp/fe.sock",
    }];
    c.backends[0].servers = [
      { name: "a", address: "example.com:80" },
      { name: "b", address: "[::1]:80" },
      { name: "c", address: "unix:/tmp/srv.sock" },
    ];
  }));
  assert.deepEqual(r.frontends[0].binds.map((b) => b.addr), [
    { kind: "tcp", host: "0.0.0.0", port: 8080 },
    { kind: "tcp", host: "::1", port: 0 },
    { kind: "unix", path: "/tmp/fe.sock" },
  ]);
  assert.deepEqual(r.backends[0].servers.map((s) => s.addr), [
    { kind: "tcp", host: "example.com", port: 80 },
    { kind: "tcp", host: "::1", port: 80 },
    { kind: "unix", path: "/tmp/srv.sock" },
  ]);
});

Deno.test("resolveConfig() rejects a frontend naming a missing backend, and a missing list", () => {
  rejects(
    withEdit((c) => (c.backends = [])),
    "frontends[0].defaultBackend",
    /no backend named "be"$/,
  );
  rejects({ frontends: minimal().frontends }, "backends", /expected a list of backends/);
});

Deno.test("resolveConfig() rejects a configuration without frontends", () => {
  rejects(withEdit((c) => (c.frontends = [])), "frontends", /at least one frontend is needed$/);
});

Deno.test("resolveConfig() rejects a backend without servers and a frontend without binds", () => {
  rejects(
    withEdit((c) => (c.backends[0].servers = [])),
    "backends[0].servers",
    /at least one server is needed$/,
  );
  rejects(
    withEdit((c) => (c.frontends[0].binds = [])),
    "frontends[0].binds",
    /at least one bind address is needed$/,
  );
});

Deno.test("resolveConfig() rejects duplicate backend, frontend and server names", () => {
  rejects(
    withEdit((c) => c.backends.push({ ...c.backends[0] })),
    "backends[1].name",
    /duplicate backend name "be"$/,
  );
  rejects(
    withEdit((c) => c.frontends.push({ ...c.frontends[0] })),
    "frontends[1].name",
    /duplicate frontend name "fe"$/,
  );
  rejects(
    withEdit((c) => c.backends[0].servers.push({ name: "s1", address: "127.0.0.1:9001" })),
    "backends[0].servers[1].name",
    /duplicate server name "s1"$/,
  );
  // The same server name in two backends is fine.
  const r = resolveConfig(withEdit((c) => c.backends.push({ ...c.backends[0], name: "be2" })));
  assert.equal(r.backends[1].servers[0].name, "s1");
});

Deno.test("resolveConfig() rejects names with characters outside letters, digits, - _ . :", () => {
  rejects(
    withEdit((c) => (c.backends[0].name = "my backend")),
    "backends[0].name",
    /expected a name of letters, digits, "-", "_", ".", ":", got "my backend"$/,
  );
  rejects(withEdit((c) => (c.frontends[0].name = "fe/1")), "frontends[0].name", /got "fe\/1"$/);
  rejects(
    withEdit((c) => (c.backends[0].servers[0].name = "")),
    "backends[0].servers[0].name",
    /got ""$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].servers[0].name = "x".repeat(65))),
    "backends[0].servers[0].name",
    /expected a name/,
  );
  rejects(
    withEdit((c) => ((c.backends[0] as { name: unknown }).name = 42)),
    "backends[0].name",
    /got 42$/,
  );
  const ok = resolveConfig(withEdit((c) => (c.backends[0].servers[0].name = "A-b_c.d:9")));
  assert.equal(ok.backends[0].servers[0].name, "A-b_c.d:9");
});

Deno.test("resolveConfig() rejects a server weight outside 0..256", () => {
  for (const w of [0, 256]) {
    const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].weight = w)));
    assert.equal(r.backends[0].servers[0].weight, w);
  }
  rejects(
    withEdit((c) => (c.backends[0].servers[0].weight = 257)),
    "backends[0].servers[0].weight",
    /257 is outside 0\.\.256$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].servers[0].weight = -1)),
    "backends[0].servers[0].weight",
    /-1 is outside 0\.\.256$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].servers[0].weight = 1.5)),
    "backends[0].servers[0].weight",
    /expected an integer, got 1\.5$/,
  );
  rejects(
    withEdit((c) => ((c.backends[0].servers[0] as { weight: unknown }).weight = "2")),
    "backends[0].servers[0].weight",
    /expected an integer, got "2"$/,
  );
});

Deno.test("resolveConfig() rejects out-of-range numbers with the field path", () => {
  rejects(withEdit((c) => (c.global = { maxconn: 0 })), "global.maxconn", /0 is outside 1\.\./);
  rejects(withEdit((c) => (c.global = { bufsize: 512 })), "global.bufsize", /outside 1024\.\./);
  rejects(withEdit((c) => (c.global = { buffers: 1 })), "global.buffers", /outside 2\.\./);
  rejects(
    withEdit((c) => (c.backends[0].servers[0].sendProxy = "v3" as "v1")),
    "backends[0].servers[0].sendProxy",
    /expected "v1" or "v2", got "v3"/,
  );
  rejects(
    withEdit((c) => (c.frontends[0].binds[0].acceptProxy = "yes" as unknown as boolean)),
    "frontends[0].binds[0].acceptProxy",
    /./,
  );
  rejects(
    withEdit((c) => (c.global = { largeBuffers: -1 })),
    "global.largeBuffers",
    /outside 0\.\./,
  );
  rejects(
    withEdit((c) => (c.backends[0].retries = 101)),
    "backends[0].retries",
    /101 is outside 0\.\.100$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].timeouts = { server: -5 })),
    "backends[0].timeouts.server",
    /-5 is outside 0\.\.2147483647$/,
  );
  rejects(
    withEdit((c) => (c.frontends[0].timeouts = { client: 2 ** 31 })),
    "frontends[0].timeouts.client",
    /outside 0\.\.2147483647$/,
  );
  rejects(withEdit((c) => (c.frontends[0].maxconn = 0)), "frontends[0].maxconn", /outside 1\.\./);
});

Deno.test("resolveConfig() rejects an unknown balance algorithm", () => {
  rejects(
    withEdit((c) => ((c.backends[0] as { balance: unknown }).balance = "leastcon")),
    "backends[0].balance",
    /unknown algorithm "leastcon" \(expected roundrobin, static-rr, leastconn, first, source, uri, url_param PARAM, random or hdr\(NAME\)\)$/,
  );
  for (const algo of ["static-rr", "leastconn", "first", "source", "uri", "random"]) {
    const r = resolveConfig(withEdit((c) => (c.backends[0].balance = algo as "first")));
    assert.deepEqual(r.backends[0].balance, { algo });
  }
  const r = resolveConfig(withEdit((c) => (c.backends[0].balance = "hdr(X-User)")));
  assert.deepEqual(r.backends[0].balance, { algo: "hdr", hdr: "x-user" });
  rejects(
    withEdit((c) => (c.backends[0].balance = "hdr(a b)")),
    "backends[0].balance",
    /invalid header name "a b"$/,
  );
});

Deno.test("resolveConfig() rejects an unknown mode", () => {
  rejects(
    withEdit((c) => ((c.backends[0] as { mode: unknown }).mode = "udp")),
    "backends[0].mode",
    /unknown mode "udp" \(expected "http" or "tcp"\)$/,
  );
  rejects(
    withEdit((c) => ((c.frontends[0] as { mode: unknown }).mode = "TCP")),
    "frontends[0].mode",
    /unknown mode "TCP"/,
  );
});

Deno.test("resolveConfig() rejects a frontend and backend in different modes", () => {
  rejects(
    withEdit((c) => ((c.backends[0] as { mode: unknown }).mode = "tcp")),
    "frontends[0].defaultBackend",
    /backend "be" is in tcp mode, frontend in http mode$/,
  );
  rejects(
    withEdit((c) => {
      c.frontends[0].mode = "tcp";
      c.backends[0].mode = "tcp";
      c.frontends[0].http = {};
    }),
    "frontends[0].http",
    /HTTP settings need mode "http"$/,
  );
});

Deno.test("resolveConfig() checks error files: known status, matching status line, size", () => {
  rejects(
    withEdit((c) => (c.frontends[0].http = { errorFiles: { 418: "HTTP/1.1 418 No\r\n\r\n" } })),
    "frontends[0].http.errorFiles",
    /status 418 is not one sluice generates/,
  );
  rejects(
    withEdit((c) => (c.frontends[0].http = { errorFiles: { 503: "HTTP/1.1 502 Oops\r\n\r\n" } })),
    "frontends[0].http.errorFiles.503",
    /the response has status 502, not 503$/,
  );
  rejects(
    withEdit((c) => (c.frontends[0].http = { errorFiles: { 503: "<h1>down</h1>" } })),
    "frontends[0].http.errorFiles.503",
    /expected a raw HTTP response/,
  );
  const r = resolveConfig(
    withEdit((c) => (c.frontends[0].http = { errorFiles: { 503: "HTTP/1.1 503 Busy\r\n\r\n" } })),
  );
  assert.equal(
    new TextDecoder().decode(r.frontends[0].http!.errorFiles.get(503)),
    "HTTP/1.1 503 Busy\r\n\r\n",
  );
});

Deno.test("resolveConfig() rejects a frontend referencing an unknown backend", () => {
  rejects(
    withEdit((c) => (c.frontends[0].defaultBackend = "nope")),
    "frontends[0].defaultBackend",
    /no backend named "nope"$/,
  );
});

Deno.test("resolveConfig() rejects bad log settings", () => {
  rejects(
    withEdit((c) => (c.global = { log: { format: "clf" as "json" } })),
    "global.log.format",
    /expected "tcplog", "httplog" or "json", got "clf"$/,
  );
  rejects(
    withEdit((c) => (c.global = { log: { target: "syslog" as "stdout" } })),
    "global.log.target",
    /expected "stdout", "stderr", "none", a function, \{ file \} or \{ syslog, facility\? \}$/,
  );
});

Deno.test("resolveConfig() resolves syslog targets: UDP host:port and unix:/path, facility local0 by default", () => {
  const target = (t: unknown) =>
    resolveConfig(withEdit((c) => (c.global = { log: { target: t as "stdout" } }))).global.log
      .targets[0].target;
  assert.deepEqual(target({ syslog: "10.0.0.5:514", facility: "local2" }), {
    syslog: "udp",
    host: "10.0.0.5",
    port: 514,
    facility: 18,
  });
  assert.deepEqual(target({ syslog: "[::1]:514" }), {
    syslog: "udp",
    host: "::1",
    port: 514,
    facility: 16,
  });
  assert.deepEqual(target({ syslog: "unix:/dev/log", facility: "daemon" }), {
    syslog: "unix",
    path: "/dev/log",
    facility: 3,
  });
});

Deno.test("resolveConfig() rejects bad syslog targets naming the field", () => {
  const withTarget = (t: unknown) =>
    withEdit((c) => (c.global = { log: { target: t as "stdout" } }));
  rejects(
    withTarget({ syslog: "/dev/log" }),
    "global.log.target.syslog",
    /expected "unix:\/dev\/log" for a unix socket$/,
  );
  rejects(
    withTarget({ syslog: "unix:" }),
    "global.log.target.syslog",
    /Cannot parse address "unix:": empty or invalid path$/,
    "ERR_ADDRESS",
  );
  rejects(
    withTarget({ syslog: `unix:/${"x".repeat(107)}` }),
    "global.log.target.syslog",
    /unix socket path longer than 107 bytes$/,
    "ERR_ADDRESS",
  );
  rejects(
    withTarget({ syslog: "tls://10.0.0.5:514" }),
    "global.log.target.syslog",
    /"tls:\/\/" is only valid for servers$/,
    "ERR_ADDRESS",
  );
  rejects(
    withTarget({ syslog: 514 }),
    "global.log.target.syslog",
    /expected an address string$/,
  );
  rejects(
    withTarget({ syslog: "unix:/dev/log", facility: "local8" }),
    "global.log.target.facility",
    /unknown facility "local8"$/,
  );
  rejects(
    withTarget({ syslog: "unix:/dev/log", facilty: "local1" }),
    "global.log.target.facilty",
    /unknown field \(expected syslog or facility\)$/,
  );
});

Deno.test("resolveConfig() reports bad addresses with code ERR_ADDRESS and the field path", () => {
  rejects(
    withEdit((c) => (c.backends[0].servers[0].address = "nohost")),
    "backends[0].servers[0].address",
    /Cannot parse address "nohost": missing port/,
    "ERR_ADDRESS",
  );
  rejects(
    withEdit((c) => (c.frontends[0].binds[0].address = "1.2.3:80")),
    "frontends[0].binds[0].address",
    /invalid IPv4 address "1\.2\.3"/,
    "ERR_ADDRESS",
  );
  rejects(
    withEdit((c) => (c.backends[0].servers[0].address = "127.0.0.1:0")),
    "backends[0].servers[0].address",
    /port 0 is only valid for listeners/,
    "ERR_ADDRESS",
  );
  rejects(
    withEdit((c) => (c.frontends[0].binds[0].address = "tls://127.0.0.1:80")),
    "frontends[0].binds[0].address",
    /only valid for servers/,
    "ERR_ADDRESS",
  );
  rejects(
    withEdit((c) => ((c.frontends[0].binds[0] as { address: unknown }).address = 80)),
    "frontends[0].binds[0].address",
    /expected an address string$/,
  );
});

Deno.test("resolveConfig() attaches PEM cert and key to a TCP bind", () => {
  const r = resolveConfig(withEdit((c) => {
    c.frontends[0].binds[0].tls = { cert: PEM_CERT, key: PEM_KEY };
  }));
  assert.deepEqual(r.frontends[0].binds[0].tls, { cert: PEM_CERT, key: PEM_KEY });
  rejects(
    withEdit((c) => (c.frontends[0].binds[0].tls = { cert: "/path/cert.pem", key: PEM_KEY })),
    "frontends[0].binds[0].tls.cert",
    /expected PEM text$/,
  );
  rejects(
    withEdit((c) => (c.frontends[0].binds[0].tls = { cert: PEM_CERT, key: "" })),
    "frontends[0].binds[0].tls.key",
    /expected PEM text$/,
  );
});

Deno.test("resolveConfig() rejects TLS on a unix bind", () => {
  rejects(
    withEdit((c) => {
      c.frontends[0].binds[0] = {
        address: "unix:/tmp/fe.sock",
        tls: { cert: PEM_CERT, key: PEM_KEY },
      };
    }),
    "frontends[0].binds[0].tls",
    /TLS on a unix socket is not supported$/,
  );
});

Deno.test("resolveConfig() gives a tls:// server default TLS settings from its host", () => {
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].address = "tls://api.example.com:443";
  }));
  const s = r.backends[0].servers[0];
  assert.deepEqual(s.addr, { kind: "tcp", host: "api.example.com", port: 443 });
  assert.deepEqual(s.tls, {
    serverName: "api.example.com",
    caCerts: undefined,
    noVerifyHost: false,
    noVerify: false,
  });
});

Deno.test("resolveConfig() gives a server with a tls object TLS even without tls://", () => {
  const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].tls = {})));
  assert.deepEqual(r.backends[0].servers[0].tls, {
    serverName: "127.0.0.1",
    caCerts: undefined,
    noVerifyHost: false,
    noVerify: false,
  });
});

Deno.test("resolveConfig() merges tls:// and a tls object: the object's settings apply", () => {
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0] = {
      name: "s1",
      address: "tls://[::1]:8443",
      tls: { ca: [PEM_CERT], sni: "internal.example", verifyHost: false },
    };
  }));
  assert.deepEqual(r.backends[0].servers[0].tls, {
    serverName: "internal.example",
    caCerts: [PEM_CERT],
    noVerifyHost: true,
    noVerify: false,
  });
});

Deno.test('resolveConfig() maps verify "none" to noVerify and rejects other values', () => {
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].address = "tls://127.0.0.1:443";
    c.backends[0].servers[0].tls = { verify: "none" };
  }));
  assert.equal(r.backends[0].servers[0].tls?.noVerify, true);
  assert.equal(r.backends[0].servers[0].tls?.noVerifyHost, false);
  const r2 = resolveConfig(
    withEdit((c) => (c.backends[0].servers[0].tls = { verify: "required" })),
  );
  assert.equal(r2.backends[0].servers[0].tls?.noVerify, false);
  rejects(
    withEdit((c) => (c.backends[0].servers[0].tls = { verify: "optional" as "none" })),
    "backends[0].servers[0].tls.verify",
    /expected "required" or "none", got "optional"$/,
  );
});

Deno.test("resolveConfig() rejects a CA that is not PEM text, naming its index", () => {
  rejects(
    withEdit((c) => (c.backends[0].servers[0].tls = { ca: [PEM_CERT, "ca.pem"] })),
    "backends[0].servers[0].tls.ca[1]",
    /expected PEM text$/,
  );
});

Deno.test("resolveConfig() rejects TLS to a unix socket server", () => {
  rejects(
    withEdit((c) => (c.backends[0].servers[0].address = "tls://unix:/tmp/s.sock")),
    "backends[0].servers[0].tls",
    /TLS to a unix socket is not supported$/,
  );
  rejects(
    withEdit((c) => {
      c.backends[0].servers[0].address = "unix:/tmp/s.sock";
      c.backends[0].servers[0].tls = {};
    }),
    "backends[0].servers[0].tls",
    /TLS to a unix socket/,
  );
});

Deno.test("resolveConfig() does not modify the configuration it is given", () => {
  const cfg = minimal();
  const before = structuredClone(cfg);
  resolveConfig(cfg);
  assert.deepEqual(cfg, before);
});

Deno.test({
  name: "resolveConfig() rejects a server CA list that is not an array with ERR_CONFIG",
  // checking that `ca` is an array. From JSON or plain JS (`"ca": "-----BEGIN…"`,
  // an easy mistake) this throws a bare TypeError "st.ca?.map is not a function"
  // with no code and no field path. Fix: `if (st.ca !== undefined &&
  // !Array.isArray(st.ca)) fail(`${sat}.tls.ca`, "expected a list of PEM texts")`.
  fn() {
    rejects(
      withEdit((c) => {
        (c.backends[0].servers[0] as { tls: unknown }).tls = { ca: PEM_CERT };
      }),
      "backends[0].servers[0].tls.ca",
      /expected/,
    );
  },
});

Deno.test({
  name: "resolveConfig() rejects a server SNI that is not a string",
  // unchecked (likewise `verifyHost` is only compared with `false`): `sni: 5`
  // resolves to `serverName: 5` and fails later, at connect time, far from
  // the configuration. Fix: check `typeof st.sni === "string"` (and a host
  // name syntax) and `typeof st.verifyHost === "boolean"` when given, failing
  // at `${sat}.tls.sni` / `${sat}.tls.verifyHost`.
  fn() {
    rejects(
      withEdit((c) => {
        (c.backends[0].servers[0] as { tls: unknown }).tls = { sni: 5 };
      }),
      "backends[0].servers[0].tls.sni",
      /expected/,
    );
  },
});

// -- server options: queue, backup, slowstart, admin state, cookie value ----------------

Deno.test("resolveConfig() keeps server maxqueue, backup and slowstart and checks their ranges", () => {
  const r = resolveConfig(withEdit((c) => {
    Object.assign(c.backends[0].servers[0], { maxqueue: 20, backup: true, slowstart: 30_000 });
  }));
  const s = r.backends[0].servers[0];
  assert.deepEqual([s.maxqueue, s.backup, s.slowstart], [20, true, 30_000]);
  for (const v of [0, 1_000_000]) {
    const r2 = resolveConfig(withEdit((c) => (c.backends[0].servers[0].maxqueue = v)));
    assert.equal(r2.backends[0].servers[0].maxqueue, v);
  }
  rejects(
    withEdit((c) => (c.backends[0].servers[0].maxqueue = -1)),
    "backends[0].servers[0].maxqueue",
    /-1 is outside 0\.\.1000000$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].servers[0].maxqueue = 1_000_001)),
    "backends[0].servers[0].maxqueue",
    /outside 0\.\.1000000$/,
  );
  rejects(
    withEdit((c) => ((c.backends[0].servers[0] as { backup: unknown }).backup = "yes")),
    "backends[0].servers[0].backup",
    /expected true or false, got "yes"$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].servers[0].slowstart = -1)),
    "backends[0].servers[0].slowstart",
    /-1 is outside 0\.\.2147483647$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].servers[0].slowstart = 2.5)),
    "backends[0].servers[0].slowstart",
    /expected an integer, got 2\.5$/,
  );
});

Deno.test('resolveConfig() accepts server state "ready", "drain", "maint" and rejects others', () => {
  for (const state of ["ready", "drain", "maint"] as const) {
    const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].state = state)));
    assert.equal(r.backends[0].servers[0].state, state);
  }
  rejects(
    withEdit((c) => (c.backends[0].servers[0].state = "disabled" as "maint")),
    "backends[0].servers[0].state",
    /expected "ready", "drain" or "maint", got "disabled"$/,
  );
  rejects(
    withEdit((c) => ((c.backends[0].servers[0] as { state: unknown }).state = 1)),
    "backends[0].servers[0].state",
    /got 1$/,
  );
});

Deno.test("resolveConfig() defaults a server's cookie value to its name and keeps a given one", () => {
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers = [
      { name: "web-1", address: "127.0.0.1:9001" },
      { name: "web-2", address: "127.0.0.1:9002", cookie: "w2" },
    ];
  }));
  assert.deepEqual(r.backends[0].servers.map((s) => s.cookie), ["web-1", "w2"]);
});

Deno.test("resolveConfig() rejects duplicate cookie values in a backend", () => {
  rejects(
    withEdit((c) => {
      c.backends[0].servers = [
        { name: "a", address: "127.0.0.1:9001", cookie: "x" },
        { name: "b", address: "127.0.0.1:9002", cookie: "x" },
      ];
    }),
    "backends[0].servers[1].cookie",
    /duplicate cookie value "x"$/,
  );
  // A given value that equals another server's default (its name) too.
  rejects(
    withEdit((c) => {
      c.backends[0].servers = [
        { name: "a", address: "127.0.0.1:9001", cookie: "b" },
        { name: "b", address: "127.0.0.1:9002" },
      ];
    }),
    "backends[0].servers[1].cookie",
    /duplicate cookie value "b"$/,
  );
  // The same value in two backends is fine.
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].cookie = "x";
    c.backends.push({ ...c.backends[0], name: "be2" });
  }));
  assert.equal(r.backends[1].servers[0].cookie, "x");
});

Deno.test('resolveConfig() rejects a cookie value with "~" or outside token characters', () => {
  for (const bad of ["a~b", "~", "", "a b", "a;b", "a=b", 'a"b']) {
    rejects(
      withEdit((c) => (c.backends[0].servers[0].cookie = bad)),
      "backends[0].servers[0].cookie",
      /expected a cookie value of token characters \(no "~"\), got /,
    );
  }
  rejects(
    withEdit((c) => ((c.backends[0].servers[0] as { cookie: unknown }).cookie = 5)),
    "backends[0].servers[0].cookie",
    /got 5$/,
  );
  const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].cookie = "A.b-c_9!")));
  assert.equal(r.backends[0].servers[0].cookie, "A.b-c_9!");
});

// -- health checks -----------------------------------------------------------------------

Deno.test("resolveConfig() gives an empty check the TCP defaults: inter 2000, rise 2, fall 3", () => {
  const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].check = {})));
  assert.deepEqual(r.backends[0].servers[0].check, {
    type: "tcp",
    inter: 2000,
    fastinter: 2000,
    downinter: 2000,
    rise: 2,
    fall: 3,
    timeout: 2000,
  });
});

Deno.test("resolveConfig() derives fastinter, downinter and timeout from inter", () => {
  const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].check = { inter: 500 })));
  const chk = r.backends[0].servers[0].check!;
  assert.deepEqual([chk.inter, chk.fastinter, chk.downinter, chk.timeout], [500, 500, 500, 500]);
  const r2 = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].check = {
      inter: 1000,
      fastinter: 100,
      downinter: 5000,
      rise: 1,
      fall: 1000,
      timeout: 1,
      port: 8081,
    };
  }));
  assert.deepEqual(r2.backends[0].servers[0].check, {
    type: "tcp",
    inter: 1000,
    fastinter: 100,
    downinter: 5000,
    rise: 1,
    fall: 1000,
    timeout: 1,
    port: 8081,
  });
});

Deno.test("resolveConfig() makes a check with http settings an HTTP check with defaults", () => {
  const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].check = { http: {} })));
  assert.deepEqual(r.backends[0].servers[0].check, {
    type: "http",
    inter: 2000,
    fastinter: 2000,
    downinter: 2000,
    rise: 2,
    fall: 3,
    timeout: 2000,
    http: {
      method: "GET",
      path: "/",
      host: undefined,
      expect: { status: [200, 399], string: undefined },
    },
  });
  const r2 = resolveConfig(withEdit((c) => (c.backends[0].servers[0].check = { type: "http" })));
  assert.equal(r2.backends[0].servers[0].check?.type, "http");
  assert.equal(r2.backends[0].servers[0].check?.http?.path, "/");
});

Deno.test("resolveConfig() keeps given HTTP check settings; one status becomes a range", () => {
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].check = {
      http: {
        method: "HEAD",
        path: "/health?full=1",
        host: "app.example",
        expectStatus: 204,
        expectString: "ok",
      },
    };
  }));
  assert.deepEqual(r.backends[0].servers[0].check?.http, {
    method: "HEAD",
    path: "/health?full=1",
    host: "app.example",
    expect: { status: [204, 204], string: "ok" },
  });
  const r2 = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].check = { http: { expectStatus: [200, 299] } };
  }));
  assert.deepEqual(r2.backends[0].servers[0].check?.http?.expect?.status, [200, 299]);
  const r3 = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].check = { http: { path: "*", method: "OPTIONS" } };
  }));
  assert.equal(r3.backends[0].servers[0].check?.http?.path, "*");
});

Deno.test("resolveConfig() rejects bad check intervals and counts with the field path", () => {
  const at = "backends[0].servers[0].check";
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ inter: 9 }, `${at}.inter`, /9 is outside 10\.\.2147483647$/],
    [{ inter: 0 }, `${at}.inter`, /0 is outside 10\.\./],
    [{ inter: 2 ** 31 }, `${at}.inter`, /outside 10\.\.2147483647$/],
    [{ inter: "2s" }, `${at}.inter`, /expected an integer, got "2s"$/],
    [{ fastinter: 5 }, `${at}.fastinter`, /5 is outside 10\.\./],
    [{ downinter: 1.5 }, `${at}.downinter`, /expected an integer, got 1\.5$/],
    [{ rise: 0 }, `${at}.rise`, /0 is outside 1\.\.1000$/],
    [{ fall: 1001 }, `${at}.fall`, /1001 is outside 1\.\.1000$/],
    [{ timeout: 0 }, `${at}.timeout`, /0 is outside 1\.\./],
    [{ port: 0 }, `${at}.port`, /0 is outside 1\.\.65535$/],
    [{ port: 65536 }, `${at}.port`, /65536 is outside 1\.\.65535$/],
    [{ type: "udp" }, `${at}.type`, /expected "tcp" or "http", got "udp"$/],
    [{ tls: "yes" }, `${at}.tls`, /expected true or false, got "yes"$/],
  ];
  for (const [check, where, re] of cases) {
    rejects(
      withEdit((c) => (c.backends[0].servers[0].check = check as never)),
      where,
      re,
    );
  }
  rejects(
    withEdit((c) => ((c.backends[0].servers[0] as { check: unknown }).check = null)),
    at,
    /expected a check object$/,
  );
  rejects(
    withEdit((c) => ((c.backends[0].servers[0] as { check: unknown }).check = true)),
    at,
    /expected a check object$/,
  );
});

Deno.test("resolveConfig() rejects bad HTTP check settings with the field path", () => {
  const at = "backends[0].servers[0].check.http";
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ expectStatus: 99 }, `${at}.expectStatus`, /99 is outside 100\.\.599$/],
    [{ expectStatus: 600 }, `${at}.expectStatus`, /600 is outside 100\.\.599$/],
    [{ expectStatus: [200, 600] }, `${at}.expectStatus[1]`, /600 is outside 200\.\.599$/],
    [{ expectStatus: [300, 200] }, `${at}.expectStatus[1]`, /200 is outside 300\.\.599$/],
    [{ expectStatus: [50, 200] }, `${at}.expectStatus[0]`, /50 is outside 100\.\.599$/],
    [{ expectStatus: [200] }, `${at}.expectStatus`, /expected a status or \[low, high\]$/],
    [{ expectStatus: "200" }, `${at}.expectStatus`, /expected a status or \[low, high\]$/],
    [{ path: "/a b" }, `${at}.path`, /expected a request target without spaces, got "\/a b"$/],
    [{ path: "/a\r\nX: y" }, `${at}.path`, /expected a request target without spaces/],
    [{ path: "" }, `${at}.path`, /got ""$/],
    [{ method: "GE T" }, `${at}.method`, /expected a method token, got "GE T"$/],
    [{ method: "" }, `${at}.method`, /expected a method token/],
    [{ host: "a b" }, `${at}.host`, /expected a host name, got "a b"$/],
    [{ host: "a\r\nX: 1" }, `${at}.host`, /expected a host name/],
    [{ expectString: "" }, `${at}.expectString`, /expected non-empty text$/],
    [{ expectString: 5 }, `${at}.expectString`, /expected non-empty text$/],
  ];
  for (const [http, where, re] of cases) {
    rejects(
      withEdit((c) => (c.backends[0].servers[0].check = { http: http as never })),
      where,
      re,
    );
  }
});

Deno.test('resolveConfig() rejects HTTP check settings on a check of type "tcp"', () => {
  rejects(
    withEdit((c) => (c.backends[0].servers[0].check = { type: "tcp", http: { path: "/h" } })),
    "backends[0].servers[0].check.http",
    /HTTP check settings need type "http"$/,
  );
});

Deno.test("resolveConfig() rejects a check port on a unix socket server", () => {
  rejects(
    withEdit((c) => {
      c.backends[0].servers[0].address = "unix:/tmp/s.sock";
      c.backends[0].servers[0].check = { port: 8080 };
    }),
    "backends[0].servers[0].check.port",
    /a unix socket has no port$/,
  );
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].address = "unix:/tmp/s.sock";
    c.backends[0].servers[0].check = {};
  }));
  assert.equal(r.backends[0].servers[0].check?.type, "tcp");
});

Deno.test("resolveConfig() checks a tls:// server over TLS with its CA, SNI and verify", () => {
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].address = "tls://api.example.com:443";
    c.backends[0].servers[0].check = {};
  }));
  assert.deepEqual(r.backends[0].servers[0].check?.tls, {
    ca: undefined,
    sni: "api.example.com",
    verify: "required",
    verifyHost: true,
  });
  const r2 = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].address = "tls://127.0.0.1:443";
    c.backends[0].servers[0].tls = { ca: [PEM_CERT], sni: "internal.example", verify: "none" };
    c.backends[0].servers[0].check = { http: {} };
  }));
  assert.deepEqual(r2.backends[0].servers[0].check?.tls, {
    ca: [PEM_CERT],
    sni: "internal.example",
    verify: "none",
    verifyHost: true,
  });
});

Deno.test("resolveConfig() checks a plain server without TLS unless check.tls says so", () => {
  const r = resolveConfig(withEdit((c) => (c.backends[0].servers[0].check = {})));
  assert.equal(r.backends[0].servers[0].check?.tls, undefined);
  const r2 = resolveConfig(withEdit((c) => (c.backends[0].servers[0].check = { tls: true })));
  assert.deepEqual(r2.backends[0].servers[0].check?.tls, {});
  const r3 = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].address = "tls://127.0.0.1:443";
    c.backends[0].servers[0].check = { tls: false, port: 8080 };
  }));
  assert.equal(r3.backends[0].servers[0].check?.tls, undefined, "check.tls false wins");
  assert.equal(r3.backends[0].servers[0].check?.port, 8080);
});

// -- passive observation -------------------------------------------------------------------

Deno.test("resolveConfig() resolves observe with defaults errorLimit 10, onError fail-check", () => {
  const r = resolveConfig(withEdit((c) => {
    c.backends[0].servers[0].check = {};
    c.backends[0].servers[0].observe = { mode: "layer4" };
  }));
  assert.deepEqual(r.backends[0].servers[0].observe, {
    layer7: false,
    errorLimit: 10,
    onError: "fail-check",
  });
  for (const onError of ["fail-check", "fastinter", "mark-down"] as const) {
    const r2 = resolveConfig(withEdit((c) => {
      c.backends[0].servers[0].check = {};
      c.backends[0].servers[0].observe = { mode: "layer7", errorLimit: 3, onError };
    }));
    assert.deepEqual(r2.backends[0].servers[0].observe, { layer7: true, errorLimit: 3, onError });
  }
});

Deno.test("resolveConfig() rejects observe without a health check", () => {
  rejects(
    withEdit((c) => (c.backends[0].servers[0].observe = { mode: "layer7" })),
    "backends[0].servers[0].observe",
    /passive observation needs a health check to bring the server back \(add check\)$/,
  );
});

Deno.test("resolveConfig() rejects bad observe settings with the field path", () => {
  const at = "backends[0].servers[0].observe";
  const cases: [unknown, string, RegExp][] = [
    [{ mode: "layer3" }, `${at}.mode`, /expected "layer4" or "layer7", got "layer3"$/],
    [{}, `${at}.mode`, /expected "layer4" or "layer7", got undefined$/],
    [
      { mode: "layer4", onError: "restart" },
      `${at}.onError`,
      /expected "fail-check", "fastinter" or "mark-down"$/,
    ],
    [{ mode: "layer4", errorLimit: 0 }, `${at}.errorLimit`, /0 is outside 1\.\.100000$/],
    [{ mode: "layer4", errorLimit: 100_001 }, `${at}.errorLimit`, /outside 1\.\.100000$/],
    [null, at, /expected \{ mode, errorLimit\?, onError\? \}$/],
    ["layer4", at, /expected \{ mode/],
  ];
  for (const [observe, where, re] of cases) {
    rejects(
      withEdit((c) => {
        c.backends[0].servers[0].check = {};
        (c.backends[0].servers[0] as { observe: unknown }).observe = observe;
      }),
      where,
      re,
    );
  }
});

// -- backend: redispatch, cookie persistence, source stickiness, hashed balance --------------

Deno.test("resolveConfig() defaults redispatch to -1 and accepts -1..100", () => {
  assert.equal(resolveConfig(minimal()).backends[0].redispatch, -1);
  for (const v of [-1, 0, 1, 3, 100]) {
    const r = resolveConfig(withEdit((c) => (c.backends[0].redispatch = v)));
    assert.equal(r.backends[0].redispatch, v);
  }
  rejects(
    withEdit((c) => (c.backends[0].redispatch = -2)),
    "backends[0].redispatch",
    /-2 is outside -1\.\.100$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].redispatch = 101)),
    "backends[0].redispatch",
    /101 is outside -1\.\.100$/,
  );
  rejects(
    withEdit((c) => ((c.backends[0] as { redispatch: unknown }).redispatch = true)),
    "backends[0].redispatch",
    /expected an integer, got true$/,
  );
});

Deno.test("resolveConfig() resolves cookie persistence with defaults", () => {
  const r = resolveConfig(
    withEdit((c) => (c.backends[0].cookie = { name: "SRV", mode: "insert" })),
  );
  assert.deepEqual(r.backends[0].cookie, {
    name: "SRV",
    mode: "insert",
    indirect: false,
    nocache: false,
    attributes: "Path=/",
  });
  const r2 = resolveConfig(withEdit((c) => {
    c.backends[0].cookie = {
      name: "JSESSIONID",
      mode: "prefix",
      indirect: true,
      nocache: true,
      attributes: "",
    };
  }));
  assert.deepEqual(r2.backends[0].cookie, {
    name: "JSESSIONID",
    mode: "prefix",
    indirect: true,
    nocache: true,
    attributes: "",
  });
  const r3 = resolveConfig(withEdit((c) => {
    c.backends[0].cookie = { name: "S", mode: "insert", attributes: "Path=/; HttpOnly; Secure" };
  }));
  assert.equal(r3.backends[0].cookie?.attributes, "Path=/; HttpOnly; Secure");
});

Deno.test("resolveConfig() rejects bad cookie persistence settings with the field path", () => {
  const at = "backends[0].cookie";
  const cases: [unknown, string, RegExp][] = [
    [{ name: "a b", mode: "insert" }, `${at}.name`, /expected a cookie name \(token\), got "a b"$/],
    [{ name: "", mode: "insert" }, `${at}.name`, /got ""$/],
    [{ name: "a=b", mode: "insert" }, `${at}.name`, /got "a=b"$/],
    [{ name: "a;b", mode: "insert" }, `${at}.name`, /got "a;b"$/],
    [{ mode: "insert" }, `${at}.name`, /got undefined$/],
    [{ name: "S", mode: "rewrite" }, `${at}.mode`, /expected "insert" or "prefix", got "rewrite"$/],
    [{ name: "S" }, `${at}.mode`, /got undefined$/],
    [{ name: "S", mode: "insert", attributes: "Path=/\r\nX: 1" }, `${at}.attributes`, /ASCII/],
    [{ name: "S", mode: "insert", attributes: "Path=/\n" }, `${at}.attributes`, /ASCII/],
    [{ name: "S", mode: "insert", attributes: "caf\xe9" }, `${at}.attributes`, /ASCII/],
    [{ name: "S", mode: "insert", attributes: 1 }, `${at}.attributes`, /ASCII text$/],
    [{ name: "S", mode: "insert", indirect: "yes" }, `${at}.indirect`, /expected true or false/],
    [{ name: "S", mode: "insert", nocache: 1 }, `${at}.nocache`, /expected true or false, got 1$/],
    [null, at, /expected \{ name, mode \}$/],
  ];
  for (const [cookie, where, re] of cases) {
    rejects(
      withEdit((c) => ((c.backends[0] as { cookie: unknown }).cookie = cookie)),
      where,
      re,
    );
  }
});

Deno.test('resolveConfig() rejects cookie persistence outside mode "http"', () => {
  rejects(
    withEdit((c) => {
      c.frontends[0].mode = "tcp";
      c.backends[0].mode = "tcp";
      c.backends[0].cookie = { name: "SRV", mode: "insert" };
    }),
    "backends[0].cookie",
    /cookie persistence needs mode "http"$/,
  );
});

Deno.test("resolveConfig() gives stickSource defaults: size 100000, expire 30 min", () => {
  const r = resolveConfig(withEdit((c) => (c.backends[0].stickSource = {})));
  assert.deepEqual(r.backends[0].stickSource, { size: 100_000, expire: 1_800_000 });
  const r2 = resolveConfig(withEdit((c) => (c.backends[0].stickSource = { size: 1, expire: 0 })));
  assert.deepEqual(r2.backends[0].stickSource, { size: 1, expire: 0 }, "expire 0: never");
  // Source stickiness works in TCP mode too.
  const r3 = resolveConfig(withEdit((c) => {
    c.frontends[0].mode = "tcp";
    c.backends[0].mode = "tcp";
    c.backends[0].stickSource = { expire: 60_000 };
  }));
  assert.deepEqual(r3.backends[0].stickSource, { size: 100_000, expire: 60_000 });
});

Deno.test("resolveConfig() rejects bad stickSource settings with the field path", () => {
  rejects(
    withEdit((c) => (c.backends[0].stickSource = { size: 0 })),
    "backends[0].stickSource.size",
    /0 is outside 1\.\.10000000$/,
  );
  rejects(
    withEdit((c) => (c.backends[0].stickSource = { expire: -1 })),
    "backends[0].stickSource.expire",
    /-1 is outside 0\.\.2147483647$/,
  );
  rejects(
    withEdit((c) => ((c.backends[0] as { stickSource: unknown }).stickSource = true)),
    "backends[0].stickSource",
    /expected \{ size\?, expire\? \}$/,
  );
});

Deno.test('resolveConfig() requires mode "http" for balance "uri" and "hdr(name)"', () => {
  for (const balance of ["uri", "hdr(X-User)"] as const) {
    rejects(
      withEdit((c) => {
        c.frontends[0].mode = "tcp";
        c.backends[0].mode = "tcp";
        c.backends[0].balance = balance;
      }),
      "backends[0].balance",
      new RegExp(`"${balance.slice(0, 3)}" needs mode "http"$`),
    );
  }
  for (const balance of ["source", "roundrobin", "leastconn", "random"] as const) {
    const r = resolveConfig(withEdit((c) => {
      c.frontends[0].mode = "tcp";
      c.backends[0].mode = "tcp";
      c.backends[0].balance = balance;
    }));
    assert.equal(r.backends[0].balance.algo, balance, `${balance} works in TCP mode`);
  }
  const r = resolveConfig(withEdit((c) => (c.backends[0].balance = "uri")));
  assert.deepEqual(r.backends[0].balance, { algo: "uri" });
});
