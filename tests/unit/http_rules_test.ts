/**
 * `http-request` / `http-response` rules on parsed heads: each action
 * compiled from its words and run against a real request or response, the
 * configuration errors each one words, and the rule engine's order (an
 * answer stops the rules; header changes accumulate in the rewrite lists).
 */
import { cacheScope } from "../../lib/rules/act_cache.ts";
import { CacheRegistry, HttpCache } from "../../lib/http/cache_store.ts";
import assert from "node:assert/strict";
import { SluiceError } from "../../lib/core/errors.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import type { RewriteOptions } from "../../lib/http/h1_rewrite.ts";
import { H1_MF_RESP, type H1Limits, HttpMsg } from "../../lib/http/h1_types.ts";
import { cfgLexLine } from "../../lib/cfg/cfg_lexer.ts";
import { compileCondition, evalCondition } from "../../lib/rules/acl_cond.ts";
import { HTTP_ACTIONS, httpActSupported } from "../../lib/rules/http_act.ts";
import { ACT_F_HTTP_REQ, ACT_F_HTTP_RES } from "../../lib/rules/http_act_types.ts";
import type { AclCtx } from "../../lib/rules/acl_types.ts";
import {
  compileHttpRule,
  compileUseBackend,
  type CondCompiler,
  type HttpRule,
  runHttpRules,
} from "../../lib/rules/http_rules.ts";
import { bin } from "../helpers/bytes.ts";

const LIM: H1Limits = { maxHead: 8192, maxHdrs: 64, maxBody: 0 };
const WHERE = "t.cfg:7";
const COND: CondCompiler<AclCtx> = (words, where) => {
  const c = compileCondition(words, new Map(), where);
  return (ctx) => evalCondition(c, ctx);
};

/** A context for a head (request or response), parsed 5 bytes into a larger buffer. */
function head(lines: string[], response = false): AclCtx {
  const junk = "Zz/?&";
  const text = `${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
  const a = bin(junk + text + "body");
  const msg = new HttpMsg(LIM.maxHdrs);
  if (response) msg.flags |= H1_MF_RESP;
  assert.ok(h1ParseHead(msg, a, junk.length, text.length, LIM) > 0, "test head parses");
  return { msg, a, base: junk.length, src: "192.0.2.7", sni: null, dstPort: 8080 };
}

function get(target: string, ...hdrs: string[]): AclCtx {
  return head([`GET ${target} HTTP/1.1`, "Host: shop.test", ...hdrs]);
}

function rw(): RewriteOptions {
  return { upgrade: false, connection: null, drop: [], add: [] };
}

function rule(text: string, response = false): HttpRule<AclCtx> {
  return compileHttpRule(text.split(" "), WHERE, response, COND);
}

/** Runs the rules `texts` on `ctx`; returns the answer and the rewrite lists. */
function run(texts: string[], ctx: AclCtx, response = false) {
  const opts = rw();
  const answer = runHttpRules(texts.map((t) => rule(t, response)), ctx, opts);
  const drop = opts.drop!.map((d) => new TextDecoder().decode(d));
  return { answer, drop, add: opts.add!, target: opts.target, vars: ctx.vars };
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Asserts that compiling `words` fails at WHERE with exactly `msg`. */
function refuses(words: string, msg: string, response = false): void {
  assert.throws(
    () => compileHttpRule(words.split(" "), WHERE, response, COND),
    (err: unknown) => {
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, "ERR_CONFIG");
      assert.equal(err.where, WHERE);
      assert.equal(err.message, `${WHERE}: ${msg}`);
      return true;
    },
    words,
  );
}

Deno.test("deny answers 403 for a request and 502 for a response, or deny_status", () => {
  const a = run(["deny"], get("/")).answer!;
  assert.ok(a.kind === "reply" && a.deny && a.status === 403);
  assert.match(text(a.bytes), /^HTTP\/1\.1 403 Forbidden\r\n[^]*\r\n\r\n403 Forbidden\n$/);
  const r = run(["deny"], head(["HTTP/1.1 200 OK"], true), true).answer!;
  assert.ok(r.kind === "reply" && r.deny && r.status === 502);
  const t = run(["deny deny_status 429"], get("/")).answer!;
  assert.ok(t.kind === "reply" && t.status === 429);
  assert.match(text(t.bytes), /^HTTP\/1\.1 429 Too Many Requests\r\n/);
  refuses("deny status 429", 'unexpected "status" after deny');
  refuses("deny deny_status 99", 'invalid status "99"');
  refuses("deny deny_status", 'invalid status ""');
});

Deno.test("return answers with its status, content type, body and headers", () => {
  const a = run(["return status 201 content-type text/plain string ok hdr X-A 1"], get("/"))
    .answer!;
  assert.ok(a.kind === "reply" && !a.deny && a.status === 201);
  assert.equal(
    text(a.bytes),
    "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 2\r\n" +
      "Connection: close\r\n\r\nok",
  );
  const empty = run(["return"], get("/")).answer!;
  assert.ok(empty.kind === "reply" && empty.status === 200);
  refuses(
    "return code 200",
    'unexpected "code" in return (expected status, content-type, string, lf-string, hdr)',
  );
  refuses(
    "return string %[src]",
    '"string" is sent as written: use "lf-string" to expand %[...] samples',
  );
  refuses(
    "return hdr Content-Length 1",
    "the Content-Length header is managed by sluice and cannot be changed",
  );
  refuses("return string", "missing value for string");
});

Deno.test("redirect location answers at once; prefix and scheme keep the path and query", () => {
  const loc = run(["redirect location https://x.test/ code 301"], get("/a?b")).answer!;
  assert.ok(loc.kind === "reply" && loc.status === 301);
  assert.match(text(loc.bytes), /\r\nLocation: https:\/\/x\.test\/\r\n/);
  const pre = run(["redirect prefix /new/"], get("/a?b")).answer!;
  assert.ok(pre.kind === "reply" && pre.status === 302);
  assert.match(text(pre.bytes), /\r\nLocation: \/new\/a\?b\r\n/);
  const sch = run(["redirect scheme https code 308"], get("/a")).answer!;
  assert.ok(sch.kind === "reply" && sch.status === 308);
  assert.match(text(sch.bytes), /\r\nLocation: https:\/\/shop\.test\/a\r\n/);
  refuses("redirect to /x", 'expected redirect location|prefix|scheme, got "to"');
  refuses("redirect scheme 1x", 'redirect scheme needs a scheme name, got "1x"');
  refuses("redirect location /x code 200", 'invalid status "200"');
  refuses("redirect location /x status 301", 'unexpected "status" in redirect');
  refuses(
    "redirect prefix /x",
    '"http-response redirect" supports only "location" (prefix and scheme need the request)',
    true,
  );
});

Deno.test("set-header, add-header and del-header fill the rewrite lists in rule order", () => {
  const r = run(
    [
      "add-header X-A 1",
      "set-header X-A 2",
      "add-header X-B %[src]:%[dst_port]%%",
      "del-header X-C",
    ],
    get("/"),
  );
  assert.equal(r.answer, null);
  assert.deepEqual(r.drop, ["x-a", "x-c"]);
  assert.deepEqual(r.add, [["X-A", "2"], ["X-B", "192.0.2.7:8080%"]]);
  const del = run(["add-header X-A 1", "del-header X-A"], get("/"));
  assert.deepEqual(del.add, []);
  const res = run(["set-header X-S %[status]"], head(["HTTP/1.1 204 No Content"], true), true);
  assert.deepEqual(res.add, [["X-S", "204"]]);
  refuses("set-header X-A", "missing value for set-header X-A");
  refuses("set-header X-A a b", 'unexpected "b" after set-header (quote values with spaces)');
  refuses("add-header Host a", "Host can only be set (one Host per request)");
  refuses(
    "del-header Connection",
    "the Connection header is managed by sluice and cannot be changed",
  );
  refuses("set-header X:A 1", 'expected a header name, got "X:A"');
  refuses("del-header X-A b", 'unexpected "b" after del-header');
  refuses(
    "set-header X-A %ci",
    'unsupported log-format item "%ci" in set-header X-A: write samples as %[fetch] (e.g. %[src]), a literal % as %%',
  );
  refuses(
    "set-header X-A %[path]",
    '"%[path]" cannot be used in set-header X-A: request fetches are not known in response rules',
    true,
  );
  refuses(
    "set-header X-A %[status]",
    '"%[status]" cannot be used in set-header X-A: it is only known in response rules',
  );
});

Deno.test("replace-header rewrites each value of a header, client's and added ones", () => {
  const r = run(
    ["add-header X-Id b-2", "replace-header X-Id ([a-z])-([0-9]) \\2\\1"],
    get("/", "X-Id: a-1"),
  );
  assert.deepEqual(r.drop, ["x-id"]);
  assert.deepEqual(r.add, [["X-Id", "1a"], ["X-Id", "2b"]]);
  const none = run(["replace-header X-Id a b"], get("/"));
  assert.deepEqual(none.drop, []);
  refuses(
    "replace-header X-Id ( b",
    'invalid regex "(": Invalid regular expression: /^(?:()$/: Unterminated group',
  );
  refuses("replace-header X-Id a b c", 'unexpected "c" after replace-header');
  refuses("replace-header X-Id a b", '"http-response replace-header" is not supported yet', true);
});

Deno.test("set-path and set-query change the forwarded target, keeping the other part", () => {
  assert.equal(run(["set-path /v2"], get("/v1?x=1")).target, "/v2?x=1");
  assert.equal(run(["set-query y=2"], get("/v1?x=1")).target, "/v1?y=2");
  assert.equal(run(["set-query "], get("/v1?x=1")).target, "/v1");
  assert.equal(run(["set-path /a", "set-query q"], get("/v1")).target, "/a?q");
  refuses("set-path v2", 'set-path needs a path starting with "/" without spaces, got "v2"');
  refuses("set-query a b", 'unexpected "b" after set-query');
  refuses("set-path /x", '"http-response set-path" does not exist (use http-request)', true);
  refuses("set-query x", '"http-response set-query" does not exist (use http-request)', true);
});

Deno.test("set-var stores a literal or a request sample under txn.NAME", () => {
  const ctx = get("/p/q?x", "X-User: ann");
  ctx.vars = null;
  run(
    [
      "set-var(txn.a) str(hello)",
      "set-var(req.b) req.hdr(x-user)",
      "set-var(txn.c) path",
      "set-var(txn.d) method",
      "set-var(txn.e) src",
      "set-var(txn.f) req.hdr(x-none)",
    ],
    ctx,
  );
  assert.deepEqual(
    [...ctx.vars!],
    [["txn.a", "hello"], ["txn.b", "ann"], ["txn.c", "/p/q"], ["txn.d", "GET"], [
      "txn.e",
      "192.0.2.7",
    ]],
  );
  refuses("set-var(txn.a)", 'missing value for "set-var(txn.a)"');
  refuses(
    "set-var(txn.a) base64(x)",
    'unsupported set-var expression "base64(x)": unknown fetch "base64" (expected str(TEXT) or a request fetch)',
  );
  refuses("set-var(txn.a) str(x)", '"http-response set-var" is not supported yet', true);
});

Deno.test("use-service answers with a named service", () => {
  const a = run(["use-service prometheus-exporter"], get("/metrics")).answer!;
  assert.deepEqual(a, { kind: "service", name: "prometheus-exporter" });
  refuses("use-service stats", 'unknown service "stats" (supported: prometheus-exporter)');
  refuses(
    "use-service prometheus-exporter x",
    'unexpected "x" after use-service prometheus-exporter',
  );
  refuses(
    "use-service prometheus-exporter",
    '"http-response use-service" does not exist (use http-request)',
    true,
  );
});

Deno.test("rules run in order, skip when their condition fails and stop at an answer", () => {
  const r = run(
    [
      "set-header X-A 1 if { path /nope }",
      "add-header X-B 1",
      "deny if { path /x }",
      "add-header X-C 1",
    ],
    get("/x"),
  );
  assert.ok(r.answer?.kind === "reply" && r.answer.status === 403);
  assert.deepEqual(r.add, [["X-B", "1"]]);
  const u = compileUseBackend(["api", "unless", "{", "path", "/x", "}"], WHERE, COND);
  assert.equal(u.backend, "api");
  assert.equal(u.cond!(get("/x")), false);
  assert.throws(() => compileUseBackend(["a", "b"], WHERE, COND), /expected use_backend NAME/);
});

Deno.test("compileHttpRule() refuses an unknown action and lists those of its rule set (from HTTP_ACTIONS)", () => {
  refuses(
    "frobnicate",
    'unsupported action "http-request frobnicate" (supported: deny, tarpit, auth, return, redirect, use-service, cache-use, set-header, add-header, del-header, replace-header, set-path, set-query, set-var(txn.NAME))',
  );
  refuses(
    "set-var(foo) path",
    'unsupported action "http-request set-var(foo)" (supported: deny, tarpit, auth, return, redirect, use-service, cache-use, set-header, add-header, del-header, replace-header, set-path, set-query, set-var(txn.NAME))',
  );
  refuses(
    "frobnicate",
    'unsupported action "http-response frobnicate" (supported: deny, return, redirect, cache-store, set-header, add-header, del-header)',
    true,
  );
  refuses(
    "",
    'unsupported action "http-request " (supported: deny, tarpit, auth, return, redirect, use-service, cache-use, set-header, add-header, del-header, replace-header, set-path, set-query, set-var(txn.NAME))',
  );
});

// registry

const PHASES = [[ACT_F_HTTP_REQ, "http-request"], [ACT_F_HTTP_RES, "http-response"]] as const;

Deno.test("every row of HTTP_ACTIONS compiles its example in each rule set it is in", () => {
  // The cache actions name a cache of the configuration: `static` here.
  const spec = { totalMax: 1 << 20, maxObject: 4096, maxAge: 60, processVary: false };
  const caches = new CacheRegistry([new HttpCache({ ...spec, name: "static", maxSecondary: 10 })]);
  cacheScope(caches, "fe", () => everyExample());
});

function everyExample(): void {
  for (const [name, def] of Object.entries(HTTP_ACTIONS)) {
    const words = cfgLexLine(def.example, WHERE, {});
    assert.ok(words[0] === name || words[0].startsWith(`${name}(`), `${name}: example uses it`);
    assert.ok(def.doc !== "" && !def.doc.endsWith("."), `${name}: one doc line, no final period`);
    for (const [bit, rules] of PHASES) {
      if ((def.phases & bit) === 0) continue;
      const r = compileHttpRule(words, WHERE, bit === ACT_F_HTTP_RES, COND);
      assert.equal(typeof r.action.run, "function", `${rules} ${name}`);
    }
  }
}

Deno.test("every row of HTTP_ACTIONS is refused in a rule set it is not in, saying why", () => {
  for (const [name, def] of Object.entries(HTTP_ACTIONS)) {
    const words = cfgLexLine(def.example, WHERE, {});
    for (const [bit, rules] of PHASES) {
      if ((def.phases & bit) !== 0) continue;
      const why = ((def.later ?? 0) & bit) !== 0 ? "is not supported yet" : "does not exist (use ";
      assert.throws(
        () => compileHttpRule(words, WHERE, bit === ACT_F_HTTP_RES, COND),
        (err: unknown) =>
          err instanceof SluiceError && err.message.includes(`"${rules} ${name}" ${why}`),
        `${rules} ${name}`,
      );
    }
  }
});

Deno.test("httpActSupported() lists the rows of one rule set in table order", () => {
  assert.equal(
    httpActSupported(ACT_F_HTTP_RES),
    "deny, return, redirect, cache-store, set-header, add-header, del-header",
  );
  assert.ok(httpActSupported(ACT_F_HTTP_REQ).endsWith("set-path, set-query, set-var(txn.NAME)"));
});
