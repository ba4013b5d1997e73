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
import type { Connection } from "./connection.ts";
import type { DataLayer, HandshakeLayer } from "./conn_types.ts";
import { sockAttach, sockClose, sockRcvBuf, sockRcvStop, sockShutw, sockSndBuf } from "./sock.ts";

/** TLS sockets: the runtime encrypts, this layer moves plaintext. */
export const TLS_SOCK: DataLayer = {
  name: "tls",
  attach: sockAttach,
  rcvBuf: sockRcvBuf,
  rcvStop: sockRcvStop,
  sndBuf: sockSndBuf,
  shutw: sockShutw,
  close: sockClose,
};

/**
 * Makes the TLS context of a listener, checking now that the certificate
 * parses and the key belongs to it (the TLS stack would only find out at the
 * first handshake). Throws an Error saying what is wrong.
 */
export function tlsServerContext(cert: string, key: string): tls.SecureContext {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`the certificate does not parse (${(err as Error).message})`);
  }
  let pk;
  try {
    pk = createPrivateKey(key);
  } catch (err) {
    throw new Error(`the private key does not parse (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(pk)) {
    throw new Error("the private key does not match the certificate");
  }
  return tls.createSecureContext({ cert, key });
}

/** Builds the handshake layer of a TLS listener with its certificate. */
export function tlsAcceptLayer(ctx: tls.SecureContext): HandshakeLayer {
  return {
    name: "tls-accept",
    start(conn: Connection): void {
      const raw = conn.sock!;
      const t = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
      t.once("secure", () => conn.handshakeDone(t));
      t.on("error", (err) => conn.sockError(err));
      raw.resume();
    },
  };
}

/** Options of the client handshake to a server. */
export interface TlsConnectOptions {
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
