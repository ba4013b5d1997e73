/**
 * The fetches `req.cook()` / `cook()` / `req.cook_cnt()` (and their ACL
 * keywords), `req.body_size` and `uuid()` on real parsed heads, and the
 * `http-request tarpit` action's compile and answer.
 */
import assert from "node:assert/strict";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { HttpMsg } from "../../lib/http/h1_types.ts";
import { aclFetchParse } from "../../lib/rules/acl_fetch.ts";
import type { AclCtx, AclSampleSink } from "../../lib/rules/acl_types.ts";
import { compileAcl } from "../../lib/rules/acl.ts";
import { actTarpitCompile } from "../../lib/rules/act_reply.ts";
import { ACT_F_HTTP_REQ } from "../../lib/rules/http_act_types.ts";
import { bin } from "../helpers/bytes.ts";

const WHERE = "t.cfg:3";

/** A request with header lines `hdrs`, parsed 5 bytes into a larger buffer. */
function req(line: string, hdrs: string[]): AclCtx {
  const junk = "a=b; ";
  const head = `${line}\r\n${hdrs.map((h) => `${h}\r\n`).join("")}\r\n`;
  const a = bin(junk + head + "x=1; y=2");
  const msg = new HttpMsg(64);
  assert.ok(
    h1ParseHead(msg, a, junk.length, head.length, {
      maxHead: 8192,
      maxHdrs: 64,
      maxBody: 0,
    }) > 0,
  );
  return { msg, a, base: junk.length, src: "192.0.2.1", sni: null };
}

/** Every sample `word` yields for `ctx`, as text. */
function samples(word: string, ctx: AclCtx): string[] {
  const spec = aclFetchParse(word);
  assert.ok(typeof spec !== "string", String(spec));
  const out: string[] = [];
  const sink: AclSampleSink = {
    matchBytes(a, pos, len) {
      out.push(new TextDecoder().decode(a.subarray(pos, pos + len)));
      return false;
    },
    matchInt(n) {
      out.push(String(n));
      return false;
    },
  };
  spec.fetch.exec(ctx, sink);
  return out;
}

const COOKIES = req("GET / HTTP/1.1", [
  "Host: a",
  "Cookie: sess=one;  beta = 1 ;flag; empty=",
  "X-Other: sess=no",
  "cookie: sess=two",
]);

Deno.test("req.cook(name): each value of the cookie, the last one first; spaces ignored, names exact", () => {
  assert.deepEqual(samples("req.cook(sess)", COOKIES), ["two", "one"]);
  assert.deepEqual(samples("cook(beta)", COOKIES), ["1"]);
  assert.deepEqual(samples("req.cook(empty)", COOKIES), [""]);
  assert.deepEqual(samples("req.cook(Sess)", COOKIES), [], "case-sensitive");
  assert.deepEqual(samples("req.cook(flag)", COOKIES), [], "no = is no cookie");
  assert.deepEqual(samples("req.cook(sess)", req("GET / HTTP/1.1", ["Host: a"])), []);
});

Deno.test("req.cook() without a name: every cookie's value, the first one first; req.cook_cnt counts", () => {
  assert.deepEqual(samples("req.cook()", COOKIES), ["one", "1", "", "two"]);
  assert.deepEqual(samples("req.cook_cnt(sess)", COOKIES), ["2"]);
  assert.deepEqual(samples("cook_cnt", COOKIES), ["4"]);
  assert.deepEqual(samples("req.cook_cnt(nope)", COOKIES), ["0"]);
});

Deno.test("req.cook ACL keywords match any occurrence; bad names are refused", () => {
  const acl = (words: string[]) => compileAcl(words, WHERE);
  const ok = (words: string[]) => {
    const e = acl(words);
    return e.fetch.exec(COOKIES, e.matcher);
  };
  assert.equal(ok(["req.cook(sess)", "one"]), true, "not only the last");
  assert.equal(ok(["req.cook_beg(sess)", "tw"]), true);
  assert.equal(ok(["cook_len(beta)", "1"]), true);
  assert.equal(ok(["req.cook(sess)", "three"]), false);
  assert.match(String(aclFetchParse("req.cook(a,b)")), /too many arguments/);
  assert.match(String(aclFetchParse("req.cook(a b)")), /invalid cookie name/);
});

Deno.test("req.body_size: the Content-Length, 0 without a body or for chunked", () => {
  const post = (h: string[]) => req("POST / HTTP/1.1", ["Host: a", ...h]);
  assert.deepEqual(samples("req.body_size", post(["Content-Length: 42"])), ["42"]);
  assert.deepEqual(samples("req.body_size", post([])), ["0"]);
  assert.deepEqual(samples("req.body_size", post(["Transfer-Encoding: chunked"])), ["0"]);
  assert.match(String(aclFetchParse("req.body_size(1)")), /takes no argument/);
});

Deno.test("uuid(): RFC 4122 version 4, new for each sample; only version 4", () => {
  const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const [u] = samples(i % 2 === 0 ? "uuid()" : "uuid(4)", COOKIES);
    assert.match(u, re);
    seen.add(u);
  }
  assert.equal(seen.size, 100);
  assert.match(String(aclFetchParse("uuid(1)")), /only 4 is supported/);
});

Deno.test("tarpit [deny_status CODE]: answers the status after the delay, as a denial", () => {
  const c = { where: WHERE, phase: ACT_F_HTTP_REQ, kw: "tarpit", arg: null };
  const a = actTarpitCompile([], c).run(COOKIES, { upgrade: false, connection: null });
  assert.ok(a !== null && a.kind === "tarpit" && a.status === 500 && a.deny);
  const b = actTarpitCompile(["deny_status", "429"], c).run(COOKIES, {
    upgrade: false,
    connection: null,
  });
  assert.ok(b !== null && b.kind === "tarpit" && b.status === 429);
  assert.throws(() => actTarpitCompile(["status", "429"], c), /unexpected "status" after tarpit/);
  assert.throws(() => actTarpitCompile(["deny_status", "99"], c), /invalid status "99"/);
});
