/**
 * Userlists on the wire: `http-request auth` answers 401 with the realm,
 * `http_auth(L)` lets a request with valid Basic credentials through
 * (plain, SHA-512 and SHA-256 crypt passwords), `http_auth_group(L)` tests
 * the user's groups in an ACL and gives the user's name as a sample.
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { exchange, modelUpstream } from "../helpers/http.ts";

// openssl passwd -6 -salt saltsalt 'hello world'; openssl passwd -5 -salt saltsalt a
const HASH6 = "$6$saltsalt$QTxtZHhDasfdQccjU6pne9Cgluf7B8Bly.Re0Rl4FET20RuNBAR2/" +
  "L6Sg1AQyXUrp1lQc/2QhityVbnc2s1bQ0";
const HASH5 = "$5$saltsalt$Mtm6KOxb.PwaKES1sp80SDYOu1T0RdwsBVakhLiqA64";

/** Starts sluice on configuration `lines`. */
async function proxyOf(lines: string[]) {
  const handle = await startSluice(parseConfigText(lines.join("\n"), "t.cfg", {}));
  return { port: handle.addresses[0].port, [Symbol.asyncDispose]: () => handle.close() };
}

/** One GET of `path` as `user:pass` (none: no Authorization header); the response text. */
async function get(port: number, path: string, cred?: string): Promise<string> {
  const auth = cred === undefined ? "" : `Authorization: Basic ${btoa(cred)}\r\n`;
  const r = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: a\r\n${auth}\r\n`, {
    timeoutMs: 5000,
    until: (t) => /\r\n\r\n/.test(t) && (t.endsWith(path) || t.endsWith("</html>\n")),
  });
  return r.text;
}

const USERLIST = [
  "userlist L",
  "    group admin users carol",
  "    group ops",
  "    user alice insecure-password s3cret groups ops",
  `    user bob password ${HASH6} groups ops`,
  `    user carol password ${HASH5}`,
];

Deno.test("http-request auth unless http_auth(L): 401 with the realm, then plain, $6$ and $5$ passwords", async () => {
  await using up = modelUpstream();
  await using p = await proxyOf([
    ...USERLIST,
    "frontend fe",
    "    mode http",
    "    bind 127.0.0.1:0",
    '    http-request auth realm "Private area" unless { http_auth(L) }',
    "    default_backend be",
    "backend be",
    "    mode http",
    `    server s1 ${up.address}`,
  ]);
  for (const cred of [undefined, "alice:wrong", "nobody:s3cret", "bob:hello", "carol:b"]) {
    const r = await get(p.port, "/x", cred);
    assert.match(r, /^HTTP\/1\.1 401 Unauthorized\r\n/, `${cred}`);
    assert.match(r, /\r\nWWW-Authenticate: Basic realm="Private area"\r\n/);
  }
  assert.equal(up.requests.length, 0, "no refused request reached the server");
  for (const cred of ["alice:s3cret", "bob:hello world", "carol:a"]) {
    assert.match(await get(p.port, `/ok-${cred.split(":")[0]}`, cred), /^HTTP\/1\.1 200 /, cred);
  }
  assert.equal(up.requests.length, 3);
  assert.match(up.requests[0].head, /\r\nAuthorization: Basic /, "forwarded as received");
});

Deno.test("http_auth_group(L) in an ACL tests the groups; as a sample it is the user; the default realm is the proxy's name", async () => {
  await using up = modelUpstream();
  await using p = await proxyOf([
    ...USERLIST,
    "frontend fe",
    "    mode http",
    "    bind 127.0.0.1:0",
    "    acl admins http_auth_group(L) admin",
    "    http-request deny if { path_beg /admin } !admins",
    "    http-request set-header X-User %[http_auth_group(L)]",
    "    use_backend private if { path_beg /staff }",
    "    default_backend be",
    "backend be",
    "    mode http",
    `    server s1 ${up.address}`,
    "backend private",
    "    mode http",
    "    http-request auth unless { http_auth_group(L) admin ops }",
    `    server s1 ${up.address}`,
  ]);
  assert.match(await get(p.port, "/admin/a", "alice:s3cret"), /^HTTP\/1\.1 403 /);
  assert.match(await get(p.port, "/admin/b", "carol:wrong"), /^HTTP\/1\.1 403 /);
  assert.match(await get(p.port, "/admin/c", "carol:a"), /^HTTP\/1\.1 200 /);
  assert.match(up.requests[0].head, /\r\nX-User: carol(\r|$)/);
  const r = await get(p.port, "/staff/x");
  assert.match(r, /^HTTP\/1\.1 401 /);
  assert.match(r, /\r\nWWW-Authenticate: Basic realm="private"\r\n/, "the backend's name");
  assert.match(await get(p.port, "/staff/y", "bob:hello world"), /^HTTP\/1\.1 200 /);
  assert.match(up.requests[1].head, /\r\nX-User: bob(\r|$)/);
  assert.equal(up.requests.length, 2);
});
