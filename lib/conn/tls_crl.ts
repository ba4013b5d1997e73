/**
 * Certificate revocation lists (RFC 5280 §5) for `crl-file`: node:crypto
 * has no CRL type and Deno's TLS ignores the `crl` option (measured on Deno
 * 2.9.6), so sluice reads the DER itself: the serial numbers of the revoked
 * certificates, the update dates, and the signature, checked against the
 * key of the CA that issued the list.
 *
 * @module
 */
import { verify as cryptoVerify, type X509Certificate } from "node:crypto";

/** One revocation list, checked and indexed. */
export interface Crl {
  /** The CA certificate whose key signed it. */
  readonly issuer: X509Certificate;
  /** Serial numbers of the revoked certificates (serialKey()). */
  readonly revoked: ReadonlySet<string>;
  /** `thisUpdate` and `nextUpdate` (ms since the epoch; nextUpdate absent: none). */
  readonly thisUpdate: number;
  readonly nextUpdate?: number;
}

/** A DER element: tag, and where its content is in the bytes. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
  /** Offset of the element's first byte (its tag). */
  head: number;
}

/** Reads the element at `pos` of `b` (within `limit`); throws on anything malformed. */
function tlv(b: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error("truncated DER");
  const tag = b[pos];
  if ((tag & 0x1f) === 0x1f) throw new Error("multi-byte DER tags are not expected in a CRL");
  let len = b[pos + 1];
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new Error("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++];
  }
  if (p + len > limit) throw new Error("truncated DER");
  return { tag, start: p, end: p + len, head: pos };
}

/** The children of a constructed element. */
function children(b: Uint8Array, e: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = e.start; p < e.end;) {
    const c = tlv(b, p, e.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

const SEQ = 0x30;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * A serial number as node:crypto's `serialNumber` gives it: uppercase hex
 * without leading zeros (so both sides compare).
 */
export function serialKey(hexText: string): string {
  return hexText.toUpperCase().replace(/^0+(?=.)/, "");
}

/** UTCTime (YYMMDDhhmmssZ) or GeneralizedTime (YYYYMMDDhhmmssZ), as ms since the epoch. */
function derTime(b: Uint8Array, e: Tlv): number {
  const s = new TextDecoder().decode(b.subarray(e.start, e.end));
  const m = e.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : e.tag === 0x18
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : null;
  if (m === null) throw new Error(`bad time "${s}"`);
  let y = Number(m[1]);
  if (e.tag === 0x17) y += y < 50 ? 2000 : 1900;
  return Date.UTC(y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Signature algorithm OIDs (DER content bytes, hex) and the digest each uses. */
const SIG_ALGS: Record<string, string | null> = {
  "2a864886f70d010105": "sha1", // sha1WithRSAEncryption
  "2a864886f70d01010b": "sha256",
  "2a864886f70d01010c": "sha384",
  "2a864886f70d01010d": "sha512",
  "2a8648ce3d040301": "sha1", // ecdsa-with-SHA1
  "2a8648ce3d040302": "sha256",
  "2a8648ce3d040303": "sha384",
  "2a8648ce3d040304": "sha512",
  "2b6570": null, // Ed25519
};

/**
 * Parses one DER CRL and finds its issuer among `cas` by its signature.
 * Throws an Error saying what is wrong (malformed, unknown algorithm, no CA
 * in `cas` signed it).
 */
export function crlParse(der: Uint8Array, cas: readonly X509Certificate[]): Crl {
  const top = tlv(der, 0, der.length);
  if (top.tag !== SEQ) throw new Error("not a DER CertificateList");
  const [tbs, alg, sig] = children(der, top);
  if (tbs?.tag !== SEQ || alg?.tag !== SEQ || sig?.tag !== 0x03) {
    throw new Error("not a DER CertificateList");
  }
  const f = children(der, tbs);
  let i = 0;
  if (f[i]?.tag === 0x02) i++; // version
  i++; // signature AlgorithmIdentifier
  i++; // issuer Name
  const thisUpdate = derTime(der, f[i++]);
  let nextUpdate: number | undefined;
  if (f[i] !== undefined && (f[i].tag === 0x17 || f[i].tag === 0x18)) {
    nextUpdate = derTime(der, f[i++]);
  }
  const revoked = new Set<string>();
  if (f[i]?.tag === SEQ) {
    for (const entry of children(der, f[i])) {
      const serial = children(der, entry)[0];
      if (serial?.tag !== 0x02) throw new Error("bad revoked certificate entry");
      revoked.add(serialKey(hex(der.subarray(serial.start, serial.end))));
    }
  }
  const oid = children(der, alg)[0];
  if (oid?.tag !== 0x06) throw new Error("bad signature algorithm");
  const oidHex = hex(der.subarray(oid.start, oid.end));
  if (!(oidHex in SIG_ALGS)) {
    throw new Error(`unsupported signature algorithm (OID bytes ${oidHex})`);
  }
  // BIT STRING: the first content byte counts the unused bits (0 here).
  const signature = der.subarray(sig.start + 1, sig.end);
  const signed = der.subarray(tbs.head, tbs.end);
  const issuer = cas.find((ca) => {
    try {
      return cryptoVerify(SIG_ALGS[oidHex], signed, ca.publicKey, signature);
    } catch {
      return false;
    }
  });
  if (issuer === undefined) throw new Error("no certificate of the ca-file signed it");
  return { issuer, revoked, thisUpdate, nextUpdate };
}

/** The DER of each `X509 CRL` block of a PEM text. */
export function crlPemBlocks(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(/-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g)) {
    const b64 = m[1].replace(/\s+/g, "");
    const bin = atob(b64);
    const u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    out.push(u);
  }
  return out;
}
