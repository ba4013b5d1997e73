/**
 * Parsing of the listener TLS options (`verify`, `ca-file`, `crl-file`,
 * `ca-ignore-err`, `crt-ignore-err`, `alpn`, `strict-sni`, `crt-list`,
 * refused `curves`), their errors at file:line, and the client certificate
 * check (tls_verify.ts) and CRL reader (tls_crl.ts) on a test PKI.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { crlParse, crlPemBlocks } from "../../lib/conn/tls_crl.ts";
import { tlsVerifyChain, type TlsVerifyPolicy } from "../../lib/conn/tls_verify.ts";
import { SluiceError } from "../../lib/core/errors.ts";
import { makeTestCa } from "../helpers/test_ca.ts";

const pki = makeTestCa();
globalThis.addEventListener("unload", () => pki[Symbol.dispose]());

const cfgOf = (bind: string, extra: string[] = []) =>
  [
    "frontend fe",
    "  mode http",
    `  bind :443 ssl ${bind}`,
    ...extra,
    "  default_backend be",
    "backend be",
    "  mode http",
    "  server s 127.0.0.1:80",
  ].join("\n");

function failsAt(text: string, line: number, re: RegExp): void {
  assert.throws(() => parseConfigText(text, "t.cfg", {}), (e: unknown) => {
    assert.ok(e instanceof SluiceError, String(e));
    const err = (e.errors ?? [e]).find((x) => x.where === `t.cfg:${line}`);
    assert.ok(err !== undefined, e.message);
    assert.match(err.message, re);
    return true;
  });
}

Deno.test("bind ssl: verify, ca-file, crl-file, ignore lists, alpn, strict-sni become API fields", () => {
  const c = parseConfigText(
    cfgOf(
      `crt ${pki.srv.localhost} verify optional ca-file ${pki.ca} crl-file ${pki.crl} ` +
        "ca-ignore-err all crt-ignore-err 10,23 alpn http/1.1,http/1.0 strict-sni",
    ),
    "t.cfg",
    {},
  );
  const t = c.frontends[0].binds[0].tls!;
  assert.equal(t.verify, "optional");
  assert.match(t.ca!, /BEGIN CERTIFICATE/);
  assert.match(t.crl!, /BEGIN X509 CRL/);
  assert.equal(t.caIgnoreErr, "all");
  assert.deepEqual(t.crtIgnoreErr, [10, 23]);
  assert.deepEqual(t.alpn, ["http/1.1", "http/1.0"]);
  assert.equal(t.strictSni, true);
  const r = resolveConfig(c);
  const bind = r.frontends[0].binds[0].tls!.bind!;
  assert.equal(bind.verify?.mode, "optional");
  assert.equal(bind.verify?.crls.length, 1);
  // ca-file without verify: accepted and unused, as in HAProxy (no certificate is asked for).
  const plain = resolveConfig(
    parseConfigText(cfgOf(`crt ${pki.srv.localhost} ca-file ${pki.ca}`), "t.cfg", {}),
  );
  assert.equal(plain.frontends[0].binds[0].tls!.bind, undefined);
});

Deno.test("bind ssl: crt-list lines give certificates with SNI filters", () => {
  const list = `${pki.dir}/ok.list`;
  Deno.writeTextFileSync(
    list,
    `# comment\n\n${pki.srv.localhost} !*\n${pki.srv.wild} *.w.example.com !no.w.example.com\n`,
  );
  const t = parseConfigText(cfgOf(`crt-list ${list}`), "t.cfg", {}).frontends[0].binds[0].tls!;
  assert.deepEqual(t.filters, ["!*"]);
  assert.deepEqual(t.sniCerts?.map((x) => x.filters), [["*.w.example.com", "!no.w.example.com"]]);
});

Deno.test("bind ssl: refused options and bad values, at their line", () => {
  const crt = `crt ${pki.srv.localhost}`;
  failsAt(cfgOf(`${crt} alpn h2,http/1.1`), 3, /h2 is not supported yet .*HTTP\/2/);
  failsAt(cfgOf(`${crt} curves X25519:P-256`), 3, /"curves" cannot be honoured/);
  failsAt(cfgOf(`${crt} verify required`), 3, /"verify required" needs "ca-file FILE"/);
  failsAt(cfgOf(`${crt} verify sometimes ca-file ${pki.ca}`), 3, /verify/);
  failsAt(cfgOf(`${crt} verify optional ca-file ${pki.ca} ca-ignore-err x`), 3, /"all" or error/);
  failsAt(cfgOf(`${crt} no-tls-tickets`), 3, /"no-tls-tickets" cannot be honoured/);
  const list = `${pki.dir}/opts.list`;
  Deno.writeTextFileSync(
    list,
    `${pki.srv.localhost}\n${pki.srv.a} [alpn http/1.1] a.example.com\n`,
  );
  failsAt(cfgOf(`crt-list ${list}`), 3, /opts\.list:2: per-certificate options/);
  Deno.writeTextFileSync(list, `${pki.srv.localhost} bad/name\n`);
  failsAt(cfgOf(`crt-list ${list}`), 3, /opts\.list:1: bad SNI filter "bad\/name"/);
  failsAt(cfgOf("strict-sni"), 3, /"bind \.\.\. strict-sni" needs "ssl"|needs "crt FILE"/);
});

Deno.test("tlsVerifyChain(): OpenSSL's error numbers, ignore lists, CRL revocation", () => {
  const x = (p: string) => new X509Certificate(pki.read(p));
  const ca = x(pki.ca);
  const crls = crlPemBlocks(pki.read(pki.crl)).map((d) => crlParse(d, [ca]));
  assert.equal(crls[0].revoked.size, 1);
  const pol = (o: Partial<TlsVerifyPolicy> = {}): TlsVerifyPolicy => ({
    mode: "required",
    cas: [ca],
    crls: [],
    ...o,
  });
  const now = Date.now();
  assert.deepEqual(tlsVerifyChain(x(pki.client.cert), [], pol(), now), { code: 0, failure: null });
  assert.deepEqual(tlsVerifyChain(x(pki.other.cert), [], pol(), now), {
    code: 20,
    failure: "depth 0: unable to get local issuer certificate",
  });
  assert.equal(tlsVerifyChain(x(pki.other.cert), [], pol({ crtIgnore: "all" }), now).failure, null);
  assert.equal(tlsVerifyChain(x(pki.revoked.cert), [], pol({ crls }), now).code, 23);
  assert.equal(tlsVerifyChain(x(pki.client.cert), [], pol({ crls }), now).code, 0);
  assert.equal(
    tlsVerifyChain(x(pki.client.cert), [], pol(), now + 400 * 86400e3).code,
    10,
    "expired",
  );
  // A CRL list with no list for the client's CA: OpenSSL's "unable to get certificate CRL".
  const other = x(`${pki.dir}/oca.crt`);
  const noCrl = { ...crls[0], issuer: other };
  assert.equal(tlsVerifyChain(x(pki.client.cert), [], pol({ crls: [noCrl] }), now).code, 3);
  assert.throws(() => crlParse(crlPemBlocks(pki.read(pki.crl))[0], [other]), /no certificate/);
});

const haproxy = (() => {
  try {
    return new Deno.Command("haproxy", { args: ["-v"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "examples/tls-edge.cfg: HAProxy 2.6 accepts it too (haproxy -c)",
  ignore: !haproxy,
  fn() {
    const dir = new URL("../../examples/", import.meta.url).pathname;
    const out = new Deno.Command("haproxy", {
      args: ["-c", "-f", "tls-edge.cfg"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /Configuration file is valid/);
  },
});
