/**
 * TLS: a data layer over Deno's `TlsConn` (the runtime does the record layer,
 * so bytes move exactly as on a raw socket) and the two handshake layers, one
 * for accepted connections and one for connections to servers.
 *
 * The client side connects in plain TCP first and upgrades with
 * `Deno.startTls`, so the address connected to and the name verified (SNI)
 * are independent, like HAProxy's `sni` and `verifyhost`.
 *
 * @module
 */
import { type Connection, connErrCode } from "./connection.ts";
import {
  CO_ER_OTHER,
  CO_ER_TLS,
  CO_FL_CLOSED,
  type DataLayer,
  type HandshakeLayer,
} from "./conn_types.ts";
import { sockClose, sockRcvBuf, sockShutw, sockSndBuf } from "./raw_sock.ts";

/** TLS sockets: the runtime encrypts, this layer moves plaintext. */
export const TLS_SOCK: DataLayer = {
  name: "tls",
  rcvBuf: sockRcvBuf,
  sndBuf: sockSndBuf,
  shutw: sockShutw,
  close: sockClose,
};

function tlsFailed(conn: Connection, err: unknown): void {
  conn.opsPending--;
  const code = connErrCode(err);
  conn.setError(code === CO_ER_OTHER ? CO_ER_TLS : code, err);
}

function tlsDone(conn: Connection): void {
  conn.opsPending--;
  conn.handshakeDone();
}

/** Handshake of a connection accepted by a TLS listener. */
export const TLS_ACCEPT: HandshakeLayer = {
  name: "tls-accept",
  start(conn: Connection): void {
    conn.opsPending++;
    (conn.sock as Deno.TlsConn).handshake().then(
      () => tlsDone(conn),
      (err) => tlsFailed(conn, err),
    );
  },
};

/** Options of the client handshake to a server. */
export interface TlsConnectOptions {
  /** Name sent as SNI and verified against the certificate. */
  serverName: string;
  /** Extra trusted CA certificates (PEM). */
  caCerts?: string[];
  /** Skip the name check (the chain is still verified). */
  noVerifyHost?: boolean;
}

/** Builds the handshake layer for connections to one server. */
export function tlsConnectLayer(opts: TlsConnectOptions): HandshakeLayer {
  const startOpts: Deno.StartTlsOptions = {
    hostname: opts.serverName,
    caCerts: opts.caCerts,
    unsafelyDisableHostnameVerification: opts.noVerifyHost === true,
  };
  return {
    name: "tls-connect",
    start(conn: Connection): void {
      conn.opsPending++;
      Deno.startTls(conn.sock as Deno.TcpConn, startOpts).then((tls) => {
        if (conn.flags & CO_FL_CLOSED) {
          tls.close();
          conn.opsPending--;
          return;
        }
        conn.sock = tls;
        tls.handshake().then(
          () => tlsDone(conn),
          (err) => tlsFailed(conn, err),
        );
      }, (err) => tlsFailed(conn, err));
    },
  };
}
