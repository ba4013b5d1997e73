/**
 * `%[fetch]` samples (HAProxy's log-format) in the actions that take one
 * besides header values: set-path, set-query, redirect location/prefix,
 * return lf-string and hdr; and set-var taking any request fetch.
 */
import assert from "node:assert/strict";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { HttpMsg } from "../../lib/http/h1_types.ts";
import type { RewriteOptions } from "../../lib/http/h1_rewrite.ts";
import type { AclCtx } from "../../lib/rules/acl_types.ts";
import { compileHttpRule, runHttpRules } from "../../lib/rules/http_rules.ts";
import { bin } from "../helpers/bytes.ts";

const WHERE = "t.cfg:4";
const NO_COND = () => () => true;

function get(target: string, ...hdrs: string[]): AclCtx {
  const text = `GET ${target} HTTP/1.1\r\nHost: shop.test\r\n${
    hdrs.map((h) => `${h}\r\n`).join("")
  }\r\n`;
  const a = bin("xx" + text);
  const msg = new HttpMsg(64);
  assert.ok(h1ParseHead(msg, a, 2, text.length, { maxHead: 8192, maxHdrs: 64, maxBody: 0 }) > 0);
  return { msg, a, base: 2, src: "192.0.2.7", sni: null };
}

function run(rule: string, ctx: AclCtx, response = false) {
  const rw: RewriteOptions = { upgrade: false, connection: null, drop: [], add: [] };
  const r = compileHttpRule(rule.split(" "), WHERE, response, NO_COND);
  const answer = runHttpRules([r], ctx, rw);
  const bytes = answer?.kind === "reply" ? new TextDecoder().decode(answer.bytes) : "";
  return { rw, answer, bytes };
}

Deno.test("set-path and set-query expand samples; a result that is no path leaves the target", () => {
  assert.equal(run("set-path /v2%[path]", get("/a/b?x=1")).rw.target, "/v2/a/b?x=1");
  assert.equal(run("set-query id=%[req.hdr(x-id)]", get("/a?x=1", "X-Id: 7")).rw.target, "/a?id=7");
  assert.equal(run("set-path %[req.hdr(x-p)]", get("/a", "X-P: /b")).rw.target, "/b");
  assert.equal(run("set-path %[req.hdr(x-p)]", get("/a", "X-P: b c")).rw.target, undefined);
  assert.equal(run("set-path %[req.hdr(x-none)]", get("/a")).rw.target, undefined);
});

Deno.test("redirect location and prefix expand samples in requests", () => {
  const loc = run("redirect location https://%[req.hdr(host)]/login code 303", get("/a")).bytes;
  assert.match(loc, /^HTTP\/1\.1 303 /);
  assert.match(loc, /\r\nLocation: https:\/\/shop\.test\/login\r\n/);
  const pre = run("redirect prefix /%[req.hdr(x-lang)]/", get("/a?b", "X-Lang: fr")).bytes;
  assert.match(pre, /\r\nLocation: \/fr\/a\?b\r\n/);
  assert.throws(
    () => run("redirect location /%[src]", get("/"), true),
    /log-format expressions \("%\[\.\.\.\]"\) are not supported in redirect location/,
  );
});

Deno.test("return lf-string and hdr values expand samples; string is sent as written", () => {
  const r = run(
    "return status 200 content-type text/plain lf-string from=%[src] hdr X-Path %[path]",
    get("/p"),
  ).bytes;
  assert.match(r, /\r\nX-Path: \/p\r\n/);
  assert.match(r, /\r\nContent-Length: 14\r\n/);
  assert.ok(r.endsWith("\r\n\r\nfrom=192.0.2.7"));
  const plain = run("return hdr X-A 1 string ok", get("/p"));
  assert.ok(plain.answer?.kind === "reply");
  assert.throws(() => run("return lf-string %[nope]", get("/")), /unknown fetch "nope"/);
  assert.throws(
    () => run("return lf-string %[path]", get("/"), true),
    /request fetches are not known in response rules/,
  );
});

Deno.test("set-var takes any request fetch, its first sample", () => {
  const ctx = get("/a?lang=fr", "Cookie: s=1; t=2");
  ctx.vars = null;
  run("set-var(txn.l) url_param(lang)", ctx);
  run("set-var(txn.c) req.cook(t)", ctx);
  run("set-var(txn.n) hdr_cnt(cookie)", ctx);
  run("set-var(txn.x) req.cook(none)", ctx);
  assert.deepEqual([...ctx.vars!], [["txn.l", "fr"], ["txn.c", "2"], ["txn.n", "1"]]);
  assert.throws(() => run("set-var(txn.s) status", get("/")), /only known in response rules/);
  assert.throws(() => run("set-var(txn.s) path x", get("/")), /unexpected "x"/);
});
