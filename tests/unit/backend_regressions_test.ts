/**
 * Regression tests for bugs found in the backend features (cookie
 * persistence, hashed balancing, health check configuration, CLI), each
 * fixed; the comment above each test says what was wrong.
 */
import assert from "node:assert/strict";
import { CookiePersist, uriKey } from "../../lib/backend/persist.ts";
import { Server } from "../../lib/backend/server.ts";
import { parseCli } from "../../lib/cfg/cli.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import type { SluiceConfig } from "../../lib/cfg/config_types.ts";
import { probe } from "../../lib/check/probe.ts";
import { SluiceError } from "../../lib/core/errors.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { h1Rewrite, type RewriteOptions } from "../../lib/http/h1_rewrite.ts";
import { type H1Limits, HttpMsg } from "../../lib/http/h1_types.ts";
import { fixture, upstream } from "../helpers/net.ts";
import { bin } from "../helpers/bytes.ts";

const LIM: H1Limits = { maxHead: 65536, maxHdrs: 64, maxBody: 0 };

function parseReq(s: string): { msg: HttpMsg; a: Uint8Array } {
  const a = bin(s);
  const msg = new HttpMsg(LIM.maxHdrs);
  assert.ok(h1ParseHead(msg, a, 0, a.length, LIM) > 0, `test head must parse: ${s}`);
  return { msg, a };
}

function minimal(): SluiceConfig {
  return {
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{ name: "be", servers: [{ name: "s1", address: "127.0.0.1:9000" }] }],
  };
}

// lib/backend/persist.ts uriKey(): for an absolute-form target without a
// path ("GET http://example.com HTTP/1.1", or "http://example.com?x=1") the
// path is empty, so the key is the hash of "" — while h1Rewrite() forwards
// that very request as "GET / HTTP/1.1" (RFC 9112 §3.2.2: an empty path is
// "/"). With `balance uri` the same resource then goes to two different
// servers depending on how the client wrote the target. Fix: hash "/" when
// the path is empty (n === 0) after an absolute-form authority.
Deno.test("uriKey() treats an absolute-form target without a path as the path /", () => {
  const key = (target: string) => {
    const { msg, a } = parseReq(`GET ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`);
    return uriKey(msg, a, 0);
  };
  assert.equal(key("http://example.com"), key("/"));
  assert.equal(key("http://example.com?x=1"), key("/"));
});

// lib/backend/persist.ts CookiePersist.request(), prefix mode: every
// occurrence of the cookie is replaced by the application value of the
// FIRST one (`keep = pairs.map((p) => p.startsWith(name + "=") ? name=appValue : p)`).
// Browsers send several cookies of the same name when they were set for
// different paths or domains ("JSESSIONID=s1~a; JSESSIONID=s2~b"); the
// application then receives "a" twice and loses "b". Fix: strip each
// occurrence's own "<server cookie>~" prefix (leave values without "~" as
// they are).
Deno.test("CookiePersist.request() prefix mode strips each occurrence's own prefix", () => {
  const mk = (name: string) =>
    new Server(name, { kind: "tcp", host: "127.0.0.1", port: 1 }, 0, {
      xprt: {} as never,
      hs: null,
    }, { weight: 1, maxconn: 0 });
  const p = new CookiePersist(
    { name: "JSESSIONID", mode: "prefix", indirect: false, nocache: false, attributes: "Path=/" },
    [mk("s1"), mk("s2")],
  );
  const { msg, a } = parseReq(
    "GET / HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=s1~a; JSESSIONID=s2~b\r\n\r\n",
  );
  const rw: RewriteOptions = { upgrade: false, connection: null, drop: [], add: [] };
  p.request({ stickTo: null } as never, msg, a, 0, rw);
  const out = String.fromCharCode(...h1Rewrite(msg, a, 0, rw));
  assert.equal(out, "GET / HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=a; JSESSIONID=b\r\n\r\n");
});

// lib/cfg/config_backend.ts check(): the TLS settings a check inherits from a
// TLS server are `{ ca, sni, verify }` only; `tls.verifyHost: false`
// (noVerifyHost) is dropped, and probe() (lib/check/probe.ts) always checks
// the certificate name unless verify is "none". So a server whose traffic
// works (chain verified, name not checked) fails every health check with
// L6RSP and is marked DOWN. CheckConfig.tls is documented as "like the
// traffic". Fix: carry noVerifyHost into the check TLS settings (e.g. a
// `verifyHost` field in CheckTlsConfig that probe() honours).
Deno.test("resolveConfig() health checks of a server with verifyHost false skip the name check", async () => {
  await using srv = upstream(async () => {}, {
    tls: { cert: fixture("server.crt"), key: fixture("server.key") },
  });
  const cfg = minimal();
  cfg.backends[0].servers[0] = {
    name: "s1",
    address: `tls://127.0.0.1:${srv.port}`,
    // The certificate is for localhost/127.0.0.1, not for this name.
    tls: { ca: [fixture("ca.crt")], sni: "other.example", verifyHost: false },
    check: {},
  };
  const check = resolveConfig(cfg).backends[0].servers[0].check!;
  const r = await probe({ host: "127.0.0.1", port: srv.port }, check, 2000);
  assert.equal(r.code, "L6OK", `like the traffic, the check trusts the chain: ${r.info}`);
});

// lib/cfg/config_backend.ts check(): a check path that is not "/..." or "*"
// passes the local test (visible ASCII) and is then rejected by
// checkConfigResolve(), whose error is re-thrown at the check itself:
// "Invalid configuration at backends[0].servers[0].check: Invalid check
// path "health": must start ..." — the field path is not
// `check.http.path` (unlike a path with a space) and the message says
// "Invalid" twice. Fix: test `/^(\/[\x21-\x7e]*|\*)$/` locally and fail at
// `${where}.http.path`.
Deno.test("resolveConfig() reports a check path without a leading / at check.http.path", () => {
  const cfg = minimal();
  cfg.backends[0].servers[0].check = { http: { path: "health" } };
  assert.throws(
    () => resolveConfig(cfg),
    (err: unknown) => {
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, "ERR_CONFIG");
      assert.equal(err.where, "backends[0].servers[0].check.http.path");
      assert.doesNotMatch(err.message, /: Invalid /, "one 'Invalid' per message");
      return true;
    },
  );
});

// lib/cfg/cli.ts: USAGE documents "--redispatch N ... -1 = last retry only",
// but `--redispatch -1` as two arguments fails: node:util parseArgs takes
// "-1" for an option and throws "argument is ambiguous", and parseCli()
// strips the hint ("To specify an option argument starting with a dash use
// '--redispatch=-XYZ'") from the message, leaving the user with
// "Option '--redispatch' argument is ambiguous". Fix: accept it (e.g. join
// "--redispatch" with a following "-<digits>" argument before parseArgs),
// or at least keep the "--redispatch=-1" hint and show that form in USAGE.
Deno.test("parseCli() accepts --redispatch -1 as two arguments, as USAGE shows", () => {
  const action = parseCli([
    "--listen",
    ":0",
    "--server",
    "127.0.0.1:9000",
    "--redispatch",
    "-1",
  ]);
  assert.equal(action.kind, "run");
  assert.equal((action as { config: SluiceConfig }).config.backends[0].redispatch, -1);
});

// lib/cfg/cli.ts (--timeout loop): a bad `--timeout check=...` duration is
// reported as `Invalid value "1x" for --timeout` (only the duration), while
// every other name reports the whole argument (`Invalid value "client=5x"
// for --timeout`), so the message does not say which timeout was wrong.
// Fix: pass `t` (the whole argument) to the error like the other names.
Deno.test("parseCli() names the whole --timeout check=... argument in its error", () => {
  assert.throws(
    () => parseCli(["--listen", ":0", "--server", "a:1,check", "--timeout", "check=1x"]),
    (err: unknown) => {
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, "ERR_DURATION");
      assert.match(err.message, /^Invalid value "check=1x" for --timeout: /);
      return true;
    },
  );
});
