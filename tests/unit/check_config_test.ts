/**
 * checkConfigResolve(): HAProxy's defaults (timeout and fastinter/downinter
 * fall back to inter) and the values it refuses.
 */
import assert from "node:assert/strict";
import { checkConfigResolve } from "../../lib/check/check_config.ts";
import type { CheckConfig } from "../../lib/check/check_types.ts";

Deno.test("checkConfigResolve() fills in HAProxy's defaults", () => {
  assert.deepEqual(checkConfigResolve({ type: "tcp" }), {
    type: "tcp",
    inter: 2000,
    fastinter: 2000,
    downinter: 2000,
    rise: 2,
    fall: 3,
    timeout: 2000,
    port: undefined,
    tls: undefined,
    http: { method: "GET", path: "/", host: undefined, status: [200, 399], string: undefined },
  });
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
  ];
  for (const [cfg, msg] of bad) assert.throws(() => checkConfigResolve(cfg), msg);
});
