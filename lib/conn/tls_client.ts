/**
 * TLS towards servers: the client handshake layer of server connections and
 * the `node:tls` options it shares with health checks (`check-ssl` uses the
 * server's settings), plus the words of a failed handshake for logs.
 *
 * The L4 connect and the handshake are separate steps, so the address
 * connected to and the name verified (SNI) are independent, like HAProxy's
 * `sni` and `verifyhost`.
 *
 * Measured on Deno 2.9.6 (node:tls client over rustls): `cert`/`key` (a
 * client certificate), `ALPNProtocols`, `ca`, `minVersion`/`maxVersion` are
 * honoured; `session` is ignored (no handshake is ever resumed, against
 * node:tls or `openssl s_server` alike: every connection does a full
 * handshake), `crl` is parsed but never consulted, `ciphers` is ignored.
 *
 * @module
 */
import tls from "node:tls";
import type { Connection } from "./connection.ts";
import type { HandshakeLayer } from "./conn_types.ts";
import type { TlsVersions } from "./tls_sock.ts";

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
  /** The name checked when no SNI is sent (HAProxy's `verifyhost`). */
  verifyName?: string;
  /**
   * Client certificate chain and key (PEM) shown when the server asks
   * (HAProxy's `crt`); read at each connection.
   */
  clientCert?: { readonly cert: string; readonly key: string };
  /** Protocols offered with ALPN, in order of preference (HAProxy's `alpn`). */
  alpn?: readonly string[];
}

/** SNI carries names only, never IP literals (RFC 6066). */
function sniOf(name: string): string | undefined {
  return name === "" || /^[0-9.]+$|:/.test(name) ? undefined : name;
}

/** A DNS host name (what may be sent as SNI), at most 253 characters. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/**
 * The name a connection sends for an `sni EXPR` value: the value when it
 * is a host name, else "" (no SNI, names not checked), as a value that is
 * no name cannot be sent.
 */
export function tlsNameOf(value: string | null): string {
  return value !== null && HOST_NAME.test(value) && !/^[0-9.]+$/.test(value) ? value : "";
}

/**
 * The `tls.connect()` options (without the socket) for `opts`; `name`
 * replaces `opts.serverName` (a check without a name uses its address).
 */
export function tlsClientOptions(
  opts: TlsConnectOptions,
  name: string = opts.serverName,
): tls.ConnectionOptions {
  // The name checked: the one sent, else `verifyhost`'s (as HAProxy), else
  // the address's; none when name checks are off.
  const sent = sniOf(name) !== undefined;
  const target = opts.noVerifyHost ? "" : sent ? name : opts.verifyName ?? name;
  const o: tls.ConnectionOptions = {
    servername: sniOf(name),
    host: name || undefined,
    ca: opts.caCerts,
    minVersion: opts.minVersion,
    maxVersion: opts.maxVersion,
    rejectUnauthorized: opts.noVerify !== true,
    checkServerIdentity: opts.noVerify || target === ""
      ? () => undefined
      : (_host, cert) => tls.checkServerIdentity(target, cert),
  };
  if (opts.clientCert !== undefined) {
    o.cert = opts.clientCert.cert;
    o.key = opts.clientCert.key;
  }
  if (opts.alpn !== undefined) o.ALPNProtocols = [...opts.alpn];
  return o;
}

/**
 * The words of a failed TLS handshake, as HAProxy's "SSL handshake failure"
 * followed by the runtime's reason ("certificate has expired",
 * "self-signed certificate in certificate chain", "Hostname/IP does not
 * match certificate's altnames: ...").
 */
export function tlsFailText(reason: string): string {
  return reason === "" ? "SSL handshake failure" : `SSL handshake failure: ${reason}`;
}

/**
 * Builds the handshake layer for connections to one server. A connection
 * with a `tlsName` (per-request SNI) sends and verifies that name instead.
 */
export function tlsConnectLayer(opts: TlsConnectOptions): HandshakeLayer {
  const base = tlsClientOptions(opts);
  return {
    name: "tls-connect",
    start(conn: Connection): void {
      const o = conn.tlsName === null ? base : tlsClientOptions(opts, conn.tlsName);
      // The client certificate is read at each connection: the runtime API
      // may have replaced it (`commit ssl cert`).
      const cc = opts.clientCert;
      const t = tls.connect(
        cc === undefined
          ? { ...o, socket: conn.sock! }
          : { ...o, cert: cc.cert, key: cc.key, socket: conn.sock! },
      );
      t.once("secureConnect", () => conn.handshakeDone(t));
      t.on("error", (err) => conn.sockError(err));
    },
  };
}
