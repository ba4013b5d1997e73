/**
 * TLS: a data layer over `node:tls` sockets (the runtime does the record
 * layer, so bytes move through the same socket glue as raw ones) and the
 * handshake layer wrapping an accepted socket as a TLS server. The client
 * side (connections to servers) is in tls_client.ts.
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

/** A certificate chain and key (PEM), and the file they came from when named (runtime API). */
export interface TlsCertPair {
  readonly cert: string;
  readonly key: string;
  /** The `crt` file name, as `show ssl cert` lists it; absent for unnamed API certificates. */
  readonly file?: string;
  /** crt-list SNI filters: names (wildcards too) replacing the certificate's own, `!name` leaving one out. */
  readonly filters?: readonly string[];
}

/**
 * The certificates of one listener: a default and more chosen by the name
 * the client sends (SNI), each by the DNS names it holds (subjectAltName,
 * else the subject's CN), `*.example.com` covering one label. A name
 * several certificates hold goes to the first; no match or no SNI gets the
 * default (HAProxy's first `crt`).
 */
export class TlsCerts {
  #default!: tls.SecureContext;
  #exact = new Map<string, tls.SecureContext>();
  #wild = new Map<string, tls.SecureContext>();
  /** Names (exact or `*.suffix`) left out per context: crt-list `!name` filters. */
  #neg = new Map<tls.SecureContext, string[]>();
  #pairs: readonly TlsCertPair[];
  readonly #versions: TlsVersions;

  /**
   * Checks and loads `pairs` (the first is the default); throws an Error
   * naming the bad one. A pair's `filters` (crt-list SNI filters) replace
   * the names it holds when any is positive; `!name` ones leave names out.
   */
  constructor(pairs: readonly TlsCertPair[], versions: TlsVersions = {}) {
    this.#versions = versions;
    this.#pairs = pairs;
    this.#load(pairs);
  }

  /** The certificate of clients without SNI or with a name no certificate holds. */
  get default(): tls.SecureContext {
    return this.#default;
  }

  /** The certificates, in order (the first is the default). */
  get pairs(): readonly TlsCertPair[] {
    return this.#pairs;
  }

  /**
   * Replaces the certificate and key of every pair loaded from `file` (the
   * runtime API's `commit ssl cert`): handshakes from now on use them,
   * connections already made keep theirs. Throws, changing nothing, when
   * the pair is bad; returns false when no pair has that file.
   */
  replace(file: string, cert: string, key: string): boolean {
    if (!this.#pairs.some((p) => p.file === file)) return false;
    const pairs = this.#pairs.map((p) => p.file === file ? { ...p, cert, key } : p);
    this.#load(pairs);
    this.#pairs = pairs;
    return true;
  }

  /** Builds the contexts and name maps of `pairs`, then swaps them in at once. */
  #load(pairs: readonly TlsCertPair[]): void {
    const ctxs = pairs.map((p, i) => {
      try {
        return tlsServerContext(p.cert, p.key, this.#versions);
      } catch (err) {
        throw new Error(
          pairs.length > 1 ? `certificate ${i + 1}: ${errMsg(err)}` : errMsg(err),
        );
      }
    });
    const exact = new Map<string, tls.SecureContext>();
    const wild = new Map<string, tls.SecureContext>();
    const negs = new Map<tls.SecureContext, string[]>();
    pairs.forEach((p, i) => {
      const f = p.filters ?? [];
      const pos = f.filter((x) => !x.startsWith("!")).map((x) => x.toLowerCase());
      const neg = f.filter((x) => x.startsWith("!")).map((x) => x.slice(1).toLowerCase());
      if (neg.length > 0) negs.set(ctxs[i], neg);
      for (const n of pos.length > 0 ? pos : certNames(p.cert).map((x) => x.toLowerCase())) {
        if (neg.includes(n) || neg.includes("*")) continue;
        const map = n.startsWith("*.") ? wild : exact;
        const k = n.startsWith("*.") ? n.slice(2) : n;
        if (!map.has(k)) map.set(k, ctxs[i]);
      }
    });
    this.#default = ctxs[0];
    this.#exact = exact;
    this.#wild = wild;
    this.#neg = negs;
  }

  /** True when there is more than the default to choose from. */
  get chooses(): boolean {
    return this.#pairs.length > 1;
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
