/**
 * The stream interface ("sc"): joins one connection to a stream. It owns the
 * side's state, turns connection completions into channel flags (`scSync`),
 * starts the I/O the channels call for (`scUpdate`), and performs ordered
 * half-closes (`scShutr`, `scShutw`).
 *
 * Half-close rule: a read-side EOF on one side sets SHUTR on that side's
 * input channel; the stream turns it into SHUTW_NOW on the same channel, and
 * `scUpdate` of the other side shuts its write only when every byte of that
 * channel's output is sent. A side whose both directions are shut closes.
 *
 * @module
 */
import type { Channel } from "../buf/channel.ts";
import { chnRcvd } from "../buf/channel.ts";
import {
  CF_DONT_READ,
  CF_READ_ERROR,
  CF_READ_NOEXP,
  CF_READ_NULL,
  CF_READ_PARTIAL,
  CF_SHUTR,
  CF_SHUTR_NOW,
  CF_SHUTW,
  CF_SHUTW_NOW,
  CF_WRITE_ERROR,
  CF_WRITE_PARTIAL,
} from "../buf/channel_types.ts";
import type { Connection } from "../conn/connection.ts";
import {
  CO_FL_ERROR,
  CO_FL_RD_PENDING,
  CO_FL_SOCK_RD_SH,
  CO_FL_WR_PENDING,
} from "../conn/conn_types.ts";
import { TICK_ETERNITY, tickAdd } from "../core/time.ts";
import {
  SC_ET_DATA_ERR,
  SC_FL_ERR,
  SC_FL_INDEP_STR,
  SC_ST_CLO,
  SC_ST_EST,
  SC_ST_INI,
  type ScState,
} from "./sc_types.ts";

/** One side of a stream. */
export class StreamInterface {
  /** SC_ST_* state. */
  state: ScState = SC_ST_INI;
  /** SC_FL_* bits. */
  flags = 0;
  /** SC_ET_* type of the last error. */
  errType = 0;
  /** The connection, once there is one. */
  conn: Connection | null = null;
  /** Channel this side's reads go into. */
  readonly ib: Channel;
  /** Channel this side's writes come from. */
  readonly ob: Channel;
  /** Expiry of the current state (connect timeout), or eternity. */
  exp: number = TICK_ETERNITY;
  /** Connection attempts made after the first one. */
  connRetries = 0;

  constructor(ib: Channel, ob: Channel) {
    this.ib = ib;
    this.ob = ob;
  }

  /** Name of the state, for debugging. */
  toString(): string {
    return `sc(${this.state})`;
  }
}

/**
 * Moves what the connection did since the last look into channel flags:
 * bytes received (forwarded if scheduled), bytes sent, EOF, errors.
 */
export function scSync(sc: StreamInterface, now: number): void {
  const conn = sc.conn;
  if (conn === null || sc.state !== SC_ST_EST) return;
  const ib = sc.ib, ob = sc.ob;
  const rcvd = conn.rcvd;
  if (rcvd > 0) {
    conn.rcvd = 0;
    ib.flags |= CF_READ_PARTIAL;
    chnRcvd(ib, rcvd);
    ib.rex = tickAdd(now, ib.rto);
  }
  const sent = conn.sent;
  if (sent > 0) {
    conn.sent = 0;
    ob.flags |= CF_WRITE_PARTIAL;
    ob.wex = ob.buf.out > 0 ? tickAdd(now, ob.wto) : TICK_ETERNITY;
    // A peer that takes our data is alive even if it says nothing: like
    // HAProxy, writing refreshes this side's read timeout.
    if (ib.rex !== TICK_ETERNITY && !(sc.flags & SC_FL_INDEP_STR)) {
      ib.rex = tickAdd(now, ib.rto);
    }
  }
  const cf = conn.flags;
  if ((cf & CO_FL_SOCK_RD_SH) && !(ib.flags & CF_SHUTR)) {
    ib.flags |= CF_READ_NULL;
    scShutr(sc);
  }
  if ((cf & CO_FL_ERROR) && !(sc.flags & SC_FL_ERR)) {
    sc.flags |= SC_FL_ERR;
    sc.errType = SC_ET_DATA_ERR;
    if (!(ib.flags & CF_SHUTR)) ib.flags |= CF_READ_ERROR;
    if (!(ob.flags & CF_SHUTW)) ob.flags |= CF_WRITE_ERROR;
  }
}

/**
 * Starts the I/O the channels call for on an established side: a receive
 * when the input has room, a send when the output has bytes, and the write
 * shutdown once the output is drained after SHUTW_NOW. Also sets the read
 * and write expiries. (The stream calls the two halves itself, sends first.)
 */
export function scUpdate(sc: StreamInterface, now: number): void {
  scUpdateSnd(sc, now);
  scUpdateRcv(sc, now);
}

/**
 * The receiving half of `scUpdate()`. A stream runs it after every side's
 * sending half: a layer that sends synchronously (FFI) has then freed the
 * room this receive may use.
 */
export function scUpdateRcv(sc: StreamInterface, now: number): void {
  if (sc.state !== SC_ST_EST) return;
  const conn = sc.conn!;
  const ib = sc.ib;
  if (!conn.isReady()) {
    // Handshake pending: the peer is expected to speak.
    if (ib.rex === TICK_ETERNITY) ib.rex = tickAdd(now, ib.rto);
    return;
  }
  const cf = conn.flags;
  if (!(ib.flags & (CF_SHUTR | CF_DONT_READ))) {
    if (cf & CO_FL_RD_PENDING) {
      if (ib.flags & CF_READ_NOEXP) ib.rex = TICK_ETERNITY;
      else if (ib.rex === TICK_ETERNITY) ib.rex = tickAdd(now, ib.rto);
    } else if (rcvWorth(ib.buf)) {
      conn.xprt.rcvBuf(conn, ib.buf);
      if (ib.flags & CF_READ_NOEXP) ib.rex = TICK_ETERNITY;
      else if (ib.rex === TICK_ETERNITY) ib.rex = tickAdd(now, ib.rto);
    } else {
      // Blocked by our own full buffer: not the peer's fault.
      ib.rex = TICK_ETERNITY;
    }
  } else if (!(ib.flags & CF_SHUTR) && !(cf & CO_FL_RD_PENDING)) {
    ib.rex = TICK_ETERNITY;
  }
}

/** The sending half of `scUpdate()`: send the output, shut once drained after SHUTW_NOW. */
export function scUpdateSnd(sc: StreamInterface, now: number): void {
  if (sc.state !== SC_ST_EST) return;
  const conn = sc.conn!;
  if (!conn.isReady()) return;
  const ob = sc.ob;
  if (!(ob.flags & CF_SHUTW)) {
    if (ob.buf.out > 0) {
      if (!(conn.flags & CO_FL_WR_PENDING)) conn.xprt.sndBuf(conn, ob.buf);
      if (ob.wex === TICK_ETERNITY) ob.wex = tickAdd(now, ob.wto);
    } else if (!(conn.flags & CO_FL_WR_PENDING)) {
      ob.wex = TICK_ETERNITY;
      if (ob.flags & CF_SHUTW_NOW) scShutw(sc);
    }
  }
}

/**
 * Whether receiving into `buf` now is worth it: it has room, and not only a
 * sliver while the other side still sends from it. Filling a sliver made the
 * next send a sliver too (a 64 KiB body went out as 15 KiB, 1 KiB, 15 KiB,
 * 1 KiB...: twice the sends); the send in flight wakes the stream when it is
 * done, and the receive then gets the whole room.
 */
function rcvWorth(buf: StreamInterface["ib"]["buf"]): boolean {
  const room = buf.room();
  return room > 0 && (buf.sndPending === 0 || room >= buf.size >> 2);
}

/**
 * Shuts the read side: nothing more will be taken from this peer. Closes the
 * side when its write side is already shut.
 */
export function scShutr(sc: StreamInterface): void {
  const ib = sc.ib;
  if (ib.flags & CF_SHUTR) return;
  ib.flags = (ib.flags & ~CF_SHUTR_NOW) | CF_SHUTR;
  ib.rex = TICK_ETERNITY;
  if (sc.ob.flags & CF_SHUTW) scClose(sc);
}

/**
 * Shuts the write side: sends FIN once queued bytes are out (the caller
 * checks the output is drained). Closes the side when its read side is
 * already shut, or when it is not established (nothing to half-close).
 */
export function scShutw(sc: StreamInterface): void {
  const ob = sc.ob;
  if (ob.flags & CF_SHUTW) return;
  ob.flags = (ob.flags & ~CF_SHUTW_NOW) | CF_SHUTW;
  ob.wex = TICK_ETERNITY;
  if (sc.state !== SC_ST_EST) {
    scClose(sc);
    return;
  }
  // Shut first even when closing next, so TLS sends close_notify.
  sc.conn!.shutw();
  if (sc.ib.flags & CF_SHUTR) scClose(sc);
}

/** Closes the side at once: both channel directions are marked shut and the socket is closed. */
export function scClose(sc: StreamInterface): void {
  const ib = sc.ib, ob = sc.ob;
  ib.flags = (ib.flags & ~CF_SHUTR_NOW) | CF_SHUTR;
  ob.flags = (ob.flags & ~CF_SHUTW_NOW) | CF_SHUTW;
  ib.rex = ob.wex = TICK_ETERNITY;
  sc.exp = TICK_ETERNITY;
  sc.conn?.close();
  sc.state = SC_ST_CLO;
}
