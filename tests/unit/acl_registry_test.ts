/**
 * The ACL registries: every fetch row compiles and yields the type it
 * declares, every ACL keyword names a fetch and a method its samples
 * accept, every matching method tests the sample types it lists, and a
 * converter row plugs in between a fetch and its matcher.
 */
import assert from "node:assert/strict";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { HttpMsg } from "../../lib/http/h1_types.ts";
import { compileAcl } from "../../lib/rules/acl.ts";
import { ACL_CONVERTERS, type AclConv } from "../../lib/rules/acl_conv.ts";
import {
  ACL_FETCHES,
  ACL_KEYWORDS,
  aclDefaultMatch,
  aclFetchParse,
} from "../../lib/rules/acl_fetch.ts";
import { ACL_MATCHES, aclMatchAccepts } from "../../lib/rules/acl_match.ts";
import {
  type AclCtx,
  type AclSampleSink,
  SMP_T_BIN,
  SMP_T_BOOL,
  SMP_T_INT,
  SMP_T_IP,
  SMP_T_STR,
} from "../../lib/rules/acl_types.ts";
import { bin } from "../helpers/bytes.ts";
import { authScope, Userlist } from "../../lib/rules/auth.ts";

/** Arguments that make each fetch with arguments compile. */
const ARGS: Record<string, string> = {
  "url_param": "(id)",
  "urlp": "(id)",
  "var": "(txn.x)",
  "uuid": "(4)",
  "req.payload": "(0,4)",
  "req.payload_lv": "(0,1)",
  "http_auth": "(L)",
  "http_auth_group": "(L)",
};

/** The userlist L that http_auth(L) names, for `fn`. */
const withL = <T>(fn: () => T): T =>
  authScope({ userlists: new Map([["L", new Userlist("L", [], [])]]), proxy: "fe" }, fn);

function word(name: string): string {
  const def = ACL_FETCHES[name];
  if (def.args === undefined) return name;
  return `${name}${ARGS[name] ?? "(x-a)"}`;
}

Deno.test("every row of ACL_FETCHES compiles and yields the sample type it declares", () => {
  for (const [name, def] of Object.entries(ACL_FETCHES)) {
    const spec = withL(() => aclFetchParse(word(name)));
    assert.ok(typeof spec !== "string", `${name}: ${spec}`);
    assert.equal(spec.fetch.type, def.type, name);
    assert.equal(spec.use, def.use, name);
    assert.equal(spec.match, aclDefaultMatch(def.type), name);
    assert.ok(def.doc !== "" && !def.doc.endsWith("."), `${name}: one doc line`);
    if (def.args === undefined) {
      assert.equal(aclFetchParse(`${name}(x)`), `fetch "${name}" takes no argument`);
    }
  }
});

Deno.test("every ACL keyword names a fetch row and a method that fetch's samples accept", () => {
  for (const [kw, [fetch, match]] of Object.entries(ACL_KEYWORDS)) {
    const def = ACL_FETCHES[fetch];
    assert.ok(def !== undefined, `${kw}: no fetch "${fetch}"`);
    assert.ok(!Object.hasOwn(ACL_FETCHES, kw), `${kw} is a keyword or a fetch, not both`);
    assert.ok(aclMatchAccepts(match, def.type), `${kw}: -m ${match}`);
    const spec = aclFetchParse(def.args === undefined ? kw : `${kw}${ARGS[fetch] ?? "(x-a)"}`);
    assert.ok(typeof spec !== "string" && spec.match === match && spec.use === def.use, kw);
  }
});

Deno.test("every matching method tests the sample types its row lists", () => {
  const types = [SMP_T_BOOL, SMP_T_INT, SMP_T_STR, SMP_T_IP, SMP_T_BIN];
  const accepted = Object.fromEntries(
    Object.keys(ACL_MATCHES).map((k) => [
      k,
      types.filter((t) => aclMatchAccepts(k as keyof typeof ACL_MATCHES, t)),
    ]),
  );
  const text = [SMP_T_INT, SMP_T_STR, SMP_T_IP, SMP_T_BIN];
  assert.deepEqual(accepted, {
    str: text,
    beg: text,
    end: text,
    sub: text,
    reg: text,
    dom: text,
    dir: text,
    len: text,
    int: [SMP_T_BOOL, SMP_T_INT, SMP_T_STR],
    ip: [SMP_T_STR, SMP_T_IP],
    bin: [SMP_T_STR, SMP_T_BIN],
    found: types,
    bool: [SMP_T_BOOL, SMP_T_INT],
  });
});

/** A test converter: ASCII lowercase, into its own scratch bytes. */
class Lower implements AclConv {
  next!: AclSampleSink;
  #out = new Uint8Array(64);
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    if (len > this.#out.length) this.#out = new Uint8Array(len);
    const o = this.#out;
    for (let i = 0; i < len; i++) {
      const c = a[pos + i];
      o[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
    return this.next.matchBytes(o, 0, len);
  }
  matchInt(n: number): boolean {
    return this.next.matchInt(n);
  }
}

Deno.test("a row added to ACL_CONVERTERS converts each sample between the fetch and its matcher", () => {
  ACL_CONVERTERS["t_lower"] = {
    takes: 1 << SMP_T_STR,
    type: SMP_T_STR,
    doc: "ASCII lowercase",
    compile: () => new Lower(),
  };
  try {
    const expr = compileAcl(["hdr(host),t_lower", "shop.test"], "t.cfg:1");
    const head = "GET / HTTP/1.1\r\nHost: SHOP.Test\r\n\r\n";
    const msg = new HttpMsg(8);
    const a = bin(head);
    assert.ok(h1ParseHead(msg, a, 0, a.length, { maxHead: 1024, maxHdrs: 8, maxBody: 0 }) > 0);
    const ctx: AclCtx = { msg, a, base: 0, src: "192.0.2.1", sni: null };
    assert.equal(expr.fetch.exec(ctx, expr.matcher), true);
    assert.equal(expr.fetch.kw, "hdr(host),t_lower");
    assert.equal(
      aclFetchParse("hdr(host),t_upper"),
      `unknown converter "t_upper" after "hdr(host)" (supported: ${
        Object.keys(ACL_CONVERTERS).join(", ")
      })`,
    );
    assert.equal(
      aclFetchParse("hdr_cnt(host),t_lower"),
      'converter "t_lower" cannot take the integer samples of "hdr_cnt(host)"',
    );
    assert.equal(
      aclFetchParse("src,t_lower(x)"),
      'converter "t_lower" cannot take the address samples of "src"',
    );
    assert.equal(aclFetchParse("path,t_lower(x)"), 'converter "t_lower" takes no argument');
  } finally {
    delete ACL_CONVERTERS["t_lower"];
  }
});
