/**
 * Sample fetches on the TLS handshake of the client connection (HAProxy's
 * ssl_fc_* and ssl_c_*): protocol, cipher, ALPN, and the client
 * certificate with the result of its check (tls_bind.ts). Values come from
 * the connection's TlsInfo (`tlsInfoOf(ctx.tlsSock)`); text samples are written into a
 * scratch buffer so matchers see bytes.
 *
 * @module
 */
import type { X509Certificate } from "node:crypto";
import { certSha1, type TlsInfo, tlsInfoOf } from "../conn/tls_bind.ts";
import {
  type AclCtx,
  type AclFetch,
  type AclSampleSink,
  SMP_T_BIN,
  SMP_T_BOOL,
  SMP_T_INT,
  SMP_T_STR,
} from "./acl_types.ts";

/** Scratch bytes for text samples, grown on demand. */
let STR = new Uint8Array(256);

function matchText(m: AclSampleSink, s: string): boolean {
  const n = s.length;
  if (n > STR.length) STR = new Uint8Array(Math.max(n, STR.length * 2));
  for (let i = 0; i < n; i++) STR[i] = s.charCodeAt(i) & 0xff;
  return m.matchBytes(STR, 0, n);
}

/** A DN as HAProxy prints it by default: `/C=FR/O=Acme/CN=alice`. */
export function dnText(dn: string): string {
  return dn === "" ? "" : "/" + dn.split("\n").join("/");
}

/** An X.509 time as HAProxy gives it: the ASN.1 text, `YYMMDDhhmmssZ` before 2050. */
export function asn1Time(t: string): string {
  const d = new Date(Date.parse(t));
  const p = (n: number) => String(n).padStart(2, "0");
  const y = d.getUTCFullYear();
  const year = y >= 1950 && y < 2050 ? p(y % 100) : String(y);
  return year + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) +
    p(d.getUTCMinutes()) + p(d.getUTCSeconds()) + "Z";
}

/** A serial number (hex text) as its bytes. */
function serialBytes(hex: string): Uint8Array {
  const h = hex.length % 2 ? "0" + hex : hex;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

type Kind =
  | "protocol"
  | "cipher"
  | "alpn"
  | "sni"
  | "s_dn"
  | "i_dn"
  | "notafter"
  | "notbefore";

/** A text sample of the handshake or of the client's certificate. */
class FetchSslText implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string, readonly kind: Kind) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const t = tlsInfoOf(ctx.tlsSock);
    if (t === null) return false;
    const v = textOf(t, this.kind);
    return v !== "" && matchText(m, v);
  }
}

function textOf(t: TlsInfo, kind: Kind): string {
  const c = t.peer;
  switch (kind) {
    case "protocol":
      return t.protocol;
    case "cipher":
      return t.cipher;
    case "alpn":
      return t.alpn;
    case "sni":
      return t.sni;
    case "s_dn":
      return c === null ? "" : dnText(c.subject);
    case "i_dn":
      return c === null ? "" : dnText(c.issuer);
    case "notafter":
      return c === null ? "" : asn1Time(c.validTo);
    case "notbefore":
      return c === null ? "" : asn1Time(c.validFrom);
  }
}

/** A binary sample of the client's certificate. */
class FetchSslBin implements AclFetch {
  readonly type = SMP_T_BIN;
  constructor(readonly kw: string, readonly of: (c: X509Certificate) => Uint8Array) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const c = tlsInfoOf(ctx.tlsSock)?.peer;
    if (c == null) return false;
    const b = this.of(c);
    return m.matchBytes(b, 0, b.length);
  }
}

/** `ssl_c_used`: a client certificate was sent; `ssl_c_verify`: its check's X509_V_ERR code. */
class FetchSslInt implements AclFetch {
  constructor(readonly kw: string, readonly type: number, readonly verify: boolean) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const t = tlsInfoOf(ctx.tlsSock);
    if (t === null) return false;
    return m.matchInt(this.verify ? t.verify : t.peer !== null ? 1 : 0);
  }
}

/** `ssl_fc_protocol`, `ssl_fc_cipher`, `ssl_fc_alpn`, `ssl_c_s_dn`, … (text). */
export function fetchSslTextNew(kind: Kind): (word: string) => AclFetch {
  return (word) => new FetchSslText(word, kind);
}

/** `ssl_c_der`: the client certificate, DER. */
export function fetchSslCDerNew(word: string): AclFetch {
  return new FetchSslBin(word, (c) => new Uint8Array(c.raw));
}

/** `ssl_c_serial`: the client certificate's serial number, bytes. */
export function fetchSslCSerialNew(word: string): AclFetch {
  return new FetchSslBin(word, (c) => serialBytes(c.serialNumber));
}

/** `ssl_c_sha1`: SHA-1 of the client certificate's DER. */
export function fetchSslCSha1New(word: string): AclFetch {
  return new FetchSslBin(word, certSha1);
}

/** `ssl_c_used`. */
export function fetchSslCUsedNew(word: string): AclFetch {
  return new FetchSslInt(word, SMP_T_BOOL, false);
}

/** `ssl_c_verify`. */
export function fetchSslCVerifyNew(word: string): AclFetch {
  return new FetchSslInt(word, SMP_T_INT, true);
}
