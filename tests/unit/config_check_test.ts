/**
 * resolveConfig(): defaults, references, and errors that name the field.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_GRACE_MS,
  DEFAULT_LOG_QUEUE_BYTES,
  DEFAULT_MAXCONN,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUTS,
  resolveConfig,
} from "../../lib/cfg/config_check.ts";
import type { SluiceConfig } from "../../lib/cfg/config_types.ts";
import { SluiceError, type SluiceErrorCode } from "../../lib/core/errors.ts";
import { DEFAULT_BUFSIZE } from "../../lib/core/pool.ts";
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
    (err: unknown) => {
      assert.ok(err instanceof SluiceError, `a SluiceError, got ${err}`);
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

Deno.test("resolveConfig() applies every default to a minimal configuration", () => {
  const r = resolveConfig(minimal());
  assert.deepEqual(r.global, {
    maxconn: 4096,
    bufsize: 16384,
    buffers: 2 * 4096 + 64,
    runqueueDepth: 200,
    graceMs: 10_000,
    maxHdrs: 101,
    maxRewrite: 1024,
    maxBody: 0,
    serverIdleTimeout: 4000,
    serverIdleMax: 256,
    log: { target: "stdout", format: "tcplog", queueBytes: 1 << 20 },
  });
  assert.deepEqual(r.frontends, [{
    name: "fe",
    mode: "http",
    binds: [{ addr: { kind: "tcp", host: "127.0.0.1", port: 0 }, tls: null }],
    maxconn: 4096,
    clientTimeout: 30_000,
    backend: "be",
    http: {
      httpRequestTimeout: 10_000,
      keepAliveTimeout: 10_000,
      forwardFor: true,
      forwardedProto: true,
      forwarded: false,
      errorFiles: new Map(),
    },
  }]);
  assert.deepEqual(r.backends, [{
    name: "be",
    mode: "http",
    balance: { algo: "roundrobin" },
    retries: 3,
    redispatch: -1,
    timeouts: { connect: 5000, server: 30_000, tunnel: 0, queue: 5000 },
    cookie: null,
    stickSource: null,
    servers: [{
      name: "s1",
      addr: { kind: "tcp", host: "127.0.0.1", port: 9000 },
      tls: null,
      weight: 1,
      maxconn: 0,
      maxqueue: 0,
      backup: false,
      slowstart: 0,
      state: "ready",
      cookie: "s1",
      check: null,
      observe: null,
    }],
  }]);
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
  assert.equal(r.global.log.target, target);
  assert.equal(r.global.log.format, "json");
  assert.deepEqual([r.global.bufsize, r.global.buffers, r.global.runqueueDepth], [4096, 30, 7]);
  assert.equal(r.global.graceMs, 0);
  assert.equal(r.frontends[0].clientTimeout, 1000);
  assert.equal(r.backends[0].retries, 0);
  assert.deepEqual(r.backends[0].timeouts, { connect: 100, server: 200, tunnel: 300, queue: 400 });
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

Deno.test("resolveConfig() rejects a configuration without backends", () => {
  rejects(withEdit((c) => (c.backends = [])), "backends", /at least one backend is needed$/);
  rejects({ frontends: minimal().frontends }, "backends", /at least one backend/);
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
    /unknown algorithm "leastcon" \(expected roundrobin, static-rr, leastconn, first, source, uri, random or hdr\(<name>\)\)$/,
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
    /expected "stdout", "stderr", "none" or a function$/,
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
