/**
 * The ACL engine (lib/rules/): every fetch on real parsed heads, every
 * matching method and flag, IPv4/IPv6/mapped networks, named ACLs declared
 * several times, the condition grammar, configuration errors with their
 * `file:line`, and a long run of one compiled condition over many requests.
 *
 * Heads are parsed by h1ParseHead() at a non-zero offset in a larger buffer,
 * so a fetch that forgot `base` (or read past its value) fails here.
 */
import { authScope, Userlist } from "../../lib/rules/auth.ts";
import assert from "node:assert/strict";
import { SluiceError } from "../../lib/core/errors.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { type H1Limits, HttpMsg } from "../../lib/http/h1_types.ts";
import { aclDeclare, aclEval, aclPredefined, compileAcl } from "../../lib/rules/acl.ts";
import {
  compileCondition,
  condMisuse,
  condShow,
  evalCondition,
  evalCondition3,
} from "../../lib/rules/acl_cond.ts";
import { ACL_FETCH_KWS, aclFetchParse } from "../../lib/rules/acl_fetch.ts";
import { ipNetParse, ipParse } from "../../lib/rules/acl_ip.ts";
import {
  ACL_COND_IF,
  ACL_COND_UNLESS,
  ACL_EF_ICASE,
  ACL_TEST_MISS,
  ACL_TEST_PASS,
  type AclCtx,
  type AclMap,
  SMP_USE_CONN,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "../../lib/rules/acl_types.ts";
import { H1_MF_RESP } from "../../lib/http/h1_types.ts";
import { bin } from "../helpers/bytes.ts";
import { TlsHelloScan } from "../../lib/rules/tls_hello.ts";
import { clientHello, records } from "../helpers/tls_hello.ts";

const LIM: H1Limits = { maxHead: 8192, maxHdrs: 64, maxBody: 0 };
const WHERE = "t.cfg:12";

interface ReqOpts {
  src?: string;
  sni?: string | null;
}

/**
 * A context for the request with start line `line` and header lines
 * `hdrs`, parsed 9 bytes into a buffer that has bytes after the head too.
 */
function req(line: string, hdrs: string[] = ["Host: example.com"], opts: ReqOpts = {}): AclCtx {
  const junk = "Zz/?&=,:.";
  const head = `${line}\r\n${hdrs.map((h) => `${h}\r\n`).join("")}\r\n`;
  const a = bin(junk + head + "trailing/body?x=1,2");
  const msg = new HttpMsg(LIM.maxHdrs);
  const r = h1ParseHead(msg, a, junk.length, head.length, LIM);
  assert.ok(r > 0, `test request does not parse: ${msg.errMsg}`);
  return { msg, a, base: junk.length, src: opts.src ?? "192.0.2.10", sni: opts.sni ?? null };
}

/** A GET for `target` with extra header lines. */
function get(target: string, ...hdrs: string[]): AclCtx {
  return req(`GET ${target} HTTP/1.1`, ["Host: example.com", ...hdrs]);
}

/** Compiles `words` (space-separated, or an array) as one expr and evaluates it on `ctx`. */
function test(words: string | string[], ctx: AclCtx): boolean {
  const w = typeof words === "string" ? words.split(" ") : words;
  const expr = compileAcl(w, WHERE);
  return aclEval({ name: "t", exprs: [expr] }, ctx);
}

/** Compiles and evaluates a condition (`if ...`) with the named ACLs `acls`. */
function cond(text: string, ctx: AclCtx, acls: AclMap = new Map()): boolean {
  return evalCondition(compileCondition(text.split(" "), acls, WHERE), ctx);
}

/** Asserts that `fn` throws a config error at WHERE whose message matches `re`. */
function configError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SluiceError, `not a SluiceError: ${err}`);
    assert.equal(err.code, "ERR_CONFIG");
    assert.equal(err.where, WHERE);
    assert.ok(err.message.startsWith(`${WHERE}: `), err.message);
    assert.match(err.message, re);
    return true;
  });
}

// --- fetches -----------------------------------------------------------------

Deno.test("path is the target's path without the query", () => {
  const ctx = get("/a/b?x=1");
  assert.equal(test("path /a/b", ctx), true);
  assert.equal(test("path /a/b?x=1", ctx), false);
  assert.equal(test("path /a", ctx), false);
  assert.equal(test("path /", get("/")), true);
  assert.equal(test("path /p", get("/p?")), true);
});

Deno.test("path of an absolute-form target skips scheme and authority", () => {
  const ctx = req("GET http://example.com:8080/a/b?q=/c HTTP/1.1");
  assert.equal(test("path /a/b", ctx), true);
  assert.equal(test("path_beg /a", ctx), true);
  assert.equal(test("url_beg http://example.com", ctx), true);
  assert.equal(test("path /x", req("GET https://h/x HTTP/1.1")), true);
});

Deno.test("path yields no sample for an absolute target without a path, nor for *", () => {
  assert.equal(test("path -m found", req("GET http://example.com HTTP/1.1")), false);
  // HAProxy looks for "/" after the authority; a "/" in the query is not the path.
  assert.equal(test("path -m found", req("GET http://example.com?a=/b HTTP/1.1")), false);
  assert.equal(test("path -m found", req("OPTIONS * HTTP/1.1")), false);
  assert.equal(test("url *", req("OPTIONS * HTTP/1.1")), true);
  assert.equal(test("path -m found", get("/")), true);
});

Deno.test("path_beg, path_end, path_sub, path_reg, path_dom, path_dir, path_len", () => {
  const ctx = get("/static/img/logo.png?v=2");
  assert.equal(test("path_beg /static/", ctx), true);
  assert.equal(test("path_beg /img", ctx), false);
  assert.equal(test("path_end .png", ctx), true);
  assert.equal(test("path_end =2", ctx), false); // the query is not part of the path
  assert.equal(test("path_sub /img/", ctx), true);
  assert.equal(test("path_sub v=2", ctx), false);
  assert.equal(test("path_reg ^/static/.*\\.png$", ctx), true);
  assert.equal(test("path_reg img", ctx), true); // a search, not anchored
  assert.equal(test("path_dir img", ctx), true);
  assert.equal(test("path_dir im", ctx), false);
  assert.equal(test("path_dir /static/img/", ctx), true);
  assert.equal(test("path_dom logo", ctx), true);
  assert.equal(test("path_dom png", ctx), true);
  assert.equal(test("path_dom ogo", ctx), false);
  assert.equal(test("path_len 20", ctx), true);
  assert.equal(test("path_len gt 20", ctx), false);
});

Deno.test("url and url_beg see the whole target, query included", () => {
  const ctx = get("/a?b=1");
  assert.equal(test("url /a?b=1", ctx), true);
  assert.equal(test("url /a", ctx), false);
  assert.equal(test("url_beg /a?", ctx), true);
  assert.equal(test("url_end b=1", ctx), true);
  assert.equal(test("url_sub ?b", ctx), true);
  assert.equal(test("url_reg =1$", ctx), true);
  assert.equal(test("url_len 6", ctx), true);
});

Deno.test("query is the part after the first ?, empty when there is none", () => {
  assert.equal(test("query a=1&b=2?c", get("/p?a=1&b=2?c")), true);
  assert.equal(test("query -m len 0", get("/p")), true);
  assert.equal(test("query -m found", get("/p")), true);
  assert.equal(test("query -m len 0", get("/p?")), true);
  assert.equal(test(["query", "-m", "str", ""], get("/p")), true);
  assert.equal(test("query -m beg a=", get("/p?a=1")), true);
  assert.equal(test("query x=1", req("GET http://h?x=1 HTTP/1.1")), true);
});

Deno.test("url_param() finds the value of each parameter with that name", () => {
  const ctx = get("/s?xid=1&id=2;id=3&flag&ID=4&id");
  assert.equal(test("url_param(id) 2", ctx), true);
  assert.equal(test("url_param(id) 3", ctx), true); // every occurrence, ";" separates too
  assert.equal(test("url_param(id) 1", ctx), false); // "xid" is another name
  assert.equal(test("url_param(id) 4", ctx), false); // names are case-sensitive
  assert.equal(test("url_param(flag) -m found", ctx), false); // no "=": no value
  assert.equal(test("url_param(nope) -m found", ctx), false);
  assert.equal(test("urlp(xid) 1", ctx), true);
  assert.equal(test("urlp_val(id) gt 2", ctx), true);
  assert.equal(test("url_param(id) -m found", get("/s")), false);
  assert.equal(test("url_param(a) 1|b=2", get("/s?a=1|b=2")), true);
  assert.equal(test("url_param(a,|) 1", get("/s?a=1|b=2")), true);
  assert.equal(test(["url_param(e)", "-m", "str", ""], get("/s?e=&f=1")), true);
  assert.equal(test("url_param 1", get("/s?z=1")), true); // no name: any parameter
  assert.equal(test("url_param(a) 1", req("GET http://h/p?a=1 HTTP/1.1")), true);
});

Deno.test("hdr() matches each comma-separated element of every occurrence", () => {
  const ctx = get(
    "/",
    "X-Fwd: 10.0.0.1, 10.0.0.2 ,10.0.0.3",
    "x-fwd: 10.0.0.4",
    'X-Q: "a,b", c',
    "X-Empty:",
  );
  for (const v of ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]) {
    assert.equal(test(`hdr(x-fwd) ${v}`, ctx), true, v);
  }
  assert.equal(test("hdr(X-FWD) 10.0.0.4", ctx), true); // names ignore case
  assert.equal(test(["hdr(x-fwd)", "10.0.0.2 "], ctx), false); // elements are trimmed
  assert.equal(test('hdr(x-q) "a,b"', ctx), true); // commas in quotes do not split
  assert.equal(test("hdr(x-q) c", ctx), true);
  assert.equal(test(["hdr(x-empty)", "-m", "str", ""], ctx), true);
  assert.equal(test("hdr(x-empty) -m found", ctx), true);
  assert.equal(test("hdr(x-none) -m found", ctx), false);
  assert.equal(test("req.hdr(x-fwd) 10.0.0.3", ctx), true);
});

Deno.test("hdr(name,occ) picks one element, counted from the first or the last", () => {
  const ctx = get("/", "X-A: 1, 2", "X-A: 3");
  assert.equal(test("hdr(x-a,1) 1", ctx), true);
  assert.equal(test("hdr(x-a,1) 2", ctx), false);
  assert.equal(test("hdr(x-a,2) 2", ctx), true);
  assert.equal(test("hdr(x-a,3) 3", ctx), true);
  assert.equal(test("hdr(x-a,-1) 3", ctx), true);
  assert.equal(test("hdr(x-a,-1) 1", ctx), false);
  assert.equal(test("hdr(x-a,-3) 1", ctx), true);
  assert.equal(test("hdr(x-a,4) -m found", ctx), false);
  assert.equal(test("hdr(x-a,-4) -m found", ctx), false);
  assert.equal(test("fhdr(x-a,1) 1, 2", get("/", "X-A: 1, 2")), false); // split by spaces here
  assert.equal(test(["fhdr(x-a,1)", "1, 2"], ctx), true);
  assert.equal(test(["fhdr(x-a,-1)", "3"], ctx), true);
});

Deno.test("fhdr() and req.fhdr() match whole values, commas included", () => {
  const ctx = get("/", "User-Agent: Mozilla/5.0 (X11, Linux)");
  assert.equal(test(["fhdr(user-agent)", "Mozilla/5.0 (X11, Linux)"], ctx), true);
  assert.equal(test(["req.fhdr(user-agent)", "-m", "end", "Linux)"], ctx), true);
  assert.equal(test(["hdr(user-agent)", "Mozilla/5.0 (X11, Linux)"], ctx), false);
  assert.equal(test(["hdr(user-agent)", "Linux)"], ctx), true);
});

Deno.test("hdr_beg, hdr_end, hdr_sub, hdr_reg, hdr_dom, hdr_len, hdr_val, hdr_ip", () => {
  const ctx = get(
    "/",
    "Referer: https://www.example.com/page",
    "X-N: 42",
    "X-Forwarded-For: 203.0.113.7, 10.1.2.3",
  );
  assert.equal(test("hdr_beg(referer) https://", ctx), true);
  assert.equal(test("hdr_end(referer) /page", ctx), true);
  assert.equal(test("hdr_sub(referer) example", ctx), true);
  assert.equal(test("hdr_reg(referer) ^https?://[^/]*example\\.com/", ctx), true);
  assert.equal(test("hdr_dom(referer) example.com", ctx), true);
  assert.equal(test("hdr_dom(referer) ample.com", ctx), false);
  assert.equal(test("hdr_len(x-n) 2", ctx), true);
  assert.equal(test("hdr_val(x-n) ge 40", ctx), true);
  assert.equal(test("hdr_val(x-n) lt 42", ctx), false);
  assert.equal(test("hdr_ip(x-forwarded-for) 10.0.0.0/8", ctx), true);
  assert.equal(test("req.hdr_ip(x-forwarded-for) 192.168.0.0/16", ctx), false);
});

Deno.test("hdr_dom(host) matches whole labels, with a port or not", () => {
  const m = (host: string, pat: string) =>
    test(`hdr_dom(host) ${pat}`, req("GET / HTTP/1.1", [`Host: ${host}`]));
  assert.equal(m("www.example.com", "example.com"), true);
  assert.equal(m("example.com:8080", "example.com"), true);
  assert.equal(m("myexample.com", "example.com"), false);
  assert.equal(m("example.com.evil.org", "example.com"), true); // as HAProxy: labels anywhere
  assert.equal(m("example.com", ".example.com."), true); // delimiters at the ends are dropped
  assert.equal(m("EXAMPLE.com", "example.com"), false);
  assert.equal(
    test("hdr_dom(host) -i example.com", req("GET / HTTP/1.1", ["Host: WWW.EXAMPLE.COM"])),
    true,
  );
});

Deno.test("hdr_cnt() counts elements; integer operators, plain values and ranges", () => {
  const ctx = get("/", "X-A: 1, 2", "X-A: 3", "Accept: */*");
  assert.equal(test("hdr_cnt(x-a) 3", ctx), true);
  assert.equal(test("hdr_cnt(x-a) eq 3", ctx), true);
  assert.equal(test("hdr_cnt(x-a) ge 3", ctx), true);
  assert.equal(test("hdr_cnt(x-a) gt 3", ctx), false);
  assert.equal(test("hdr_cnt(x-a) le 2", ctx), false);
  assert.equal(test("hdr_cnt(x-a) lt 4", ctx), true);
  assert.equal(test("hdr_cnt(x-a) 1:3", ctx), true);
  assert.equal(test("hdr_cnt(x-a) 4:", ctx), false);
  assert.equal(test("hdr_cnt(x-a) :3", ctx), true);
  assert.equal(test("hdr_cnt(x-a) 0 1 2", ctx), false);
  assert.equal(test("hdr_cnt(x-a) 0 1 3", ctx), true); // several patterns: OR
  assert.equal(test("hdr_cnt(x-none) 0", ctx), true); // always a sample, 0 when absent
  assert.equal(test("hdr_cnt(x-none) -m found", ctx), true);
  assert.equal(test("req.hdr_cnt(X-A) 3", ctx), true);
  assert.equal(test("fhdr_cnt(x-a) 2", ctx), true);
  assert.equal(test("hdr_cnt 5", ctx), true); // no name: every header (Host + 3 + 1)
  assert.equal(test("hdr_cnt() 5", ctx), true);
  assert.equal(test("req.fhdr_cnt 4", ctx), true);
  assert.equal(test("hdr_cnt(x-a) -m str 3", ctx), true); // an integer matched as text
  assert.equal(test("hdr_cnt(x-a) -m beg 3", ctx), true);
});

Deno.test("method is case-sensitive unless -i; METH_* are predefined", () => {
  const ctx = req("GET / HTTP/1.1");
  assert.equal(test("method GET", ctx), true);
  assert.equal(test("method get", ctx), false);
  assert.equal(test("method -i get", ctx), true);
  assert.equal(test("method POST PUT", ctx), false);
  assert.equal(test("method PURGE", req("PURGE / HTTP/1.1")), true);
  assert.equal(cond("if METH_GET", req("HEAD / HTTP/1.1")), true);
  assert.equal(
    cond("if METH_GET", req("POST / HTTP/1.1", ["Host: h", "Content-Length: 0"])),
    false,
  );
  assert.equal(
    cond("if METH_POST", req("POST / HTTP/1.1", ["Host: h", "Content-Length: 0"])),
    true,
  );
  assert.equal(cond("if METH_OPTIONS HTTP_URL_STAR", req("OPTIONS * HTTP/1.1")), true);
});

Deno.test("req.ver, HTTP_1.0, HTTP_1.1, HTTP_CONTENT, HTTP_URL_ABS, HTTP_URL_SLASH", () => {
  const v10 = req("GET / HTTP/1.0", []);
  const v11 = get("/");
  assert.equal(test("req.ver 1.0", v10), true);
  assert.equal(test("req.ver 1.1", v11), true);
  assert.equal(cond("if HTTP_1.0", v10), true);
  assert.equal(cond("if HTTP_1.1", v10), false);
  assert.equal(cond("if HTTP_1.1 HTTP_URL_SLASH", v11), true);
  assert.equal(cond("if HTTP_URL_ABS", req("GET http://h/ HTTP/1.1")), true);
  assert.equal(cond("if HTTP_URL_ABS", v11), false);
  const post = req("POST / HTTP/1.1", ["Host: h", "Content-Length: 5"]);
  assert.equal(cond("if HTTP_CONTENT", post), true);
  assert.equal(cond("if HTTP_CONTENT", v11), false);
});

Deno.test("src matches IPv4 addresses and CIDR networks", () => {
  const at = (src: string) => req("GET / HTTP/1.1", ["Host: h"], { src });
  assert.equal(test("src 10.1.2.3", at("10.1.2.3")), true);
  assert.equal(test("src 10.1.2.4", at("10.1.2.3")), false);
  assert.equal(test("src 10.0.0.0/8", at("10.1.2.3")), true);
  assert.equal(test("src 10.1.2.0/24", at("10.1.3.3")), false);
  assert.equal(test("src 10.1.2.3/8", at("10.200.0.1")), true); // host bits are masked off
  assert.equal(test("src 10.0.0.0/255.0.0.0", at("10.1.2.3")), true);
  assert.equal(test("src 0.0.0.0/0", at("203.0.113.9")), true);
  assert.equal(test("src 192.168.0.0/16 172.16.0.0/12 10.0.0.0/8", at("172.20.1.1")), true);
  assert.equal(test("src 192.168.0.0/16 172.16.0.0/12", at("172.32.1.1")), false);
  assert.equal(test("src -m found", at("")), false); // no address: no sample
  assert.equal(test("src 10.0.0.0/8", at("not-an-ip")), false);
  assert.equal(cond("if LOCALHOST", at("127.0.0.1")), true);
  assert.equal(cond("if LOCALHOST", at("::1")), true);
  assert.equal(cond("if LOCALHOST", at("10.0.0.1")), false);
});

Deno.test("src matches IPv6 addresses and networks", () => {
  const at = (src: string) => req("GET / HTTP/1.1", ["Host: h"], { src });
  assert.equal(test("src 2001:db8::1", at("2001:db8:0:0:0:0:0:1")), true);
  assert.equal(test("src 2001:db8::/32", at("2001:db8:ffff::7")), true);
  assert.equal(test("src 2001:db8::/32", at("2001:db9::7")), false);
  assert.equal(test("src 2001:db8:0:1::/64", at("2001:db8:0:1:abcd::1")), true);
  assert.equal(test("src 2001:db8:0:1::/64", at("2001:db8:0:2::1")), false);
  assert.equal(test("src fe80::/10", at("fe80::1%eth0")), true); // zone ignored
  assert.equal(test("src ::1", at("[::1]")), true); // brackets ignored
  assert.equal(test("src ::/0", at("2001:db8::1")), true);
  assert.equal(test("src 10.0.0.0/8", at("2001:db8::1")), false); // v6 never in a v4 net
  assert.equal(test("src 2001:DB8::/32", at("2001:db8::5")), true);
});

Deno.test("src treats IPv4-mapped IPv6 as IPv4, in samples and patterns", () => {
  const at = (src: string) => req("GET / HTTP/1.1", ["Host: h"], { src });
  assert.equal(test("src 10.0.0.0/8", at("::ffff:10.9.8.7")), true);
  assert.equal(test("src 10.9.8.7", at("::FFFF:10.9.8.7")), true);
  assert.equal(test("src 10.9.8.7", at("::ffff:a09:807")), true); // hex form
  assert.equal(test("src ::ffff:10.0.0.0/104", at("10.1.1.1")), true);
  assert.equal(test("src ::ffff:10.0.0.0/104", at("11.1.1.1")), false);
  assert.equal(test("src ::ffff:10.9.8.7", at("10.9.8.7")), true);
  assert.equal(test("src ::ffff:0:0/96", at("198.51.100.1")), true); // every IPv4
  assert.equal(test("src ::/0", at("198.51.100.1")), true);
  assert.equal(test("src ::/64", at("198.51.100.1")), true);
  assert.equal(test("src 2001:db8::/32", at("198.51.100.1")), false);
});

Deno.test("ipParse() and ipNetParse() accept valid forms and refuse the rest", () => {
  const w = new Uint32Array(4);
  const p = (s: string) => ipParse(bin(s), 0, s.length, w);
  assert.equal(p("1.2.3.4"), 4);
  assert.equal(w[0], 0x01020304);
  assert.equal(p("255.255.255.255"), 4);
  assert.equal(w[0], 0xffffffff);
  assert.equal(p("::"), 6);
  assert.deepEqual([...w], [0, 0, 0, 0]);
  assert.equal(p("1::"), 6);
  assert.deepEqual([...w], [0x00010000, 0, 0, 0]);
  assert.equal(p("1:2:3:4:5:6:7:8"), 6);
  assert.deepEqual([...w], [0x00010002, 0x00030004, 0x00050006, 0x00070008]);
  assert.equal(p("64:ff9b::192.0.2.1"), 6);
  assert.equal(w[3], 0xc0000201);
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.4 ",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8:9",
      ":1::",
      "1:::2",
      "1::2::3",
      "12345::",
      "1:2:",
      "g::",
      "::1.2.3",
      "1.2.3.4::",
      "example.com",
    ]
  ) {
    assert.equal(p(bad), 0, bad);
  }
  assert.equal(ipNetParse("10.0.0.0/33"), "prefix length must be 0 to 32");
  assert.equal(ipNetParse("::/129"), "prefix length must be 0 to 128");
  assert.equal(ipNetParse("10.0.0.0/x"), "prefix length must be 0 to 32");
  assert.match(ipNetParse("10.0.0.0/255.0.255.0") as string, /not contiguous/);
  assert.match(ipNetParse("localhost") as string, /not an IP address/);
  const net = ipNetParse("::ffff:192.168.0.0/112");
  assert.ok(typeof net !== "string" && net.v4 && net.prefix === 16);
});

Deno.test("ssl_fc_sni is the SNI of the TLS terminated here, no sample when absent", () => {
  const tls = req("GET / HTTP/1.1", ["Host: h"], { sni: "API.example.com" });
  const plain = req("GET / HTTP/1.1", ["Host: h"], { sni: null });
  assert.equal(test("ssl_fc_sni -i api.example.com", tls), true);
  assert.equal(test("ssl_fc_sni api.example.com", tls), false);
  assert.equal(test("ssl_fc_sni -m end .example.com", tls), true);
  assert.equal(test("ssl_fc_sni -m dom example.com", tls), true);
  assert.equal(test("ssl_fc_sni -m found", tls), true);
  assert.equal(test("ssl_fc_sni -m found", plain), false);
  assert.equal(test("ssl_fc_sni -m len 0", plain), false);
  const long = "a".repeat(300) + ".example.com";
  assert.equal(
    test(`ssl_fc_sni ${long}`, req("GET / HTTP/1.1", ["Host: h"], { sni: long })),
    true,
  );
  // req.ssl_sni reads raw bytes, which an HTTP request context does not have.
  assert.equal(test("req.ssl_sni -m found", tls), false);
});

// --- raw request bytes (TCP content inspection) ---------------------------------

/** A context whose request bytes are `bytes` (placed 5 bytes into a larger area). */
function content(bytes: Uint8Array | string, opts: { final?: boolean; cap?: number } = {}): AclCtx {
  const b = typeof bytes === "string" ? bin(bytes) : bytes;
  const a = new Uint8Array(b.length + 10).fill(0x2a);
  a.set(b, 5);
  const ctx = req("GET / HTTP/1.1");
  ctx.content = {
    a,
    pos: 5,
    len: b.length,
    cap: opts.cap ?? 16384,
    final: opts.final ?? false,
    miss: false,
    hello: new TlsHelloScan(),
  };
  return ctx;
}

/** Asserts that the condition `text` is refused at WHERE with a message matching `re`. */
function badCond(text: string, re: RegExp): void {
  configError(() => compileCondition(text.split(" "), new Map(), WHERE), re);
}

/** Evaluates the condition `text` on `ctx` with three results: "pass", "fail", "miss". */
function cond3(text: string, ctx: AclCtx, acls: AclMap = new Map()): string {
  const r = evalCondition3(compileCondition(text.split(" "), acls, WHERE), ctx);
  return r === ACL_TEST_PASS ? "pass" : r === ACL_TEST_MISS ? "miss" : "fail";
}

Deno.test("req.len waits while the bytes may grow, and decides once they are final", () => {
  assert.equal(cond3("if { req.len gt 0 }", content("")), "miss");
  assert.equal(cond3("if { req.len gt 0 }", content("", { final: true })), "fail");
  assert.equal(cond3("if { req.len gt 0 }", content("x")), "pass");
  assert.equal(cond3("if { req.len eq 0 }", content("")), "pass");
  assert.equal(cond3("if { req_len ge 4 }", content("abc")), "miss");
  assert.equal(cond3("unless { req.len gt 0 }", content("")), "miss");
  assert.equal(cond3("unless { req.len gt 0 }", content("", { final: true })), "pass");
  assert.equal(cond3("if REQ_CONTENT", content("")), "miss"); // HAProxy's predefined req.len gt 0
  assert.equal(cond3("if REQ_CONTENT", content("x")), "pass");
  // No raw bytes (an HTTP rule): no sample.
  assert.equal(test("req.len -m found", get("/")), false);
});

Deno.test("conditions combine missing terms as HAProxy: AND stops, OR may still pass", () => {
  const ctx = content("ab");
  assert.equal(cond3("if { req.len gt 5 } TRUE", ctx), "miss");
  assert.equal(cond3("if FALSE { req.len gt 5 }", ctx), "fail");
  assert.equal(cond3("if { req.len gt 5 } || TRUE", ctx), "pass");
  assert.equal(cond3("if { req.len gt 5 } || FALSE", ctx), "miss");
  assert.equal(cond3("if !{ req.len gt 5 }", ctx), "miss");
  const acls: AclMap = new Map();
  aclDeclare(acls, ["acl", "two", "req.len", "2"], WHERE);
  aclDeclare(acls, ["acl", "two", "req.len", "gt", "9"], WHERE);
  assert.equal(cond3("if two", ctx, acls), "pass"); // one expr passes
  assert.equal(cond3("if two", content("a"), acls), "miss");
  // Without content, as evalCondition().
  assert.equal(cond3("if { path / }", get("/")), "pass");
});

Deno.test("req.payload() and req.payload_lv() read raw bytes, in hex (bin) or as text", () => {
  const ctx = content("GET /x HTTP/1.0\r\n");
  assert.equal(test("req.payload(0,3) -m bin 474554", ctx), true);
  assert.equal(test("req.payload(0,3) -m bin 474555", ctx), false);
  assert.equal(test("payload(0,3) 474554", ctx), true); // the ACL keyword: bin by default
  assert.equal(test("payload_lv(0,1) -m str G", content(bin("\x01G"))), true);
  assert.equal(test("req.payload(0,3) -m str GET", ctx), true);
  assert.equal(test("req.payload(4,0) -m beg /x", ctx), true); // 0: to the end
  assert.equal(cond3("if { req.payload(0,32) -m found }", ctx), "miss"); // not there yet
  assert.equal(cond3("if { req.payload(0,32) -m found }", content("GET", { final: true })), "fail");
  // Past the buffer's size it can never match: no wait.
  assert.equal(cond3("if { req.payload(10,10) -m found }", content("", { cap: 16 })), "fail");
  // payload_lv: a length byte at 0, the block after it or at offset2.
  const lv = content(bin("\x03abcXYZ"));
  assert.equal(test("req.payload_lv(0,1) -m str abc", lv), true);
  assert.equal(test("req.payload_lv(0,1,4) -m str XYZ", lv), true);
  assert.equal(test("req.payload_lv(0,1,+3) -m str XYZ", lv), true);
  assert.equal(test("req.payload_lv(0,1,-1) -m str \x03ab", lv), true);
  assert.equal(cond3("if { req.payload_lv(0,2) -m found }", lv), "miss"); // 0x0361 bytes
  assert.equal(cond3("if { req.payload_lv(0,1) -m found }", content(bin("\x00"))), "fail");
  badCond("if { req.payload(0) -m found }", /expected req\.payload\(offset,length\)/);
  badCond("if { req.payload(-1,2) -m found }", /non-negative integer as the offset/);
  badCond("if { req.payload_lv(0,5) -m found }", /length field must be 1 to 4 bytes/);
  badCond("if { req.payload_lv(0,1,x) -m found }", /as offset2/);
  badCond("if { req.payload_lv(0,1,-9) -m found }", /offset2 is too negative/);
  badCond(
    "if { payload(0,2) 4G }",
    /invalid pattern "4G" .*hex digit is expected \(found "G"\)/,
  );
  badCond("if { req.payload(0,2) -m bin 474 }", /an even number of hex digits/);
  // As HAProxy: binary samples have no default method.
  badCond("if { req.payload(0,2) 4745 }", /binary samples, which have no default matching method/);
});

Deno.test("req.ssl_hello_type, req.ssl_sni and req.ssl_ver read a ClientHello in raw bytes", () => {
  const hello = records(clientHello({ sni: "Shop.Example.com", version: [3, 3] }));
  const ctx = content(hello);
  assert.equal(test("req.ssl_hello_type 1", ctx), true);
  assert.equal(test("req_ssl_hello_type 2", ctx), false);
  assert.equal(test("req.ssl_sni -i shop.example.com", ctx), true);
  assert.equal(test("req.ssl_sni shop.example.com", ctx), false);
  assert.equal(test("req_ssl_sni -m end .Example.com", ctx), true);
  assert.equal(test("req.ssl_ver 3.3", ctx), true);
  assert.equal(test("req_ssl_ver 3.1:3.3", ctx), true);
  assert.equal(test("req.ssl_ver ge 3.4", ctx), false);
  assert.equal(test("req.ssl_ver -m int 196611", ctx), true); // -m: patterns as the method reads them
  // Half a hello: wait; then final: fail.
  const half = hello.subarray(0, 30);
  assert.equal(cond3("if { req.ssl_hello_type 1 }", content(half)), "miss");
  assert.equal(cond3("if { req.ssl_sni -m found }", content(half)), "miss");
  assert.equal(cond3("if { req.ssl_ver 3.3 }", content(half)), "miss");
  assert.equal(cond3("if { req.ssl_sni -m found }", content(half, { final: true })), "fail");
  // Plain text: no wait at all.
  assert.equal(cond3("if { req.ssl_hello_type 1 }", content("G")), "fail");
  assert.equal(cond3("if { req.ssl_sni -m found }", content("GET /")), "fail");
  badCond("if { req.ssl_ver 3.x }", /invalid pattern "3\.x" .*expected a dotted version/);
  badCond("if { req.ssl_ver 3.3:3.1 }", /the range is empty/);
});

Deno.test("always_true and always_false need no pattern", () => {
  const ctx = get("/");
  assert.equal(test("always_true", ctx), true);
  assert.equal(test("always_false", ctx), false);
  assert.equal(test("always_false -m found", ctx), true); // the sample exists, it is false
  assert.equal(cond("if TRUE", ctx), true);
  assert.equal(cond("if FALSE", ctx), false);
});

// --- matching methods and flags -------------------------------------------------

Deno.test("-m overrides the fetch's default method", () => {
  const ctx = get("/", "X-V: Hello-World.Example:42/x?y");
  const on = (m: string, pat: string) => test(["hdr(x-v)", "-m", m, pat], ctx);
  assert.equal(on("str", "Hello-World.Example:42/x?y"), true);
  assert.equal(on("str", "Hello"), false);
  assert.equal(on("beg", "Hello-"), true);
  assert.equal(on("beg", "World"), false);
  assert.equal(on("end", "/x?y"), true);
  assert.equal(on("sub", "World.Ex"), true);
  assert.equal(on("sub", "world"), false);
  assert.equal(on("reg", "W.rld"), true);
  assert.equal(on("dom", "Example"), true);
  assert.equal(on("dom", "World"), false); // "-" is not a delimiter
  assert.equal(on("dir", "x"), true);
  assert.equal(on("dir", "Example:42"), false);
  assert.equal(on("len", "26"), true);
  assert.equal(on("len", "27:"), false);
  assert.equal(test("hdr(x-v) -m found", ctx), true);
  assert.equal(test("path -m str /", ctx), true);
});

Deno.test("-m int reads a leading integer from a string, like HAProxy's str to int cast", () => {
  const ctx = get("/", "X-A: 12ab", "X-B: -7", "X-C: ab", "X-D:");
  assert.equal(test("hdr(x-a) -m int 12", ctx), true);
  assert.equal(test("hdr(x-b) -m int lt 0", ctx), true);
  assert.equal(test("hdr(x-c) -m int 0", ctx), true);
  assert.equal(test("hdr(x-d) -m int 0", ctx), false); // empty: no integer
  assert.equal(test("hdr(x-a) -m int +12", ctx), true);
});

Deno.test("-m ip matches addresses carried in a string fetch", () => {
  const ctx = get("/", "X-Real-IP: ::ffff:10.2.3.4");
  assert.equal(test("hdr(x-real-ip) -m ip 10.0.0.0/8", ctx), true);
  assert.equal(test("hdr(x-real-ip) -m ip 11.0.0.0/8", ctx), false);
});

Deno.test("-i makes every string method ignore ASCII case", () => {
  const ctx = get("/", "X-V: Hello.World/Path");
  const on = (m: string, pat: string, i: boolean) =>
    test(["hdr(x-v)", ...(i ? ["-i"] : []), "-m", m, pat], ctx);
  for (
    const [m, pat] of [
      ["str", "HELLO.WORLD/PATH"],
      ["beg", "hello."],
      ["end", "/path"],
      ["sub", "O.WOR"],
      ["reg", "^hello\\.world"],
      ["dom", "WORLD"],
      ["dir", "path"],
    ]
  ) {
    assert.equal(on(m, pat, false), false, `${m} without -i`);
    assert.equal(on(m, pat, true), true, `${m} with -i`);
  }
  const expr = compileAcl(["path", "-i", "/a"], WHERE);
  assert.equal(expr.flags & ACL_EF_ICASE, ACL_EF_ICASE);
  // -i folds ASCII only: bytes above 0x7f are compared as they are.
  const u = get("/", "X-N: \xc3\x89T\xc3\x89");
  assert.equal(test(["hdr(x-n)", "-i", "\u00c9t\u00c9"], u), true);
  assert.equal(test(["hdr(x-n)", "-i", "\u00e9t\u00e9"], u), false);
});

Deno.test("patterns are UTF-8 bytes in str and reg alike", () => {
  const ctx = get("/", "X-Name: caf\xc3\xa9");
  assert.equal(test(["hdr(x-name)", "caf\u00e9"], ctx), true);
  assert.equal(test(["hdr_reg(x-name)", "^caf\u00e9$"], ctx), true);
  assert.equal(test(["hdr_reg(x-name)", "^caf.$"], ctx), false); // "é" is two bytes
  assert.equal(test(["hdr_reg(x-name)", "^caf..$"], ctx), true);
});

Deno.test("a regex is a search and sees exactly the sample", () => {
  // The buffer holds more after the head ("trailing/body?x=1,2"): the regex must not see it.
  const ctx = get("/a", "X-Last: v");
  assert.equal(test("hdr_reg(x-last) ^v$", ctx), true);
  assert.equal(test("hdr_reg(x-last) trailing", ctx), false);
  assert.equal(test("path_reg ^/a$", ctx), true);
  assert.equal(test("path_reg HTTP", ctx), false);
  assert.equal(test("path_reg a", ctx), true);
  assert.equal(test("path_reg (?:x|a)$ ^/z", ctx), true);
});

Deno.test("flags come before patterns; -- lets a pattern start with -", () => {
  const ctx = get("/", "X-N: -1", "X-M: -i");
  assert.equal(test("hdr(x-n) -- -1", ctx), true);
  assert.equal(test("hdr_val(x-n) -- -1", ctx), true);
  assert.equal(test("hdr(x-m) -- -i", ctx), true);
  assert.equal(test("hdr(x-m) -m str -- -i", ctx), true);
  // After the first pattern, words starting with "-" are patterns, not flags.
  assert.equal(test("hdr(x-m) nope -i", ctx), true);
  assert.equal(test("path -n /", ctx), true);
});

Deno.test("several patterns in one ACL are ORed", () => {
  const ctx = get("/img/a.gif");
  assert.equal(test("path_end .png .jpg .gif", ctx), true);
  assert.equal(test("path_end .png .jpg", ctx), false);
  assert.equal(test("path_beg /js /css /img", ctx), true);
  assert.equal(test("path_reg ^/x ^/img", ctx), true);
});

// --- named ACLs ---------------------------------------------------------------

Deno.test("an ACL declared several times ORs its declarations", () => {
  const acls: AclMap = new Map();
  const first = aclDeclare(acls, ["acl", "static", "path_beg", "/static"], "t.cfg:1");
  const c = compileCondition(["if", "static"], acls, "t.cfg:2");
  const second = aclDeclare(acls, ["acl", "static", "path_end", ".css"], "t.cfg:3");
  assert.equal(first, second);
  assert.equal(acls.get("static")?.exprs.length, 2);
  assert.equal(aclEval(first, get("/static/x")), true);
  assert.equal(aclEval(first, get("/app.css")), true);
  assert.equal(aclEval(first, get("/app.js")), false);
  // A condition compiled before the second line sees it too (HAProxy shares the ACL).
  assert.equal(evalCondition(c, get("/app.css")), true);
  assert.equal(first.exprs[1].where, "t.cfg:3");
});

Deno.test("ACL names are case-sensitive and a named ACL hides a predefined one", () => {
  const acls: AclMap = new Map();
  aclDeclare(acls, ["acl", "TRUE", "always_false"], WHERE);
  aclDeclare(acls, ["acl", "a", "always_true"], WHERE);
  assert.equal(cond("if TRUE", get("/"), acls), false);
  configError(() => cond("if A", get("/"), acls), /unknown ACL "A" in condition/);
  assert.ok(aclPredefined("METH_GET"));
  assert.equal(aclPredefined("meth_get"), undefined);
});

Deno.test("aclDeclare() refuses bad names and lines", () => {
  const acls: AclMap = new Map();
  configError(() => aclDeclare(acls, ["acl"], WHERE), /missing ACL name after "acl"/);
  configError(() => aclDeclare(acls, ["acl", "x"], WHERE), /missing fetch for ACL "x"/);
  configError(
    () => aclDeclare(acls, ["acl", "a!b", "path", "/"], WHERE),
    /invalid character "!" in ACL name "a!b"/,
  );
  configError(
    () => aclDeclare(acls, ["acl", "or", "path", "/"], WHERE),
    /ACL name "or" is reserved/,
  );
  configError(() => aclDeclare(acls, ["use_backend", "x"], WHERE), /expected an "acl" line/);
  configError(
    () => aclDeclare(acls, ["acl", "x", "pathx", "/"], WHERE),
    /unknown fetch "pathx"/,
  );
  assert.equal(acls.size, 0);
});

// --- conditions ---------------------------------------------------------------

/** Named ACLs a, b, c, d that test X-A ... X-D headers for "1". */
function abcd(): AclMap {
  const acls: AclMap = new Map();
  for (const n of ["a", "b", "c", "d"]) {
    aclDeclare(acls, ["acl", n, `hdr(x-${n})`, "1"], "t.cfg:1");
  }
  return acls;
}

/** A request whose X-A ... X-D headers say which of a, b, c, d hold. */
function flags(a: number, b: number, c: number, d = 0): AclCtx {
  return get("/", `X-A: ${a}`, `X-B: ${b}`, `X-C: ${c}`, `X-D: ${d}`);
}

Deno.test("if and unless; ! negates, alone or glued, and twice cancels", () => {
  const acls = abcd();
  assert.equal(cond("if a", flags(1, 0, 0), acls), true);
  assert.equal(cond("unless a", flags(1, 0, 0), acls), false);
  assert.equal(cond("unless a", flags(0, 0, 0), acls), true);
  assert.equal(cond("if !a", flags(0, 0, 0), acls), true);
  assert.equal(cond("if ! a", flags(0, 0, 0), acls), true);
  assert.equal(cond("if !!a", flags(1, 0, 0), acls), true);
  assert.equal(cond("if ! !a", flags(1, 0, 0), acls), true);
  assert.equal(cond("unless !a", flags(1, 0, 0), acls), true);
  assert.equal(cond("unless !a", flags(0, 0, 0), acls), false);
});

Deno.test("terms are ANDed; || and or separate ORed suites; AND binds tighter", () => {
  const acls = abcd();
  for (let bits = 0; bits < 8; bits++) {
    const [a, b, c] = [bits & 1, (bits >> 1) & 1, (bits >> 2) & 1];
    const ctx = flags(a, b, c);
    assert.equal(cond("if a b", ctx, acls), Boolean(a && b), `a b @${bits}`);
    assert.equal(cond("if a b || c", ctx, acls), Boolean((a && b) || c), `a b || c @${bits}`);
    assert.equal(cond("if a || b c", ctx, acls), Boolean(a || (b && c)), `a || b c @${bits}`);
    assert.equal(cond("if a or !b", ctx, acls), Boolean(a || !b), `a or !b @${bits}`);
    assert.equal(cond("if a OR b Or c", ctx, acls), Boolean(a || b || c), `OR @${bits}`);
    assert.equal(cond("unless a || b", ctx, acls), !(a || b), `unless @${bits}`);
  }
});

Deno.test("braces hold anonymous ACLs, negatable, mixed with named ones", () => {
  const acls = abcd();
  const ctx = get("/api/v1", "X-A: 1");
  assert.equal(cond("if { path_beg /api }", ctx, acls), true);
  assert.equal(cond("if !{ path_beg /api }", ctx, acls), false);
  assert.equal(cond("if ! { path_beg /api }", ctx, acls), false);
  assert.equal(cond("if a { path_beg /api } { method GET }", ctx, acls), true);
  assert.equal(cond("if b { path_beg /api } || { path_end v1 }", ctx, acls), true);
  assert.equal(cond("if { hdr(x-a) -m int gt 0 } { src 192.0.2.0/24 }", ctx, acls), true);
  const c = compileCondition(
    ["if", "a", "!{", "path_beg", "/api", "}", "||", "METH_GET"],
    acls,
    WHERE,
  );
  assert.equal(c.pol, ACL_COND_IF);
  assert.equal(c.suites.length, 2);
  assert.equal(condShow(c), "if a !{ path_beg /api } || METH_GET");
  assert.equal(compileCondition(["unless", "a"], acls, WHERE).pol, ACL_COND_UNLESS);
});

Deno.test("compileCondition() refuses malformed conditions", () => {
  const acls = abcd();
  const bad = (text: string, re: RegExp) =>
    configError(() => compileCondition(text === "" ? [] : text.split(" "), acls, WHERE), re);
  bad("", /missing condition \(expected "if" or "unless"\)/);
  bad("when a", /expected "if" or "unless" before the condition, got "when"/);
  bad("if", /missing condition after "if"/);
  bad("unless", /missing condition after "unless"/);
  bad("if nope", /unknown ACL "nope" in condition/);
  bad("if a ||", /missing ACL after "\|\|" or "or"/);
  bad("if || a", /missing ACL before "\|\|"/);
  bad("if a || || b", /missing ACL before "\|\|"/);
  bad("if a or", /missing ACL after/);
  bad("if a !", /"!" at the end of the condition/);
  bad("if ! || a", /"!" before "\|\|"/);
  bad("if { path_beg /a", /missing "}" in condition/);
  bad("if { path_beg { /a } }", /nested braces are not allowed/);
  bad("if { }", /empty braces/);
  bad("if a }", /unexpected "}" in condition/);
  bad("if {path_beg /a }", /braces must be separate words/);
  bad("if { path_beg }", /missing pattern for ACL fetch "path_beg"/);
  bad("if { nofetch x }", /unknown fetch "nofetch"/);
});

Deno.test("a compiled condition keeps nothing between requests", () => {
  const acls = abcd();
  const c = compileCondition(
    ["if", "a", "{", "src", "10.0.0.0/8", "}", "{", "ssl_fc_sni", "-m", "found", "}"],
    acls,
    WHERE,
  );
  const yes = req("GET / HTTP/1.1", ["Host: h", "X-A: 1"], { src: "10.0.0.1", sni: "h" });
  const noSni = req("GET / HTTP/1.1", ["Host: h", "X-A: 1"], { src: "10.0.0.1" });
  const noSrc = req("GET / HTTP/1.1", ["Host: h", "X-A: 1"], { src: "11.0.0.1", sni: "h" });
  for (let i = 0; i < 3; i++) {
    assert.equal(evalCondition(c, yes), true);
    assert.equal(evalCondition(c, noSni), false);
    assert.equal(evalCondition(c, noSrc), false);
  }
});

// --- configuration errors -----------------------------------------------------

Deno.test("compileAcl() errors name the place, the fetch and the reason", () => {
  const bad = (words: string | string[], re: RegExp) =>
    configError(() => compileAcl(typeof words === "string" ? words.split(" ") : words, WHERE), re);
  bad([], /missing fetch in ACL expression/);
  bad("pathx /a", /unknown fetch "pathx" in ACL expression/);
  bad("host example.com", /unknown fetch "host"/);
  bad("path(x) /", /fetch "path" takes no argument/);
  bad("hdr /", /missing header name in "hdr"/);
  bad("hdr() /", /missing header name in "hdr\(\)"/);
  bad("hdr(a:b) x", /invalid header name "a:b" in "hdr\(a:b\)"/);
  bad("hdr(x,1,2) x", /too many arguments in "hdr\(x,1,2\)"/);
  bad("hdr(x,first) x", /invalid occurrence "first"/);
  bad("url_param(a,xy) 1", /invalid delimiter "xy"/);
  bad("hdr(host x", /missing "\)" or unexpected "\(" in "hdr\(host"/);
  bad("hdr(host),lowr x", /unknown converter "lowr" after "hdr\(host\)" \(supported: lower, /);
  bad("hdr(host),field(0,.) x", /"field\(0,.\)": the index must be a non-zero integer/);
  bad(
    "path_beg",
    /missing pattern for ACL fetch "path_beg" \(give one or more, or use "-m found"\)/,
  );
  bad("path_beg -i", /missing pattern for ACL fetch "path_beg"/);
  bad("path -x /", /unknown flag "-x" for ACL fetch "path" \(put "--" before a pattern/);
  bad("path -m", /missing matching method after "-m" for ACL fetch "path"/);
  bad("path -m glob /", /unknown matching method "glob" for ACL fetch "path": expected "str", /);
  bad("path -m str -m beg /", /"-m" given twice/);
  bad("path -f /etc/acl.lst", /flag "-f" \(patterns from a file\) is not supported yet/);
  bad("path -u 3 /", /flag "-u"/);
  bad(
    "src 10.0.0.0/33",
    /invalid pattern "10.0.0.0\/33" for ACL fetch "src": prefix length must be 0 to 32/,
  );
  bad("src 2001:db8::/200", /prefix length must be 0 to 128/);
  bad("src example.com", /invalid pattern "example.com" for ACL fetch "src": not an IP address/);
  bad("src 10.0.0.0/255.0.255.0", /not contiguous/);
  bad("path_reg ^/(a", /invalid pattern "\^\/\(a" for ACL fetch "path_reg": invalid regex: /);
  bad("path_reg [z-a]", /invalid regex/);
  bad(
    "hdr_cnt(x) many",
    /invalid pattern "many" for ACL fetch "hdr_cnt\(x\)": expected an integer/,
  );
  bad("hdr_cnt(x) gt", /operator "gt" needs an integer after it/);
  bad("hdr_cnt(x) gt x", /expected an integer after "gt"/);
  bad("hdr_cnt(x) 5:2", /the range is empty/);
  bad("hdr_cnt(x) :", /expected an integer range/);
  bad("path_len 1.5", /expected an integer/);
  bad(
    "hdr_cnt(x) -m ip 10.0.0.0/8",
    /matching method "ip" cannot be used with ACL fetch "hdr_cnt\(x\)", which yields an integer/,
  );
  bad(
    "src -m int 1",
    /matching method "int" cannot be used with ACL fetch "src", which yields an address/,
  );
  bad(
    "always_true -m str x",
    /matching method "str" cannot be used with ACL fetch "always_true", which yields a boolean/,
  );
  bad("path -m bool", /matching method "bool" cannot be used/);
  bad("always_true 1", /unexpected pattern "1" for ACL fetch "always_true": "-m bool" takes none/);
  bad("path -m found /", /unexpected pattern "\/" for ACL fetch "path": "-m found" takes none/);
  bad("path_dir /", /the pattern is only delimiters/);
  bad(["hdr(x)", "-z\x01"], /unknown flag "-z\\x01"/); // control characters shown escaped
});

/** A context for a response head (status line and header lines), as http-response rules see it. */
function res(line: string, hdrs: string[]): AclCtx {
  const head = `${line}\r\n${hdrs.map((h) => `${h}\r\n`).join("")}\r\n`;
  const a = bin(head);
  const msg = new HttpMsg(LIM.maxHdrs);
  msg.flags |= H1_MF_RESP;
  assert.ok(h1ParseHead(msg, a, 0, a.length, LIM) > 0, msg.errMsg);
  return { msg, a, base: 0, src: "192.0.2.10", sni: null };
}

Deno.test("response fetches: status, res.hdr, res.ver and hdr() on the response", () => {
  const r = res("HTTP/1.0 503 Busy", ["Server: x", "Cache-Control: no-store, private"]);
  assert.ok(test("status 500:599", r));
  assert.ok(!test("status 200", r));
  assert.ok(test("res.hdr(cache-control) private", r));
  assert.ok(test("hdr(server) x", r));
  assert.ok(test("shdr_sub(cache-control) store", r));
  assert.equal(test("res.hdr_cnt(cache-control) 2", r), true);
  assert.ok(test("res.ver 1.0", r));
  assert.ok(!test("res.hdr(x-none) -m found", r));
});

Deno.test("connection fetches: src_port, dst, dst_port, ssl_fc, ssl_fc_sni", () => {
  const c: AclCtx = {
    ...get("/"),
    srcPort: 51000,
    dst: "192.0.2.1",
    dstPort: 443,
    tls: true,
    sni: "shop.example.com",
  };
  assert.ok(test("src_port 50000:52000", c));
  assert.ok(test("dst 192.0.2.0/24", c));
  assert.ok(test("dst_port 443", c));
  assert.ok(test("ssl_fc", c));
  assert.ok(test("ssl_fc_sni -i SHOP.example.com", c));
  const plain: AclCtx = { ...get("/") };
  assert.ok(!test("ssl_fc", plain), "not TLS when unknown");
  assert.ok(!test("dst_port 443", plain), "no port, no sample");
  assert.ok(!test("dst -m found", plain));
  assert.equal(
    condMisuse(
      compileCondition(["if", "{", "dst_port", "443", "}"], new Map(), WHERE),
      SMP_USE_CONN,
    ),
    null,
  );
});

Deno.test("condMisuse finds the fetch a rule cannot feed, through named ACLs too", () => {
  const acls: AclMap = new Map();
  aclDeclare(acls, ["acl", "api", "path_beg", "/api"], WHERE);
  aclDeclare(acls, ["acl", "api", "src", "10.0.0.0/8"], WHERE);
  aclDeclare(acls, ["acl", "err", "status", "500:599"], WHERE);
  const c = (t: string) => compileCondition(t.split(" "), acls, WHERE);
  assert.equal(condMisuse(c("if api"), SMP_USE_REQ), null);
  const bad = condMisuse(c("if { src 10.0.0.1 } || api"), SMP_USE_CONN)!;
  assert.equal(bad.acl.name, "api");
  assert.equal(bad.expr.fetch.kw, "path_beg");
  assert.equal(condMisuse(c("if err { hdr(x) y }"), SMP_USE_RES), null);
  assert.equal(condMisuse(c("if err"), SMP_USE_REQ)!.expr.fetch.kw, "status");
  assert.equal(condMisuse(c("if { var(txn.a) b } LOCALHOST"), SMP_USE_RES), null);
  assert.equal(condMisuse(c("if METH_GET"), SMP_USE_RES)!.expr.fetch.kw, "method");
});

Deno.test("every listed fetch keyword parses", () => {
  for (const kw of ACL_FETCH_KWS) {
    const needsName = /^((req|res)\.)?[fs]?hdr(_(beg|end|sub|reg|dom|dir|len|val|ip))?$/.test(kw);
    const args = needsName
      ? "(x-a)"
      : kw === "var"
      ? "(txn.x)"
      : /^(req\.)?payload/.test(kw)
      ? "(0,1)"
      : /^http_auth/.test(kw)
      ? "(L)"
      : "";
    const lists = new Map([["L", new Userlist("L", [], [])]]);
    const spec = authScope({ userlists: lists, proxy: "fe" }, () => aclFetchParse(`${kw}${args}`));
    assert.ok(typeof spec !== "string", `${kw}: ${spec}`);
  }
  assert.equal(aclFetchParse("constructor"), 'unknown fetch "constructor"');
});

// --- allocation ---------------------------------------------------------------

Deno.test("evaluating a compiled condition on 100k requests allocates little", () => {
  const acls: AclMap = new Map();
  aclDeclare(acls, ["acl", "is_api", "path_beg", "/api/"], WHERE);
  aclDeclare(acls, ["acl", "is_host", "hdr(host)", "-i", "example.com", "www.example.com"], WHERE);
  aclDeclare(acls, ["acl", "internal", "src", "10.0.0.0/8", "192.168.0.0/16"], WHERE);
  aclDeclare(acls, ["acl", "json", "hdr_sub(accept)", "-i", "json"], WHERE);
  const c = compileCondition(
    ["if", "is_api", "is_host", "!internal", "json", "{", "url_param(v)", "2", "3", "}"],
    acls,
    WHERE,
  );
  // A few distinct requests, as a connection pool would hand them in turn.
  const ctxs = [
    req("GET /api/users?v=2 HTTP/1.1", ["Host: EXAMPLE.com", "Accept: application/json"], {
      src: "203.0.113.5",
    }),
    req("GET /api/users?v=1 HTTP/1.1", ["Host: example.com", "Accept: text/html"], {
      src: "10.1.1.1",
    }),
    req("GET /static/a.css HTTP/1.1", ["Host: www.example.com"], { src: "::ffff:192.0.2.1" }),
    req("GET http://example.com/api/x?v=3 HTTP/1.1", ["Host: example.com", "Accept: */*, x/json"], {
      src: "2001:db8::1",
    }),
  ];
  const expected = ctxs.map((ctx) => evalCondition(c, ctx));
  assert.deepEqual(expected, [true, false, false, true]);
  const deadline = performance.now() + 5000; // time box: stop early on a slow machine
  const before = Deno.memoryUsage().heapUsed;
  let n = 0;
  let hits = 0;
  for (; n < 100_000; n++) {
    if ((n & 1023) === 0 && performance.now() > deadline) break;
    if (evalCondition(c, ctxs[n & 3])) hits++;
  }
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(n > 0);
  assert.equal(hits, countHits(n));
  // 100k evaluations allocating even 100 bytes each would be 10 MB; scavenges
  // can hide garbage but never invent it, so this only catches gross leaks.
  assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes over ${n} evaluations`);
});

/** Number of requests among the first n whose index mod 4 is 0 or 3 (the matching ones). */
function countHits(n: number): number {
  let h = 0;
  for (let i = 0; i < n; i++) if ((i & 3) === 0 || (i & 3) === 3) h++;
  return h;
}
