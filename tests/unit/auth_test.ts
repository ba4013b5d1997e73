/**
 * Userlists: SHA-crypt against known vectors (Drepper's specification and
 * `openssl passwd -5/-6`), the `userlist` section and its errors with
 * `file:line`, `http-request auth`, and the fetches `http_auth()` and
 * `http_auth_group()` on parsed requests.
 */
import assert from "node:assert/strict";
import { cfgParse } from "../../lib/cfg/cfg_parser.ts";
import { loadConfig } from "../../lib/cfg/config_load.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { HttpMsg } from "../../lib/http/h1_types.ts";
import { cryptHash, cryptMd5, cryptSha, cryptUnsupported } from "../../lib/rules/auth_crypt.ts";
import { authScope, Userlist } from "../../lib/rules/auth.ts";
import { aclFetchParse } from "../../lib/rules/acl_fetch.ts";
import { compileAcl } from "../../lib/rules/acl.ts";
import { sampleText } from "../../lib/rules/act_template.ts";
import type { AclCtx } from "../../lib/rules/acl_types.ts";
import { actAuthCompile } from "../../lib/rules/act_auth.ts";
import { ACT_F_HTTP_REQ } from "../../lib/rules/http_act_types.ts";

const HASH6_HELLO = "$6$saltsalt$QTxtZHhDasfdQccjU6pne9Cgluf7B8Bly.Re0Rl4FET20RuNBAR2/" +
  "L6Sg1AQyXUrp1lQc/2QhityVbnc2s1bQ0"; // openssl passwd -6 -salt saltsalt 'hello world'
const HASH5_A = "$5$saltsalt$Mtm6KOxb.PwaKES1sp80SDYOu1T0RdwsBVakhLiqA64"; // -5, "a"

Deno.test("cryptSha() computes glibc's $5$ and $6$ hashes (specification and openssl vectors)", () => {
  const vectors: [string, string, string][] = [
    ["Hello world!", "$5$saltstring", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"],
    [
      "Hello world!",
      "$6$saltstring",
      "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdF" +
      "CoEOfaS35inz1",
    ],
    [
      "Hello world!",
      "$5$rounds=10000$saltstringsaltstring",
      "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
    ],
    [
      "the minimum number is still observed",
      "$6$rounds=10$roundstoolow",
      "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTf" +
      "F4ZEQpyUNGc0dqbpBYYBaHHrsX.",
    ],
    ["hello world", "$6$saltsalt", HASH6_HELLO],
    ["a", "$5$saltsalt", HASH5_A],
    [
      // A password longer than the digest, with a non-ASCII character (UTF-8 bytes).
      "passwördlongggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
      "$5$saltsalt",
      "$5$saltsalt$/XJbEUbTrVxLFAeFkqm45eoeBdHtUtPSC.IDj3lkxf7",
    ],
    [
      // Salts are cut to 16 characters.
      "x",
      "$6$abcdefghijklmnopqrst",
      "$6$abcdefghijklmnop$4MjOne1jVRKP4IuHRPFedC4vlQHNjvcBfQJVlfB8ciQ5YUzW2g81Pyw4sptw4fem" +
      "J071/eApI0WDsBAOOCmTl0",
    ],
  ];
  for (const [pass, setting, want] of vectors) {
    assert.equal(cryptSha(pass, setting), want, `${pass} / ${setting}`);
    assert.equal(cryptSha(pass, want), want, "the full hash is its own setting");
    assert.equal(cryptUnsupported(want), null);
  }
  assert.equal(cryptSha("x", "$1$abc$"), null);
});

Deno.test("cryptMd5(): MD5 crypt ($1$) as openssl passwd -1 computes it", () => {
  const vectors: [string, string, string][] = [
    ["Hello world!", "$1$saltstri", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"],
    ["", "$1$ab", "$1$ab$rn6aQS/o7141mj179E/zA."],
    [
      "a much longer password that exceeds sixteen bytes",
      "$1$12345678",
      "$1$12345678$xp5UWmFrVKuEfrqQeMZhk1",
    ],
    ["secret", "$1$saltsalt", "$1$saltsalt$9xy1btjgzLYfb7hivXtC//"],
  ];
  for (const [pass, setting, want] of vectors) {
    assert.equal(cryptMd5(pass, setting), want, `${pass} / ${setting}`);
    assert.equal(cryptHash(pass, want), want, "the full hash is its own setting");
    assert.equal(cryptUnsupported(want), null);
  }
  assert.equal(
    cryptHash("secret", "$1$saltsalt$9xy1btjgzLYfb7hivXtC//"),
    "$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
  );
  assert.notEqual(
    cryptHash("Secret", "$1$saltsalt$9xy1btjgzLYfb7hivXtC//"),
    "$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
  );
});

Deno.test("cryptUnsupported() names the schemes sluice does not compute", () => {
  assert.equal(cryptUnsupported("$1$saltsalt$short"), "a malformed $1$ hash");
  assert.equal(
    cryptUnsupported("$2y$05$abcdefghijklmnopqrstuu5S7R1XiaKfQK1lyjZPO0ZuPj5Cq6u7W"),
    "bcrypt ($2y$)",
  );
  assert.equal(cryptUnsupported("saoh8pW5VhGSY"), "DES crypt");
  assert.equal(cryptUnsupported("$y$j9T$abc$def"), "yescrypt ($y$)");
  assert.equal(cryptUnsupported("$6$salt$short"), "a malformed $6$ hash");
  assert.equal(cryptUnsupported("plain"), "an unknown scheme (not $1$, $5$ or $6$)");
});

Deno.test("Userlist.check(): plain and hashed passwords, unknown users, cached hash results", () => {
  const l = new Userlist("L", [
    { name: "alice", pass: "s3cret", hashed: false, groups: [] },
    { name: "bob", pass: HASH6_HELLO, hashed: true, groups: ["admin"] },
  ], ["admin"]);
  const b = (s: string) => new TextEncoder().encode(s);
  assert.equal(l.check("alice", b("s3cret"))?.name, "alice");
  assert.equal(l.check("alice", b("s3cre")), null);
  assert.equal(l.check("alice", b("s3cret ")), null);
  assert.equal(l.check("bob", b("hello world"))?.name, "bob");
  assert.equal(l.check("bob", b("hello world")), l.check("bob", b("hello world")), "cached");
  assert.equal(l.check("bob", b("hello")), null);
  assert.equal(l.check("carol", b("s3cret")), null);
});

const LIST = [
  "userlist L",
  "  group admin users bob",
  "  group ops",
  "  user alice insecure-password s3cret groups ops",
  `  user bob password ${HASH6_HELLO}`,
];

/** Errors of loading `lines` as t.cfg, as `t.cfg:N: message`. */
function errorsOf(lines: string[]): string[] {
  const r = loadConfig([{ file: "t.cfg", text: lines.join("\n") }], { env: {} });
  return r.errors.map((e) => e.message);
}

const FE = [
  "frontend fe",
  "  mode http",
  "  bind 127.0.0.1:0",
  "  default_backend be",
  "backend be",
  "  mode http",
  "  server s 127.0.0.1:9",
];

Deno.test("userlist: users, groups of both directions, into the configuration", () => {
  const p = cfgParse([{ file: "t.cfg", text: [...LIST, ...FE].join("\n") }], {});
  assert.deepEqual(p.errors, []);
  assert.deepEqual(p.config.userlists, [{
    name: "L",
    groups: [{ name: "admin", users: ["bob"] }, { name: "ops" }],
    users: [
      { name: "alice", insecurePassword: "s3cret", groups: ["ops"] },
      { name: "bob", password: HASH6_HELLO },
    ],
  }]);
  resolveConfig(p.config);
});

Deno.test("userlist: refused hash schemes, bad lines and references, each with file:line", () => {
  assert.deepEqual(
    errorsOf([
      "userlist L",
      "  user a password $1$saltsalt$short",
      "  user b password $2y$05$abcdefghijklmnopqrstuu5S7R1XiaKfQK1lyjZPO0ZuPj5Cq6u7W",
      "  user c password saoh8pW5VhGSY",
      "  user d secret x",
      "  group g members a",
      "  user e insecure-password x groups nosuch",
      "  group h users nobody",
      "  frobnicate",
      "  user e2 insecure-password x password " + HASH5_A,
      "userlist L",
      "userlist",
      "userlist bad/name",
      ...FE,
    ]),
    [
      't.cfg:2: the password of user "a" is a malformed $1$ hash, which sluice does not support: use a SHA-512 ($6$) or SHA-256 ($5$) crypt hash (openssl passwd -6)',
      't.cfg:3: the password of user "b" is bcrypt ($2y$), which sluice does not support: use a SHA-512 ($6$) or SHA-256 ($5$) crypt hash (openssl passwd -6)',
      't.cfg:4: the password of user "c" is DES crypt, which sluice does not support: use a SHA-512 ($6$) or SHA-256 ($5$) crypt hash (openssl passwd -6)',
      't.cfg:5: "user" only supports the "password", "insecure-password" and "groups" options',
      't.cfg:6: "group" only supports the "users" option',
      't.cfg:7: no group "nosuch" in userlist "L" (userlists[0].users[0])',
      't.cfg:9: unsupported keyword "frobnicate" in section "userlist L" (expected user or group)',
      't.cfg:10: user "e2" has two passwords',
      't.cfg:11: userlist "L" is already declared at t.cfg:1 (HAProxy ignores the second one)',
      't.cfg:12: missing value for "userlist"',
      "t.cfg:13: character '/' is not permitted in userlist name \"bad/name\"",
    ],
  );
  // References are checked once the section is read.
  assert.deepEqual(
    errorsOf(["userlist L", "  user e insecure-password x groups nosuch", ...FE]),
    ['t.cfg:2: no group "nosuch" in userlist "L" (userlists[0].users[0])'],
  );
  assert.deepEqual(
    errorsOf(["userlist L", "  user a insecure-password x", "  group h users nobody", ...FE]),
    ['t.cfg:3: no user "nobody" in userlist "L" (userlists[0].groups[0])'],
  );
  assert.deepEqual(
    errorsOf(["userlist L", "  user a", ...FE]),
    ['t.cfg:2: user "a" needs one of password and insecurePassword (userlists[0].users[0])'],
  );
  assert.deepEqual(
    errorsOf(["userlist L", "  user a insecure-password x", "  user a insecure-password y", ...FE]),
    ['t.cfg:3: duplicate user "a" (userlists[0].users[1])'],
  );
});

Deno.test("http_auth(): an unknown userlist is an error at the rule's line", () => {
  assert.deepEqual(
    errorsOf([
      ...LIST,
      ...FE.slice(0, 3),
      "  http-request auth unless { http_auth(M) }",
      "  acl a http_auth_group() admin",
      ...FE.slice(3),
    ]),
    [
      't.cfg:9: no userlist named "M" (known: L) in "http_auth(M)" in ACL expression',
      't.cfg:10: expected a userlist name in "http_auth_group()" in ACL expression',
    ],
  );
});

Deno.test("http-request auth: 401 with the realm given, or the proxy's name", () => {
  const reply = (words: string[], proxy: string) => {
    const act = authScope(
      { userlists: new Map(), proxy },
      () =>
        actAuthCompile(words, { where: "t.cfg:1", phase: ACT_F_HTTP_REQ, kw: "auth", arg: null }),
    );
    return new TextDecoder().decode(act.fixedReply!.bytes);
  };
  const r = reply(["realm", "Secret zone"], "fe");
  assert.match(r, /^HTTP\/1\.1 401 Unauthorized\r\n/);
  assert.match(r, /\r\nWWW-Authenticate: Basic realm="Secret zone"\r\n/);
  assert.match(reply([], "api"), /\r\nWWW-Authenticate: Basic realm="api"\r\n/);
  const fails = (words: string[], re: RegExp) =>
    assert.throws(() => reply(words, "fe"), (e: Error) => re.test(e.message));
  fails(["realm"], /missing value for realm/);
  fails(["realm", 'a"b'], /the realm may not contain/);
  fails(["realm", "x", "y"], /unexpected "y" after auth realm/);
  fails(["domain", "x"], /unexpected "domain" after auth/);
  assert.deepEqual(
    errorsOf([...FE.slice(0, 3), "  http-response auth", ...FE.slice(3)]),
    ['t.cfg:4: "http-response auth" does not exist (use http-request)'],
  );
});

/** A context for the request head `head`. */
function ctxOf(head: string): AclCtx {
  const a = new TextEncoder().encode(head);
  const msg = new HttpMsg(64);
  assert.ok(h1ParseHead(msg, a, 0, a.length, { maxHead: 8192, maxHdrs: 64, maxBody: 0 }) > 0);
  return { msg, a, base: 0, src: "127.0.0.1", sni: null };
}

Deno.test("http_auth() and http_auth_group() on Basic credentials", () => {
  const list = new Userlist("L", [
    { name: "alice", pass: "s3cret", hashed: false, groups: ["ops"] },
    { name: "bob", pass: HASH5_A, hashed: true, groups: ["admin", "ops"] },
  ], ["admin", "ops"]);
  const scope = { userlists: new Map([["L", list]]), proxy: "fe" };
  const [auth, admins, who] = authScope(scope, () => [
    compileAcl(["http_auth(L)"], "t.cfg:1"),
    compileAcl(["http_auth_group(L)", "admin"], "t.cfg:2"),
    aclFetchParse("http_auth_group(L)"),
  ]);
  assert.ok(typeof who !== "string");
  const req = (cred: string | null) =>
    ctxOf(
      `GET / HTTP/1.1\r\nHost: a\r\n${cred === null ? "" : `Authorization: ${cred}\r\n`}\r\n`,
    );
  const basic = (s: string) => `Basic ${btoa(s)}`;
  const t = (e: typeof auth, c: AclCtx) => e.fetch.exec(c, e.matcher);
  assert.equal(t(auth, req(basic("alice:s3cret"))), true);
  assert.equal(t(auth, req(`bAsIc   ${btoa("alice:s3cret")}`)), true, "scheme in any case");
  assert.equal(t(auth, req(basic("alice:wrong"))), false);
  assert.equal(t(auth, req(basic("alice"))), false, "no colon");
  assert.equal(t(auth, req("Basic !!!!")), false, "bad base64");
  assert.equal(t(auth, req(`Bearer ${btoa("alice:s3cret")}`)), false);
  assert.equal(t(auth, req(null)), false);
  assert.equal(t(auth, req(`${basic("alice:s3cret")}, Bearer x`)), true, "the first element");
  assert.equal(t(auth, req(basic("bob:a"))), true);
  assert.equal(t(admins, req(basic("bob:a"))), true);
  assert.equal(t(admins, req(basic("alice:s3cret"))), false, "alice is not an admin");
  assert.equal(t(admins, req(basic("bob:b"))), false, "wrong password");
  // As a sample (%[...]), the user's name, as HAProxy.
  assert.equal(sampleText(who.fetch.sample!, req(basic("bob:a"))), "bob");
  assert.equal(sampleText(who.fetch.sample!, req(basic("bob:x"))), null);
});
