/**
 * ACL evaluation cost on one parsed request (the head is parsed once,
 * outside the timing; ACLs are compiled once):
 *
 *     deno bench bench/acl_bench.ts
 *
 * - `path_beg /api`: the path fetch (origin form) and a prefix compare;
 * - `hdr(host) -i example.com`: a header scan (name compare by length
 *   first) and a case-folding compare;
 * - a 5-term condition (`is_api is_host !internal json { url_param(v) 2 }`,
 *   all true, so nothing short-circuits): path, header, src CIDR, header
 *   substring, query parameter;
 * - for comparison, the regex equivalent of `path_beg /api` (the one method
 *   that builds a string per sample), and `src` alone.
 *
 * The request has 12 headers, Host in the middle, like a browser's.
 */
import { h1ParseHead } from "../lib/http/h1_parser.ts";
import { HttpMsg } from "../lib/http/h1_types.ts";
import { aclDeclare, aclEval, compileAcl } from "../lib/rules/acl.ts";
import { compileCondition, evalCondition } from "../lib/rules/acl_cond.ts";
import type { Acl, AclCtx, AclMap } from "../lib/rules/acl_types.ts";

const HEAD = [
  "GET /api/v1/users/42?v=2&fields=name,email HTTP/1.1",
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Accept: application/json, text/plain, */*",
  "Accept-Language: en-US,en;q=0.5",
  "Accept-Encoding: gzip, deflate, br",
  "Referer: https://example.com/app/",
  "Host: Example.COM",
  "Connection: keep-alive",
  "Cookie: session=0123456789abcdef; theme=dark",
  "Sec-Fetch-Dest: empty",
  "Sec-Fetch-Mode: cors",
  "Sec-Fetch-Site: same-origin",
  "X-Request-Id: 5d41402abc4b2a76b9719d911017c592",
].join("\r\n") + "\r\n\r\n";

const LIM = { maxHead: 16384, maxHdrs: 64, maxBody: 0 };
const a = new TextEncoder().encode(HEAD);
const msg = new HttpMsg(LIM.maxHdrs);
if (h1ParseHead(msg, a, 0, a.length, LIM) <= 0) throw new Error(`bench head: ${msg.errMsg}`);
const ctx: AclCtx = { msg, a, base: 0, src: "203.0.113.5", sni: null };

/** An anonymous ACL of one expression. */
function one(words: string[]): Acl {
  return { name: words.join(" "), exprs: [compileAcl(words, "bench")] };
}

const pathBeg = one(["path_beg", "/api"]);
const hostI = one(["hdr(host)", "-i", "example.com"]);
const pathReg = one(["path_reg", "^/api"]);
const src = one(["src", "10.0.0.0/8", "192.168.0.0/16", "203.0.113.0/24"]);

const acls: AclMap = new Map();
aclDeclare(acls, ["acl", "is_api", "path_beg", "/api"], "bench:1");
aclDeclare(acls, ["acl", "is_host", "hdr(host)", "-i", "example.com"], "bench:2");
aclDeclare(acls, ["acl", "internal", "src", "10.0.0.0/8", "192.168.0.0/16"], "bench:3");
aclDeclare(acls, ["acl", "json", "hdr_sub(accept)", "-i", "json"], "bench:4");
const cond5 = compileCondition(
  ["if", "is_api", "is_host", "!internal", "json", "{", "url_param(v)", "2", "}"],
  acls,
  "bench:5",
);

for (const [acl, want] of [[pathBeg, true], [hostI, true], [pathReg, true], [src, true]] as const) {
  if (aclEval(acl, ctx) !== want) throw new Error(`bench ACL "${acl.name}" gives ${!want}`);
}
if (!evalCondition(cond5, ctx)) throw new Error("bench condition is false");

let sink = 0;

Deno.bench({ name: "path_beg /api", group: "acl", baseline: true }, () => {
  if (aclEval(pathBeg, ctx)) sink++;
});

Deno.bench({ name: "hdr(host) -i example.com", group: "acl" }, () => {
  if (aclEval(hostI, ctx)) sink++;
});

Deno.bench({ name: "src (3 networks)", group: "acl" }, () => {
  if (aclEval(src, ctx)) sink++;
});

Deno.bench({ name: "path_reg ^/api (regex)", group: "acl" }, () => {
  if (aclEval(pathReg, ctx)) sink++;
});

Deno.bench({ name: "5-term condition", group: "acl" }, () => {
  if (evalCondition(cond5, ctx)) sink++;
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink); // keeps the results alive
});
