/**
 * Connection flags (CO_FL_*), error codes (CO_ER_*) and the two layer
 * interfaces a connection is made of: the data layer that moves bytes and the
 * handshake layer that must complete before it may.
 *
 * @module
 */
import type { FlagTable } from "../core/flags.ts";
import type { Buf } from "../buf/buffer.ts";
import type { Address } from "../core/addr_types.ts";
import type { Connection } from "./connection.ts";

/** Transport (and handshake, if any) established: data may flow. */
export const CO_FL_CONNECTED = 1 << 0;
/** The L4 connect is in progress. */
export const CO_FL_WAIT_L4_CONN = 1 << 1;
/** A handshake layer (TLS) is pending; data I/O waits for it. */
export const CO_FL_HANDSHAKE = 1 << 2;
/** A fatal error happened; `errCode` says which. */
export const CO_FL_ERROR = 1 << 3;
/** The peer closed its write side: reads return EOF. */
export const CO_FL_SOCK_RD_SH = 1 << 4;
/** Our write side is shut (FIN or close_notify sent). */
export const CO_FL_SOCK_WR_SH = 1 << 5;
/** Receiving is on: arriving bytes go into the receive buffer. */
export const CO_FL_RD_PENDING = 1 << 6;
/** A send is in flight: the next one waits for it. */
export const CO_FL_WR_PENDING = 1 << 7;
/** The connection was closed by us; late completions are ignored. */
export const CO_FL_CLOSED = 1 << 8;

/** Names for `showFlags()`. */
export const CO_FLAG_NAMES: FlagTable = [
  [CO_FL_CONNECTED, "CONNECTED"],
  [CO_FL_WAIT_L4_CONN, "WAIT_L4_CONN"],
  [CO_FL_HANDSHAKE, "HANDSHAKE"],
  [CO_FL_ERROR, "ERROR"],
  [CO_FL_SOCK_RD_SH, "SOCK_RD_SH"],
  [CO_FL_SOCK_WR_SH, "SOCK_WR_SH"],
  [CO_FL_RD_PENDING, "RD_PENDING"],
  [CO_FL_WR_PENDING, "WR_PENDING"],
  [CO_FL_CLOSED, "CLOSED"],
];

/** No error. */
export const CO_ER_NONE = 0;
/** Connection refused by the peer. */
export const CO_ER_REFUSED = 1;
/** Connection reset by the peer. */
export const CO_ER_RESET = 2;
/** Writing to a connection the peer closed. */
export const CO_ER_BROKEN_PIPE = 3;
/** Network or host unreachable, or address not available. */
export const CO_ER_UNREACH = 4;
/** Unix socket path missing, or name resolution failed. */
export const CO_ER_NOT_FOUND = 5;
/** Permission denied by the OS or by Deno. */
export const CO_ER_PERM = 6;
/** The OS timed the operation out. */
export const CO_ER_TIMEOUT = 7;
/** TLS handshake failed (protocol, certificate, verification). */
export const CO_ER_TLS = 8;
/** Any other error. */
export const CO_ER_OTHER = 9;
/** No valid PROXY protocol header where one was expected (`accept-proxy`). */
export const CO_ER_PROXY = 10;

/** Short names of CO_ER_* codes, for logs. */
export const CO_ER_NAMES: readonly string[] = [
  "none",
  "refused",
  "reset",
  "broken pipe",
  "unreachable",
  "not found",
  "permission denied",
  "timed out",
  "TLS error",
  "error",
  "bad PROXY header",
];

/**
 * The data layer: moves bytes between a socket and a buffer and nothing
 * else. Operations start asynchronous I/O and return at once; completions
 * update the buffer and the connection counters, then wake the owner task.
 */
export interface DataLayer {
  /** Name for logs and tests ("raw", "tls"). */
  readonly name: string;
  /** Starts using the connection's socket for data (after accept, connect or handshake). */
  attach(conn: Connection): void;
  /** Starts a connect to `addr`; `conn.connected()` or an error follows. */
  connect(conn: Connection, addr: Address): void;
  /** Starts receiving into the free room of `buf` until it is full. */
  rcvBuf(conn: Connection, buf: Buf): void;
  /** Stops receiving (bytes that arrive meanwhile are kept for later). */
  rcvStop(conn: Connection): void;
  /**
   * Sends the contiguous output of `buf`. The bytes stay in the buffer until
   * written; CO_FL_WR_PENDING is set until then (one send at a time).
   */
  sndBuf(conn: Connection, buf: Buf): void;
  /** Shuts the write side (FIN, or close_notify then FIN for TLS). */
  shutw(conn: Connection): void;
  /** Closes the socket; a send in flight completes as cancelled. */
  close(conn: Connection): void;
}

/**
 * A handshake layer: runs before data may flow (TLS). While CO_FL_HANDSHAKE
 * is set its wish wins over the data layer's.
 */
export interface HandshakeLayer {
  /** Name for logs and tests. */
  readonly name: string;
  /**
   * Starts the handshake on `conn.sock`; completion calls
   * `conn.handshakeDone(newSocket)` or records an error.
   */
  start(conn: Connection): void;
}
