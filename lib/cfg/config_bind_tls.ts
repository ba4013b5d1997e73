/**
 * Resolves the listener TLS options of the API (BindTlsConfig: `verify`,
 * `ca`, `crl`, `caIgnoreErr`/`crtIgnoreErr`, `alpn`, `strictSni`) into
 * what the handshake layer uses (TlsBindOptions): CA certificates parsed,
 * revocation lists parsed and matched to the CA that signed them.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import type { TlsBindOptions } from "../conn/tls_bind.ts";
import { type Crl, crlParse, crlPemBlocks } from "../conn/tls_crl.ts";
import type { TlsIgnoreErr } from "../conn/tls_verify.ts";
import { errMsg } from "../core/errors.ts";
import type { BindTlsConfig } from "./config_types.ts";
import { resolveBool, resolveFail, resolvePem } from "./config_values.ts";

/** ALPN names of HTTP versions sluice does not serve (HTTP/2, HTTP/3, QUIC interop). */
const ALPN_NOT_YET = /^(h2|h2c|h3|h3-\d+|hq-interop)$/;

/** The certificates of a PEM text. */
function pemCerts(at: string, pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) resolveFail(at, "no certificate in the PEM text");
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      return resolveFail(at, `certificate ${i + 1} does not parse (${errMsg(err)})`);
    }
  });
}

function ignoreOf(at: string, v: unknown): TlsIgnoreErr | undefined {
  if (v === undefined) return undefined;
  if (v === "all") return "all";
  if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n) && n > 0 && n < 1000)) {
    resolveFail(at, `expected "all" or a list of X509_V_ERR numbers, got ${JSON.stringify(v)}`);
  }
  return new Set(v as number[]);
}

/** The handshake options of listener TLS `t` (at `at`); throws ERR_CONFIG naming the field. */
export function resolveBindTls(at: string, t: BindTlsConfig): TlsBindOptions {
  const out: {
    verify?: TlsBindOptions["verify"];
    alpn?: string[];
    strictSni?: boolean;
  } = {};
  const verify = t.verify ?? "none";
  if (verify !== "none" && verify !== "optional" && verify !== "required") {
    resolveFail(`${at}.verify`, `expected "none", "optional" or "required", got ${verify}`);
  }
  if (verify !== "none") {
    if (t.ca === undefined) {
      resolveFail(`${at}.ca`, `verify "${verify}" needs the CA certificates (ca-file)`);
    }
    const cas = pemCerts(`${at}.ca`, resolvePem(`${at}.ca`, t.ca));
    const crls: Crl[] = [];
    if (t.crl !== undefined) {
      const ders = crlPemBlocks(resolvePem(`${at}.crl`, t.crl));
      if (ders.length === 0) resolveFail(`${at}.crl`, "no X509 CRL in the PEM text");
      ders.forEach((der, i) => {
        try {
          crls.push(crlParse(der, cas));
        } catch (err) {
          resolveFail(`${at}.crl`, `CRL ${i + 1}: ${errMsg(err)}`);
        }
      });
    }
    out.verify = {
      mode: verify,
      cas,
      crls,
      caIgnore: ignoreOf(`${at}.caIgnoreErr`, t.caIgnoreErr),
      crtIgnore: ignoreOf(`${at}.crtIgnoreErr`, t.crtIgnoreErr),
    };
  }
  // With verify "none", `ca`, `crl` and the ignore lists change nothing, as
  // in HAProxy (no certificate is requested): accepted, unused.
  if (t.alpn !== undefined) {
    if (!Array.isArray(t.alpn) || t.alpn.length === 0) {
      resolveFail(`${at}.alpn`, "expected a list of protocol names");
    }
    for (const p of t.alpn) {
      if (typeof p !== "string" || !/^[\x21-\x7e]{1,255}$/.test(p)) {
        resolveFail(`${at}.alpn`, `bad protocol name ${JSON.stringify(p)}`);
      }
      if (ALPN_NOT_YET.test(p)) {
        resolveFail(
          `${at}.alpn`,
          `"${p}": HTTP/2 and HTTP/3 are not supported yet (sluice serves HTTP/1.x): ` +
            'use "http/1.1"',
        );
      }
    }
    out.alpn = [...t.alpn];
  }
  if (resolveBool(`${at}.strictSni`, t.strictSni, false)) out.strictSni = true;
  return out;
}
