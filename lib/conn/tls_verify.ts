/**
 * Client certificate verification for `bind ... verify optional|required`.
 * Deno 2.9.6's node:tls requests and receives the client's certificate
 * (`requestCert`) but does not check it against `ca` nor `crl` (a
 * certificate from another CA comes through with `authorized` false and no
 * `authorizationError`), so sluice checks the chain itself once the
 * handshake is done, as OpenSSL would for HAProxy: validity dates, issuer
 * names and signatures up to a certificate of the `ca-file`, revocation
 * against the `crl-file` lists. Errors carry OpenSSL's X509_V_ERR numbers,
 * which `ssl_c_verify`, `ca-ignore-err` and `crt-ignore-err` use.
 *
 * @module
 */
import type { X509Certificate } from "node:crypto";
import { type Crl, serialKey } from "./tls_crl.ts";

/** OpenSSL's X509_V_ERR codes sluice's check can report, and their texts. */
export const X509_V_ERR: Readonly<Record<number, string>> = {
  3: "unable to get certificate CRL",
  7: "certificate signature failure",
  9: "certificate is not yet valid",
  10: "certificate has expired",
  12: "CRL has expired",
  18: "self-signed certificate",
  19: "self-signed certificate in certificate chain",
  20: "unable to get local issuer certificate",
  22: "certificate chain too long",
  23: "certificate revoked",
};

/** Errors ignored at one depth: all, or these X509_V_ERR codes. */
export type TlsIgnoreErr = "all" | ReadonlySet<number>;

/** What a listener checks client certificates against. */
export interface TlsVerifyPolicy {
  /** `required`: no certificate fails the handshake; `optional`: it passes. */
  readonly mode: "optional" | "required";
  /** The trusted certificates (`ca-file`). */
  readonly cas: readonly X509Certificate[];
  /** Revocation lists (`crl-file`); when any is given every certificate of a chain needs its issuer's. */
  readonly crls: readonly Crl[];
  /** `ca-ignore-err`: errors at depth > 0 that do not fail the handshake. */
  readonly caIgnore?: TlsIgnoreErr;
  /** `crt-ignore-err`: the same at depth 0 (the client's certificate). */
  readonly crtIgnore?: TlsIgnoreErr;
}

/** The outcome of a check: the last error seen (0: none) and whether it fails the handshake. */
export interface TlsVerifyResult {
  /** X509_V_ERR code of the last error, ignored or not (`ssl_c_verify`); 0 when none. */
  code: number;
  /** The first error that is not ignored, as `depth D: text`, or null: accepted. */
  failure: string | null;
}

/** Longest chain walked (OpenSSL's default verify depth is 100; clients send a few). */
const MAX_DEPTH = 10;

/** True when `ca` issued `cert` (names and key identifiers) and its key verifies the signature. */
function issued(cert: X509Certificate, ca: X509Certificate): boolean {
  try {
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/**
 * Checks the client's certificate `leaf` (with the intermediates it sent,
 * untrusted) against `policy` at time `now` (ms since the epoch).
 */
export function tlsVerifyChain(
  leaf: X509Certificate,
  sent: readonly X509Certificate[],
  policy: TlsVerifyPolicy,
  now: number,
): TlsVerifyResult {
  const res: TlsVerifyResult = { code: 0, failure: null };
  const error = (depth: number, code: number): boolean => {
    res.code = code;
    const ign = depth === 0 ? policy.crtIgnore : policy.caIgnore;
    if (ign === "all" || ign?.has(code)) return false;
    res.failure = `depth ${depth}: ${X509_V_ERR[code]}`;
    return true;
  };
  let cur = leaf;
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    if (depth === MAX_DEPTH) {
      error(depth, 22);
      return res;
    }
    const from = Date.parse(cur.validFrom), to = Date.parse(cur.validTo);
    if (now < from && error(depth, 9)) return res;
    if (now > to && error(depth, 10)) return res;
    const trusted = policy.cas.find((ca) => ca.fingerprint256 === cur.fingerprint256);
    const issuer = trusted !== undefined && issued(cur, cur)
      ? cur
      : policy.cas.find((ca) => issued(cur, ca)) ?? sent.find((c) => c !== cur && issued(cur, c));
    if (policy.crls.length > 0 && issuer !== undefined) {
      const crl = policy.crls.find((c) => c.issuer.fingerprint256 === issuer.fingerprint256);
      if (crl === undefined) {
        if (error(depth, 3)) return res;
      } else {
        if (crl.nextUpdate !== undefined && now > crl.nextUpdate && error(depth, 12)) return res;
        if (crl.revoked.has(serialKey(cur.serialNumber)) && error(depth, 23)) return res;
      }
    }
    if (trusted !== undefined) return res;
    if (issuer === undefined) {
      const self = cur.checkIssued(cur);
      error(depth, self ? (depth === 0 ? 18 : 19) : 20);
      return res;
    }
    if (issuer === cur) return res;
    cur = issuer;
  }
  return res;
}
