/**
 * `server ... ssl` options of cfg_server_tls.ts: `crt`, `alpn`,
 * `no-ssl-reuse`, `ca-file @system-ca`, the refused `crl-file`, and the
 * trust settled against `ssl-server-verify` (a verifying server needs a CA
 * file, as HAProxy says when it loads). Errors name `file:line`.
 */
import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { SluiceError } from "../../lib/core/errors.ts";
import type { ServerConfig, SluiceConfig } from "../../lib/cfg/config_types.ts";
import { fixture } from "../helpers/net.ts";
import { withTempDirSync } from "../helpers/temp_dir.ts";

/** A configuration with `global` lines, then backend "be" (mode `mode`) holding `server`. */
function text(server: string, opts: { global?: string[]; mode?: string } = {}): string {
  return [
    "global",
    ...(opts.global ?? []).map((l) => `  ${l}`),
    "frontend fe",
    `  mode ${opts.mode ?? "tcp"}`,
    "  bind :80",
    "  default_backend be",
    "backend be",
    `  mode ${opts.mode ?? "tcp"}`,
    `  ${server}`,
  ].join("\n") + "\n";
}

/** The server line's line number in text(). */
function serverLine(global: string[] = []): number {
  return 8 + global.length;
}

function parse(server: string, opts: { global?: string[]; mode?: string } = {}): SluiceConfig {
  return parseConfigText(text(server, opts), "t.cfg", {});
}

function server(line: string, opts: { global?: string[]; mode?: string } = {}): ServerConfig {
  return parse(line, opts).backends[0].servers[0];
}

/** Asserts that parsing `line` fails at the server line with `re`. */
function rejects(line: string, re: RegExp, opts: { global?: string[]; mode?: string } = {}): void {
  const where = `t.cfg:${serverLine(opts.global)}`;
  assert.throws(() => parse(line, opts), (e: unknown) => {
    assert.ok(e instanceof SluiceError, String(e));
    const err = (e.errors ?? [e]).find((x) => x.where === where);
    assert.ok(err !== undefined, `an error at ${where}: ${e.message}`);
    assert.match(err.message, re);
    return true;
  });
}

const CA = fixture("ca.crt");

Deno.test("server ssl: verify required by default needs a CA file, as HAProxy", () => {
  rejects("server s 127.0.0.1:443 ssl", /verify is enabled by default but no CA file specified/);
  rejects(
    "server s 127.0.0.1:443 ssl verify required",
    /verify is enabled but no CA file specified/,
  );
  assert.equal(server("server s 127.0.0.1:443 ssl verify none").tls?.verify, "none");
  // ssl-server-verify none: servers without verify do not verify.
  const g = { global: ["ssl-server-verify none"] };
  assert.equal(server("server s 127.0.0.1:443 ssl", g).tls?.verify, "none");
  rejects("server s 127.0.0.1:443 ssl verify required", /no CA file specified/, g);
  // @system-ca: the runtime's roots (no ca in the API config).
  const sys = server("server s 127.0.0.1:443 ssl ca-file @system-ca sni str(a.example)");
  assert.deepEqual(sys.tls, { verify: "required", sni: "a.example" });
  assert.throws(
    () => parse("server s 127.0.0.1:443 ssl", { global: ["ssl-server-verify maybe"] }),
    /t\.cfg:2: .*"maybe"/,
  );
});

Deno.test("server ssl ca-file without sni: the chain is verified, not the names", () => {
  withTempDirSync((dir) => {
    Deno.writeTextFileSync(`${dir}/ca.pem`, CA);
    const s = server(`server s 127.0.0.1:443 ssl ca-file ${dir}/ca.pem`);
    assert.equal(s.tls?.verifyHost, false);
    const n = server(`server s 127.0.0.1:443 ssl ca-file ${dir}/ca.pem sni str(a.example)`);
    assert.equal(n.tls?.verifyHost, undefined);
  });
});

Deno.test("server crt: certificate and key from one file (or FILE.key); bad files refused", () => {
  withTempDirSync((dir) => {
    const cert = fixture("server.crt"), key = fixture("server.key");
    Deno.writeTextFileSync(`${dir}/both.pem`, cert + key);
    Deno.writeTextFileSync(`${dir}/split.pem`, cert);
    Deno.writeTextFileSync(`${dir}/split.pem.key`, key);
    Deno.writeTextFileSync(`${dir}/nokey.pem`, cert);
    for (const f of ["both.pem", "split.pem"]) {
      const s = server(`server s 127.0.0.1:443 ssl verify none crt ${dir}/${f}`);
      assert.equal(s.tls?.cert?.trim(), cert.trim());
      assert.equal(s.tls?.key?.trim(), key.trim());
      // resolveConfig() checks the key belongs to the certificate.
      resolveConfig(parse(`server s 127.0.0.1:443 ssl verify none crt ${dir}/${f}`));
    }
    rejects(`server s 127.0.0.1:443 ssl verify none crt ${dir}/nokey.pem`, /no private key/);
    rejects(`server s 127.0.0.1:443 crt ${dir}/both.pem`, /"crt" on server needs "ssl"/);
    // A key of another certificate.
    Deno.writeTextFileSync(`${dir}/mixed.pem`, fixture("sni_a.crt") + key);
    const mixed = parse(`server s 127.0.0.1:443 ssl verify none crt ${dir}/mixed.pem`);
    assert.throws(() => resolveConfig(mixed), /the private key does not match the certificate/);
  });
});

Deno.test("server alpn: a list of names; in mode http only HTTP/1.x", () => {
  const s = server("server s 127.0.0.1:443 ssl verify none alpn h2,http/1.1");
  assert.deepEqual(s.tls?.alpn, ["h2", "http/1.1"]);
  rejects("server s 127.0.0.1:443 ssl verify none alpn h2,,x", /expected protocol names/);
  rejects("server s 127.0.0.1:443 alpn h2", /"alpn" on server needs "ssl"/);
  const http = { mode: "http" };
  assert.deepEqual(
    server("server s 127.0.0.1:443 ssl verify none alpn http/1.1", http).tls?.alpn,
    ["http/1.1"],
  );
  assert.throws(
    () => resolveConfig(parse("server s 127.0.0.1:443 ssl verify none alpn h2,http/1.1", http)),
    /servers\[0\]\.tls\.alpn: "h2" cannot be offered in mode http/,
  );
});

Deno.test("server no-ssl-reuse loads (sluice never resumes); crl-file is refused with the reason", () => {
  assert.ok(server("server s 127.0.0.1:443 ssl verify none no-ssl-reuse").tls);
  withTempDirSync((dir) => {
    Deno.writeTextFileSync(`${dir}/ca.crl`, "-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n");
    rejects(
      `server s 127.0.0.1:443 ssl verify none crl-file ${dir}/ca.crl`,
      /"crl-file" cannot be honoured on servers: .* never consults it/,
    );
  });
});

Deno.test("server sni: str(NAME) is fixed, another expression is evaluated per request (mode http)", () => {
  const http = { mode: "http" };
  const s = server("server s 127.0.0.1:443 ssl verify none sni req.hdr(host),field(1,:)", http);
  assert.deepEqual(s.tls, { verify: "none", sniExpr: "req.hdr(host),field(1,:)" });
  resolveConfig(parse("server s 127.0.0.1:443 ssl verify none sni req.hdr(host)", http));
  assert.equal(server("server s 127.0.0.1:443 ssl verify none sni str(a.test)").tls?.sni, "a.test");
  assert.throws(
    () => resolveConfig(parse("server s 127.0.0.1:443 ssl verify none sni req.hdr(host)")),
    /tls\.sniExpr: a sample expression as sni needs mode http/,
  );
  rejects(
    "server s 127.0.0.1:443 ssl verify none sni bogus(1)",
    /invalid value "bogus\(1\)" for "server sni": unknown fetch "bogus"/,
    http,
  );
  assert.throws(
    () => resolveConfig(parse("server s 127.0.0.1:443 ssl verify none sni res.hdr(x)", http)),
    /tls\.sniExpr: "res\.hdr\(x\)" is not known when connecting for a request/,
  );
});

Deno.test("server verifyhost and check-sni", () => {
  const s = server(
    "server s 127.0.0.1:443 ssl verify none verifyhost a.test check check-sni b.test",
  );
  assert.equal(s.tls?.verifyHostName, "a.test");
  assert.equal(s.check?.sni, "b.test");
  rejects("server s 127.0.0.1:443 verifyhost a.test", /"verifyhost" on server needs "ssl"/);
  rejects("server s 127.0.0.1:443 check-sni a.test", /"check-sni" on server needs "check"/);
  const r = resolveConfig(
    parse("server s 127.0.0.1:443 ssl verify none verifyhost a.test check check-sni b.test"),
  );
  const chk = r.backends[0].servers[0].check!;
  assert.equal(chk.tls?.sni, "b.test");
  assert.equal(chk.tls?.verifyName, "a.test");
});
