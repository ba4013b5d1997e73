/**
 * The raw data layer: plain TCP or unix stream sockets through Deno's
 * `Deno.Conn`. One receive and one send at most in flight per connection.
 *
 * @module
 */
import type { Buf } from "../buf/buffer.ts";
import type { Connection } from "./connection.ts";
import type { DataLayer } from "./conn_types.ts";

/** Starts a receive into the free room of `buf`. */
export function sockRcvBuf(conn: Connection, buf: Buf): void {
  const view = buf.rcvView();
  conn.rcvStarted(buf);
  conn.sock!.read(view).then(conn.onRcv, conn.onRcvErr);
}

/** Starts sending the contiguous output of `buf`. */
export function sockSndBuf(conn: Connection, buf: Buf): void {
  const view = buf.sndView();
  conn.sndStarted(buf, view.length);
  conn.sock!.write(view).then(conn.onSnd, conn.onSndErr);
}

/** Half-closes the socket (FIN after pending data). */
export function sockShutw(conn: Connection): void {
  conn.opsPending++;
  conn.sock!.closeWrite().then(conn.onOpDone, conn.onOpErr);
}

/** Closes the socket; a socket already gone is not an error. */
export function sockClose(conn: Connection): void {
  try {
    conn.sock!.close();
  } catch {
    // Already closed by the runtime (e.g. consumed by startTls).
  }
}

/** Plain sockets. */
export const RAW_SOCK: DataLayer = {
  name: "raw",
  rcvBuf: sockRcvBuf,
  sndBuf: sockSndBuf,
  shutw: sockShutw,
  close: sockClose,
};
