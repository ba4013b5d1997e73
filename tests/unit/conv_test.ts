/**
 * Converters (lib/rules/acl_conv.ts, conv_str.ts, conv_map.ts): each one's
 * result on real request samples, its load-time errors, HAProxy's argument
 * quoting, and map files (parsing, match kinds, paths relative to the
 * configuration file, errors with the map file's line).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { HttpMsg } from "../../lib/http/h1_types.ts";
import { compileAcl } from "../../lib/rules/acl.ts";
import { ACL_CONVERTERS, convArgsRead } from "../../lib/rules/acl_conv.ts";
import { aclFetchParse } from "../../lib/rules/acl_fetch.ts";
import type { AclCtx } from "../../lib/rules/acl_types.ts";
import { sampleText } from "../../lib/rules/act_template.ts";
import { mapParse } from "../../lib/rules/conv_map.ts";
import { bin } from "../helpers/bytes.ts";

const HEAD = "GET /a/b?x=1 HTTP/1.1\r\nHost: WWW.Example.com:8080\r\nX-B: aGVsbG8=\r\n" +
  'X-P: ///a//b/\r\nX-J: a"b\\c/\r\nX-C: AQ==\r\n\r\n';

function ctx(src = "10.1.2.3"): AclCtx {
  const msg = new HttpMsg(8);
  const a = bin(HEAD);
  assert.ok(h1ParseHead(msg, a, 0, a.length, { maxHead: 1024, maxHdrs: 8, maxBody: 0 }) > 0);
  return { msg, a, base: 0, src, sni: null };
}

/** The first sample of `word` (a fetch with converters), null for none. */
function sample(word: string, where = "t.cfg:1", src?: string): string | null {
  const spec = aclFetchParse(word, where);
  if (typeof spec === "string") throw new Error(spec);
  return sampleText(spec.fetch, ctx(src));
}

function refused(word: string, re: RegExp, where = "t.cfg:1"): void {
  const spec = aclFetchParse(word, where);
  assert.equal(typeof spec, "string", `${word} should be refused`);
  assert.match(spec as string, re);
}

Deno.test("lower and upper change ASCII case, integers are converted from their text", () => {
  assert.equal(sample("req.hdr(host),lower"), "www.example.com:8080");
  assert.equal(sample("req.hdr(host),upper"), "WWW.EXAMPLE.COM:8080");
  assert.equal(sample("src,lower"), "10.1.2.3");
  assert.equal(sample("hdr_cnt,upper"), "5");
  refused("path,lower(x)", /converter "lower" takes no argument/);
});

Deno.test("hex, base64 and b64dec encode and decode; addresses and integers as their bytes", () => {
  assert.equal(sample("path,hex"), "2F612F62");
  assert.equal(sample("path,base64"), "L2EvYg==");
  assert.equal(sample("query,base64"), "eD0x");
  assert.equal(sample("req.hdr(x-b),b64dec"), "hello");
  assert.equal(sample("path,base64,b64dec"), "/a/b");
  assert.equal(sample("query,b64dec"), null); // "x=1": length not a multiple of 4
  // Addresses and integers are cast to their network bytes first, as HAProxy does.
  assert.equal(sample("src,hex"), "0A010203");
  assert.equal(sample("src,hex", "t.cfg:1", "::ffff:10.1.2.3"), "0A010203");
  assert.equal(sample("src,hex", "t.cfg:1", "2001:db8::1"), "20010DB8000000000000000000000001");
  assert.equal(sample("hdr_cnt,hex"), "0000000000000005");
  assert.equal(sample("src,bytes(3),hex"), "03");
  assert.equal(sample("src,base64"), "CgECAw==");
});

Deno.test("bytes(offset[,length]) slices; past the end is an empty sample", () => {
  assert.equal(sample("path,bytes(1)"), "a/b");
  assert.equal(sample("path,bytes(1,2)"), "a/");
  assert.equal(sample("path,bytes(0,99)"), "/a/b");
  assert.equal(sample("path,bytes(10)"), "");
  refused("path,bytes", /"bytes" expects an offset and an optional length/);
  refused("path,bytes(-1)", /the offset must be a non-negative integer/);
  refused("path,bytes(1,x)", /the length must be a non-negative integer/);
});

Deno.test("field() and word() pick fields and words as HAProxy's", () => {
  assert.equal(sample("req.hdr(host),field(1,:)"), "WWW.Example.com");
  assert.equal(sample("req.hdr(host),lower,field(1,:)"), "www.example.com");
  assert.equal(sample("req.hdr(host),field(2,.)"), "Example");
  assert.equal(sample("req.hdr(host),field(2,.,0)"), "Example.com:8080");
  assert.equal(sample("req.hdr(host),field(2,.,2)"), "Example.com:8080");
  assert.equal(sample("req.hdr(host),field(-1,.:)"), "8080");
  // A negative index counts fields towards the start, as HAProxy does.
  assert.equal(sample("req.hdr(host),field(-2,.:,2)"), "Example.com");
  assert.equal(sample("req.hdr(host),field(5,.)"), null);
  assert.equal(sample("req.hdr(x-p),field(2,/)"), "");
  assert.equal(sample("req.hdr(x-p),word(2,/)"), "b");
  assert.equal(sample("req.hdr(x-p),word(-2,/)"), "a");
  // count 0 takes the rest, trailing delimiters included (as HAProxy).
  assert.equal(sample("req.hdr(x-p),word(1,/,0)"), "a//b/");
  assert.equal(sample("req.hdr(x-p),word(3,/)"), "");
  refused("path,field(0,/)", /"field\(0,\/\)": the index must be a non-zero integer/);
  refused("path,field(1,)", /empty delimiter list/);
  refused("path,word(1)", /"word\(1\)" expects an index, delimiters and an optional count/);
});

Deno.test("json escapes as HAProxy's ascii mode; utf8 modes are refused", () => {
  assert.equal(sample("req.hdr(x-j),json"), 'a\\"b\\\\c\\/');
  assert.equal(sample("req.hdr(x-c),b64dec,json"), "\\u0001");
  assert.equal(sample("path,json(ascii)"), "\\/a\\/b");
  refused("path,json(utf8)", /input code "utf8" is not supported yet/);
  refused("path,json(x)", /unexpected input code "x"/);
});

Deno.test("regsub() replaces the first match, or all with g; groups and quoting as HAProxy's", () => {
  assert.equal(sample("req.hdr(x-p),regsub('/+','/','g')"), "/a/b/");
  assert.equal(sample("req.hdr(x-p),regsub(/+,/)"), "/a//b/");
  assert.equal(sample("req.hdr(host),regsub(www,x,i)"), "x.Example.com:8080");
  assert.equal(sample("path,regsub('^/(a)/(b)','\\2-\\1')"), "b-a");
  assert.equal(sample('path,regsub("^/(a)",\\"z\\")'), '"z"/b');
  refused("path,regsub(a)", /expects a regex, a replacement and optional flags/);
  refused("path,regsub(a,b,x)", /invalid regex flag 'x', only 'i' and 'g' are supported/);
  refused("path,regsub('(',b)", /bad regex "\("/);
  refused("path,regsub('a,b)", /converter "regsub": unclosed quote/);
});

Deno.test("convArgsRead() follows HAProxy's make_arg_list()", () => {
  assert.deepEqual(convArgsRead("a,b)", 0), { args: ["a", "b"], end: 4 });
  assert.deepEqual(convArgsRead(")", 0), { args: [], end: 1 });
  assert.deepEqual(convArgsRead("'a,)',\"b c\")x", 0), { args: ["a,)", "b c"], end: 12 });
  assert.deepEqual(convArgsRead("\\1\\t\\\\)", 0), { args: ["\\1\t\\"], end: 7 });
  assert.equal(convArgsRead("a,b", 0), 'missing ")"');
});

Deno.test("map files: lines, comments and blanks as HAProxy reads them", () => {
  assert.deepEqual(
    mapParse("# c\n\n  k1   v 1  \r\nk2\n\tk3\tv3\n").map((
      e,
    ) => [e.key, String.fromCharCode(...e.value), e.line]),
    [["k1", "v 1", 3], ["k2", "", 4], ["k3", "v3", 5]],
  );
});

Deno.test("map converters look samples up in a file relative to the configuration file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(
      join(dir, "hosts.map"),
      "# host to backend\nwww.example.com:8080 be_full\nexample.com be_dom\n/a be_a\n/a/b be_ab\n",
    );
    Deno.writeTextFileSync(join(dir, "nets.map"), "10.0.0.0/8 net8\n10.1.0.0/16 net16\n::1 v6\n");
    Deno.writeTextFileSync(join(dir, "re.map"), "^/a/ re1\n/b$ re2\n");
    Deno.writeTextFileSync(join(dir, "bad.map"), "10.0.0.0/8 ok\nnot-an-ip x\n");
    const at = join(dir, "h.cfg:7");
    assert.equal(sample("req.hdr(host),lower,map(hosts.map)", at), "be_full");
    assert.equal(sample("req.hdr(host),map_str(hosts.map)", at), null);
    assert.equal(sample("req.hdr(host),map_str(hosts.map,none)", at), "none");
    assert.equal(sample("path,map_beg(hosts.map)", at), "be_ab");
    assert.equal(sample("query,map_beg(hosts.map,dflt)", at), "dflt");
    assert.equal(sample("req.hdr(host),lower,field(1,:),map_dom(hosts.map)", at), "be_dom");
    assert.equal(sample("path,map_reg(re.map)", at), "re1");
    assert.equal(sample(`src,map_ip(${join(dir, "nets.map")})`, "x", "10.1.2.3"), "net16");
    assert.equal(sample("src,map_ip(nets.map)", at, "10.9.9.9"), "net8");
    assert.equal(sample("src,map_ip(nets.map)", at, "::1"), "v6");
    assert.equal(sample("src,map_ip(nets.map,no)", at, "192.0.2.1"), "no");
    refused(
      "src,map_ip(bad.map)",
      /map file ".*bad\.map" line 2: bad key "not-an-ip": not an IP/,
      at,
    );
    refused("path,map(missing.map)", /map file ".*missing\.map": cannot read it/, at);
    refused("path,map", /"map" expects a map file and an optional default value/, at);
    // In a rule, the error carries the keyword's file:line.
    assert.throws(
      () => compileAcl(["path,map_reg(nope.map)", "x"], at),
      (e: Error) => e.message.startsWith(`${at}: `) && /nope\.map/.test(e.message),
    );
    // An ACL on a converted sample.
    const expr = compileAcl(["req.hdr(host),lower,map(hosts.map)", "be_full"], at);
    assert.equal(expr.fetch.exec(ctx(), expr.matcher), true);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every converter row documents itself", () => {
  for (const [name, def] of Object.entries(ACL_CONVERTERS)) {
    assert.ok(def.doc.length > 0, name);
    assert.ok(def.takes !== 0, name);
  }
});
