/**
 * A channel carries one direction of a stream: a buffer, flags, and the count
 * of bytes still to forward without analysis. The request channel goes from
 * client to server, the response channel back.
 *
 * @module
 */
import { TICK_ETERNITY } from "../core/time.ts";
import { Buf } from "./buffer.ts";
import {
  CF_SHUTR,
  CF_SHUTR_NOW,
  CF_SHUTW,
  CF_SHUTW_NOW,
  CHN_INFINITE_FORWARD,
} from "./channel_types.ts";

/** One direction of a stream. */
export class Channel {
  /** CF_* bits. */
  flags = 0;
  /** The bytes in transit. */
  readonly buf: Buf = new Buf();
  /** Bytes still to move to the output as they arrive, or CHN_INFINITE_FORWARD. */
  toForward = 0;
  /** Read (producer) timeout in ms, 0 for none. */
  rto = 0;
  /** Write (consumer) timeout in ms, 0 for none. */
  wto = 0;
  /** Tick at which the producer is considered silent for too long. */
  rex: number = TICK_ETERNITY;
  /** Tick at which the consumer is considered stuck for too long. */
  wex: number = TICK_ETERNITY;
  /** Bytes received into this channel over its life. */
  total = 0;
  /** Bytes moved to the output (scheduled for sending) over its life. */
  fwd = 0;
}

/**
 * Accounts `n` newly received input bytes: those covered by `toForward` go
 * straight to the output.
 */
export function chnRcvd(chn: Channel, n: number): void {
  chn.total += n;
  const tf = chn.toForward;
  if (tf === 0) return;
  const buf = chn.buf;
  const fwd = buf.in < tf ? buf.in : tf;
  buf.forward(fwd);
  chn.fwd += fwd;
  if (tf !== CHN_INFINITE_FORWARD) chn.toForward = tf - fwd;
}

/**
 * Schedules `bytes` for forwarding: what is already in the input moves to the
 * output now, the rest as it arrives. CHN_INFINITE_FORWARD makes a tunnel.
 */
export function chnForward(chn: Channel, bytes: number): void {
  const buf = chn.buf;
  if (bytes === CHN_INFINITE_FORWARD || chn.toForward === CHN_INFINITE_FORWARD) {
    chn.fwd += buf.in;
    buf.forward(buf.in);
    chn.toForward = CHN_INFINITE_FORWARD;
    return;
  }
  const now = buf.in < bytes ? buf.in : bytes;
  buf.forward(now);
  chn.fwd += now;
  // A finite count never reaches the infinite marker.
  chn.toForward = Math.min(chn.toForward + bytes - now, CHN_INFINITE_FORWARD - 1);
}

/** Asks for the read side to be shut; a no-op if already shut. */
export function chnShutrNow(chn: Channel): void {
  if (!(chn.flags & CF_SHUTR)) chn.flags |= CF_SHUTR_NOW;
}

/** Asks for the write side to be shut once the output is sent. */
export function chnShutwNow(chn: Channel): void {
  if (!(chn.flags & CF_SHUTW)) chn.flags |= CF_SHUTW_NOW;
}

/** Drops every byte held (input and output); used when aborting. */
export function chnErase(chn: Channel): void {
  const buf = chn.buf;
  if (buf.sndPending === 0) {
    buf.head = 0;
    buf.out = 0;
  }
  buf.in = 0;
  chn.toForward = 0;
}

/** True when both sides of the channel are shut. */
export function chnIsClosed(chn: Channel): boolean {
  return (chn.flags & (CF_SHUTR | CF_SHUTW)) === (CF_SHUTR | CF_SHUTW);
}
