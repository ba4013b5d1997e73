/**
 * checkConfigResolve(): HAProxy's defaults (timeout and fastinter/downinter
 * fall back to inter) and the values it refuses.
 */
import assert from "node:assert/strict";
import { checkConfigResolve } from "../../lib/check/check_config.ts";
import type { CheckConfig } from "../../lib/check/check_types.ts";

Deno.test("checkConfigResolve() fills in HAProxy's defaults", () => {
  const { http: { expects, ...http }, ...c } = checkConfigResolve({ type: "tcp" });
  assert.deepEqual({ ...c, http }, {
    type: "tcp",
    inter: 2000,
    fastinter: 2000,
    downinter: 2000,
    rise: 2,
    fall: 3,
    timeout: 2000,
    port: undefined,
    tls: undefined,
    http: { method: "GET", path: "/", host: undefined },
    sendProxy: undefined,
    tcpCheck: null,
  });
  // The default expectation: status 200-399.
  assert.deepEqual(expects.map((e) => e.spec), [{ match: "status", pattern: "200-399" }]);
});

Deno.test("checkConfigResolve() makes fastinter, downinter and timeout follow inter", () => {
  const c = checkConfigResolve({ type: "http", inter: 500, downinter: 9000 });
  assert.equal(c.fastinter, 500);
  assert.equal(c.downinter, 9000);
  assert.equal(c.timeout, 500);
  assert.equal(checkConfigResolve({ type: "http", inter: 500, timeout: 100 }).timeout, 100);
});

Deno.test("checkConfigResolve() refuses values that make no check or a bad request", () => {
  const bad: [CheckConfig, RegExp][] = [
    [{ type: "udp" as "tcp" }, /Invalid check type "udp"/],
    [{ type: "tcp", inter: 0 }, /Invalid check inter "0"/],
    [{ type: "tcp", timeout: -1 }, /Invalid check timeout "-1"/],
    [{ type: "tcp", rise: 0 }, /Invalid check rise "0"/],
    [{ type: "tcp", fall: 1.5 }, /Invalid check fall "1.5"/],
    [{ type: "tcp", port: 70000 }, /Invalid check port "70000"/],
    [{ type: "tcp", tls: { verify: "maybe" as "none" } }, /Invalid check TLS verify "maybe"/],
    [{ type: "http", http: { method: "GET /" } }, /Invalid check method "GET \/"/],
    [{ type: "http", http: { path: "health" } }, /Invalid check path "health"/],
    [{ type: "http", http: { path: "/a b" } }, /Invalid check path/],
    [{ type: "http", http: { host: "a\r\nX: y" } }, /Invalid check Host/],
    [
      { type: "http", http: { expect: { status: [300, 200] } } },
      /Invalid check status range "300-200"/,
    ],
    [{ type: "http", http: { expect: { string: "" } } }, /Invalid check expected string ""/],
    [
      { type: "http", http: { expect: { rule: { match: "rstatus", pattern: "(" } } } },
      /Invalid check expectation: invalid regular expression "\("/,
    ],
    [
      { type: "http", http: { expect: { rule: { match: "binary", pattern: "00" } } } },
      /Invalid check expectation: "binary" is not a match of HTTP checks/,
    ],
    [
      {
        type: "http",
        http: { expect: { status: [200, 200], rule: { match: "string", pattern: "x" } } },
      },
      /a rule replaces status and string/,
    ],
    [{ type: "tcp", sendProxy: 3 as 1 }, /Invalid check PROXY version "3"/],
    [
      { type: "tcp", tcpCheck: [{ action: "send", data: new Uint8Array(0) }] },
      /Invalid tcp-check send: 0 bytes/,
    ],
    [
      { type: "tcp", tcpCheck: [{ action: "connect", port: 0 }] },
      /Invalid tcp-check connect port "0"/,
    ],
    [
      {
        type: "tcp",
        tcpCheck: [{ action: "expect", expect: { match: "status", pattern: "200" } }],
      },
      /"status" is not a match of TCP checks/,
    ],
  ];
  for (const [cfg, msg] of bad) assert.throws(() => checkConfigResolve(cfg), msg);
});

Deno.test("checkConfigResolve() numbers tcp-check steps as HAProxy and hands comments on", () => {
  const data = new TextEncoder().encode("PING\r\n");
  const c = checkConfigResolve({
    type: "tcp",
    tls: { verify: "none" },
    sendProxy: 2,
    tcpCheck: [
      { action: "comment", text: "ping" },
      { action: "send", data },
      { action: "send", data },
      { action: "expect", expect: { match: "string", pattern: "+PONG" } },
      { action: "connect", port: 8080, default: true },
      { action: "comment", text: "next" },
      { action: "connect", port: 8081, comment: "own" },
      { action: "send", data },
    ],
  });
  const view = c.tcpCheck!.map((s) => ({
    step: s.step,
    kind: s.kind,
    comment: s.comment,
    ...(s.kind === "connect"
      ? { port: s.port, tls: s.tls, pp: s.sendProxy, implicit: s.implicit }
      : {}),
  }));
  assert.deepEqual(view, [
    // No connect first: one is added, with the check's TLS and PROXY settings.
    {
      step: 0,
      kind: "connect",
      comment: undefined,
      port: undefined,
      tls: { verify: "none" },
      pp: 2,
      implicit: true,
    },
    // A comment names the run of rules of the first one's kind after it.
    { step: 2, kind: "send", comment: "ping" },
    { step: 3, kind: "send", comment: "ping" },
    { step: 4, kind: "expect", comment: undefined },
    // "default" takes the check's settings; a plain connect has none.
    {
      step: 5,
      kind: "connect",
      comment: undefined,
      port: 8080,
      tls: { verify: "none" },
      pp: 2,
      implicit: false,
    },
    {
      step: 7,
      kind: "connect",
      comment: "own",
      port: 8081,
      tls: undefined,
      pp: 0,
      implicit: false,
    },
    { step: 8, kind: "send", comment: undefined },
  ]);
});
