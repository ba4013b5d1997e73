/**
 * TLS: a data layer over `node:tls` sockets (the runtime does the record
 * layer, so bytes move through the same socket glue as raw ones) and the two
 * handshake layers: one wrapping an accepted socket as a TLS server, one
 * wrapping a connected socket as a TLS client. The L4 connect and the
 * handshake are separate steps, so the address connected to and the name
 * verified (SNI) are independent, like HAProxy's `sni` and `verifyhost`.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import tls from "node:tls";
import { errMsg } from "../core/errors.ts";
import type { Connection } from "./connection.ts";
import type { DataLayer, HandshakeLayer } from "./conn_types.ts";
import { tlsBindCheck, type TlsBindOptions, tlsBindSockOptions } from "./tls_bind.ts";
import {
  sockAttach,
  sockClose,
  sockConnect,
  sockRcvBuf,
  sockRcvStop,
  sockShutw,
  sockSndBuf,
} from "./sock.ts";

/** TLS sockets: the runtime encrypts, this layer moves plaintext. */
export const TLS_SOCK: DataLayer = {
  name: "tls",
  attach: sockAttach,
  connect: sockConnect,
  rcvBuf: sockRcvBuf,
  rcvStop: sockRcvStop,
  sndBuf: sockSndBuf,
  shutw: sockShutw,
  close: sockClose,
};

/**
 * TLS protocol versions sluice's TLS can speak. Deno's node:tls is rustls,
 * which has TLS 1.2 and 1.3 only (no SSLv3, TLS 1.0 or 1.1), and honours
 * `minVersion`/`maxVersion` (measured on Deno 2.9.6, both sides). It
 * ignores `ciphers` and `secureOptions` (so no cipher choice and no
 * `SSL_OP_NO_TICKET`: TLS 1.2 session tickets are always issued).
 */
export type TlsVersion = "TLSv1.2" | "TLSv1.3";

/** The protocol versions a listener or a server connection accepts (both ends included). */
export interface TlsVersions {
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
}

/**
 * Makes the TLS context of a listener, checking now that the certificate
 * parses and the key belongs to it (the TLS stack would only find out at the
 * first handshake). Throws an Error saying what is wrong.
 */
export function tlsServerContext(
  cert: string,
  key: string,
  versions: TlsVersions = {},
): tls.SecureContext {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`the certificate does not parse (${errMsg(err)})`);
  }
  let pk;
  try {
    pk = createPrivateKey(key);
  } catch (err) {
    throw new Error(`the private key does not parse (${errMsg(err)})`);
  }
  if (!x509.checkPrivateKey(pk)) {
    throw new Error("the private key does not match the certificate");
  }
  return tls.createSecureContext({
    cert,
    key,
    minVersion: versions.minVersion,
    maxVersion: versions.maxVersion,
  });
}

/**
 * The certificates of one listener: a default and more chosen by the name
 * the client sends (SNI), each by the DNS names it holds (subjectAltName,
 * else the subject's CN), `*.example.com` covering one label. A name
 * several certificates hold goes to the first; no match or no SNI gets the
 * default (HAProxy's first `crt`).
 */
export class TlsCerts {
  readonly default: tls.SecureContext;
  readonly #exact = new Map<string, tls.SecureContext>();
  readonly #wild = new Map<string, tls.SecureContext>();
  /** Names (exact or `*.suffix`) left out per context: crt-list `!name` filters. */
  readonly #neg = new Map<tls.SecureContext, string[]>();
  readonly #count: number;

  /**
   * Checks and loads `pairs` (the first is the default); throws an Error
   * naming the bad one. A pair's `filters` (crt-list SNI filters) replace
   * the names it holds when any is positive; `!name` ones leave names out.
   */
  constructor(
    pairs: readonly { cert: string; key: string; filters?: readonly string[] }[],
    versions: TlsVersions = {},
  ) {
    const ctxs = pairs.map((p, i) => {
      try {
        return tlsServerContext(p.cert, p.key, versions);
      } catch (err) {
        throw new Error(
          pairs.length > 1 ? `certificate ${i + 1}: ${errMsg(err)}` : errMsg(err),
        );
      }
    });
    this.default = ctxs[0];
    this.#count = pairs.length;
    pairs.forEach((p, i) => {
      const f = p.filters ?? [];
      const pos = f.filter((x) => !x.startsWith("!")).map((x) => x.toLowerCase());
      const neg = f.filter((x) => x.startsWith("!")).map((x) => x.slice(1).toLowerCase());
      if (neg.length > 0) this.#neg.set(ctxs[i], neg);
      for (const n of pos.length > 0 ? pos : certNames(p.cert).map((x) => x.toLowerCase())) {
        if (neg.includes(n) || neg.includes("*")) continue;
        const map = n.startsWith("*.") ? this.#wild : this.#exact;
        const k = n.startsWith("*.") ? n.slice(2) : n;
        if (!map.has(k)) map.set(k, ctxs[i]);
      }
    });
  }

  /** True when there is more than the default to choose from. */
  get chooses(): boolean {
    return this.#count > 1;
  }

  /** The context for SNI `name`. */
  pick(name: string): tls.SecureContext {
    return this.find(name) ?? this.default;
  }

  /** The context of the certificate holding SNI `name`, or undefined when none does. */
  find(name: string): tls.SecureContext | undefined {
    const n = name.toLowerCase();
    const exact = this.#exact.get(n);
    if (exact !== undefined) return exact;
    const dot = n.indexOf(".");
    const wild = dot > 0 ? this.#wild.get(n.slice(dot + 1)) : undefined;
    // A wildcard entry does not cover a name its line excludes (`!name`).
    if (wild !== undefined && this.#neg.get(wild)?.includes(n)) return undefined;
    return wild;
  }
}

/** The DNS names a certificate is for: its subjectAltName DNS entries, else its CN. */
function certNames(pem: string): string[] {
  const x = new X509Certificate(pem);
  const san = x.subjectAltName;
  if (san) {
    const dns = san.split(/,\s*/).filter((e) => e.startsWith("DNS:")).map((e) => e.slice(4));
    if (dns.length > 0) return dns;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  return cn === undefined ? [] : [cn];
}

/** Builds the handshake layer of a TLS listener with its certificates and options (tls_bind.ts). */
export function tlsAcceptLayer(certs: TlsCerts, bind: TlsBindOptions = {}): HandshakeLayer {
  const strict = bind.strictSni === true;
  const sni = certs.chooses || strict
    ? (name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
      const ctx = strict ? certs.find(name) : certs.pick(name);
      if (ctx === undefined) cb(new Error(`strict-sni: no certificate for "${name}"`));
      else cb(null, ctx);
    }
    : undefined;
  const hasName = strict ? (name: string) => certs.find(name) !== undefined : null;
  const sockOpts = tlsBindSockOptions(bind);
  return {
    name: "tls-accept",
    start(conn: Connection): void {
      const raw = conn.sock!;
      const t = new tls.TLSSocket(raw, {
        isServer: true,
        secureContext: certs.default,
        SNICallback: sni,
        ...sockOpts,
      });
      t.once("secure", () => {
        const err = tlsBindCheck(t, bind, hasName);
        if (err === null) return conn.handshakeDone(t);
        t.destroy();
        conn.sockError(err);
      });
      t.on("error", (err) => conn.sockError(err));
      raw.resume();
    },
  };
}

/** Options of the client handshake to a server. */
export interface TlsConnectOptions extends TlsVersions {
  /** Name sent as SNI and verified against the certificate. */
  serverName: string;
  /**
   * Trusted CA certificates (PEM). When given only these are trusted, like
   * HAProxy's `ca-file`; otherwise the runtime's default roots are.
   */
  caCerts?: string[];
  /** Skip the name check (the chain is still verified). */
  noVerifyHost?: boolean;
  /** Skip every check (HAProxy's `verify none`). */
  noVerify?: boolean;
}

/** Builds the handshake layer for connections to one server. */
export function tlsConnectLayer(opts: TlsConnectOptions): HandshakeLayer {
  const ca = opts.caCerts;
  const servername = /^[0-9.]+$|:/.test(opts.serverName) ? undefined : opts.serverName;
  return {
    name: "tls-connect",
    start(conn: Connection): void {
      const t = tls.connect({
        socket: conn.sock!,
        servername,
        host: opts.serverName,
        ca,
        minVersion: opts.minVersion,
        maxVersion: opts.maxVersion,
        rejectUnauthorized: opts.noVerify !== true,
        checkServerIdentity: opts.noVerifyHost || opts.noVerify
          ? () => undefined
          : (host, cert) => tls.checkServerIdentity(opts.serverName || host, cert),
      });
      t.once("secureConnect", () => conn.handshakeDone(t));
      t.on("error", (err) => conn.sockError(err));
    },
  };
}
