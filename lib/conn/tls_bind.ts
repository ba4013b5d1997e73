/**
 * What a TLS listener adds to the handshake beyond certificates: client
 * certificates (`verify`, checked by tls_verify.ts once the runtime's
 * handshake is done), ALPN, `strict-sni`; and what a connection's
 * handshake left for the `ssl_fc_*` / `ssl_c_*` fetches (TlsInfo).
 *
 * @module
 */
import { createHash, X509Certificate } from "node:crypto";
import type tls from "node:tls";
import { tlsVerifyChain, type TlsVerifyPolicy } from "./tls_verify.ts";

/** The listener options of the handshake (all absent: a plain TLS listener). */
export interface TlsBindOptions {
  /** Client certificates are requested and checked (`verify optional|required`). */
  readonly verify?: TlsVerifyPolicy;
  /** ALPN protocols offered, in order of preference (`alpn`). */
  readonly alpn?: readonly string[];
  /** Refuse clients whose SNI no certificate holds, and clients without SNI (`strict-sni`). */
  readonly strictSni?: boolean;
}

/** The `node:tls` server socket options for `o`. */
export function tlsBindSockOptions(o: TlsBindOptions): tls.TLSSocketOptions {
  const out: tls.TLSSocketOptions = {};
  if (o.verify !== undefined) {
    out.requestCert = true;
    // The runtime fails the handshake (CertificateRequired alert) when no
    // certificate comes; it checks nothing else (tls_verify.ts does).
    out.rejectUnauthorized = o.verify.mode === "required";
  }
  if (o.alpn !== undefined) out.ALPNProtocols = [...o.alpn];
  return out;
}

/** What the handshake of one client connection left: the fetches read it. */
export interface TlsInfo {
  /** The client's certificate, or null. */
  readonly peer: X509Certificate | null;
  /** OpenSSL's X509_V_ERR code of the check (0: fine, or no certificate). */
  readonly verify: number;
  /** `TLSv1.2` or `TLSv1.3`; "" when unknown. */
  readonly protocol: string;
  /** The suite's OpenSSL name (`TLS_AES_256_GCM_SHA384`, `ECDHE-RSA-AES128-GCM-SHA256`). */
  readonly cipher: string;
  /** The ALPN protocol chosen, or "" for none. */
  readonly alpn: string;
  /** The SNI the client sent, or "" for none. */
  readonly sni: string;
}

/** A handshake's facts as plain data, to cross threads (`tls-isolation`). */
export interface TlsFacts {
  protocol: string;
  cipher: string;
  alpn: string;
  sni: string;
  verify: number;
  /** The client certificate (DER), or null. */
  peer: Uint8Array | null;
}

/** The TlsInfo of a local TLS socket: read from it when a fetch asks. */
class SockTlsInfo implements TlsInfo {
  readonly peer: X509Certificate | null;
  readonly verify: number;
  readonly #sock: tls.TLSSocket;

  constructor(sock: tls.TLSSocket, peer: X509Certificate | null, verify: number) {
    this.#sock = sock;
    this.peer = peer;
    this.verify = verify;
  }

  get protocol(): string {
    return this.#sock.getProtocol() ?? "";
  }

  get cipher(): string {
    return this.#sock.getCipher()?.name ?? "";
  }

  get alpn(): string {
    const p = this.#sock.alpnProtocol;
    return typeof p === "string" ? p : "";
  }

  get sni(): string {
    const s = (this.#sock as { servername?: unknown }).servername;
    return typeof s === "string" ? s : "";
  }
}

/** The TlsInfo of a handshake done in another thread; the certificate parsed when asked for. */
class FactsTlsInfo implements TlsInfo {
  readonly protocol: string;
  readonly cipher: string;
  readonly alpn: string;
  readonly sni: string;
  readonly verify: number;
  readonly #der: Uint8Array | null;
  #peer: X509Certificate | null | undefined = undefined;

  constructor(f: TlsFacts) {
    this.protocol = f.protocol;
    this.cipher = f.cipher;
    this.alpn = f.alpn;
    this.sni = f.sni;
    this.verify = f.verify;
    this.#der = f.peer;
  }

  get peer(): X509Certificate | null {
    if (this.#peer === undefined) {
      this.#peer = this.#der === null ? null : new X509Certificate(this.#der);
    }
    return this.#peer;
  }
}

const INFOS = new WeakMap<object, TlsInfo>();

/** The TlsInfo of a connection's socket; null when it is not TLS. */
export function tlsInfoOf(sock: unknown): TlsInfo | null {
  if (sock === null || typeof sock !== "object") return null;
  const known = INFOS.get(sock);
  if (known !== undefined) return known;
  const t = sock as tls.TLSSocket;
  if (typeof t.getProtocol !== "function" || typeof t.getPeerX509Certificate !== "function") {
    return null;
  }
  const info = new SockTlsInfo(t, t.getPeerX509Certificate() ?? null, 0);
  INFOS.set(sock, info);
  return info;
}

/** The facts of a finished handshake on `t`, to hand to another thread. */
export function tlsFactsOf(t: tls.TLSSocket): TlsFacts {
  const i = tlsInfoOf(t)!;
  const peer = i.peer;
  return {
    protocol: i.protocol,
    cipher: i.cipher,
    alpn: i.alpn,
    sni: i.sni,
    verify: i.verify,
    peer: peer === null ? null : new Uint8Array(peer.raw),
  };
}

/** Makes `facts` the TlsInfo of `end` (a connection's in-process peer whose TLS ran elsewhere). */
export function tlsInfoFromFacts(end: object, facts: TlsFacts): void {
  INFOS.set(end, new FactsTlsInfo(facts));
}

/** The certificates the client sent after its own (untrusted intermediates), bounded. */
function sentChain(t: tls.TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c = t.getPeerCertificate(true)?.issuerCertificate;
  const seen = new Set<object>();
  while (c !== undefined && c !== null && !seen.has(c) && out.length < 10 && c.raw) {
    seen.add(c);
    try {
      out.push(new X509Certificate(c.raw));
    } catch {
      break;
    }
    c = c.issuerCertificate;
  }
  return out;
}

/**
 * Runs the listener's checks on a finished handshake; records the socket's
 * TlsInfo. Returns the Error to close the connection with (its `code`
 * makes it a TLS error, its message starts with HAProxy's log text), or
 * null to go on.
 */
export function tlsBindCheck(
  t: tls.TLSSocket,
  o: TlsBindOptions,
  hasName: ((sni: string) => boolean) | null,
): Error | null {
  const fail = (msg: string) => Object.assign(new Error(msg), { code: "ERR_TLS_CERT_VERIFY" });
  if (o.strictSni === true) {
    const sni = (t as { servername?: unknown }).servername;
    // The SNI callback refuses a name no certificate holds during the
    // handshake; a client without SNI is only seen here.
    if (typeof sni !== "string" || sni === "" || (hasName !== null && !hasName(sni))) {
      return fail("SSL handshake failure (strict-sni: no server name a certificate holds)");
    }
  }
  const v = o.verify;
  const peer = t.getPeerX509Certificate() ?? null;
  let code = 0;
  if (v !== undefined && peer !== null) {
    const r = tlsVerifyChain(peer, sentChain(t), v, Date.now());
    code = r.code;
    if (r.failure !== null) {
      // HAProxy's texts (conn_err_code_str): the client's own certificate, or one above it.
      const what = r.failure.startsWith("depth 0:")
        ? "SSL client certificate not trusted"
        : "SSL client CA chain cannot be verified";
      return fail(`${what} (${r.failure})`);
    }
  }
  if (v?.mode === "required" && peer === null) {
    return fail("SSL handshake failure (no client certificate)");
  }
  INFOS.set(t, new SockTlsInfo(t, peer, code));
  return null;
}

/**
 * The log line of a client connection whose TLS handshake failed, as
 * HAProxy's session_kill_embryonic() (`ADDR:PORT FE/LISTENER: TEXT`, the
 * accept date left to the log header): HAProxy's text, the cause after it
 * in parentheses.
 */
export function tlsFailLine(who: string, errMsg: string): string {
  return `${who}: ${errMsg.startsWith("SSL ") ? errMsg : `SSL handshake failure (${errMsg})`}`;
}

/** The SHA-1 of a certificate's DER (`ssl_c_sha1`). */
export function certSha1(x: X509Certificate): Uint8Array {
  return new Uint8Array(createHash("sha1").update(x.raw).digest());
}
