/**
 * Forwarding HTTP/1 message bodies through a channel without buffering them:
 * by length (the channel's `toForward` counts the bytes down), chunked
 * (re-validated chunk by chunk: each size line, each CRLF after the data,
 * the trailers), or until the producer closes.
 *
 * Chunked bodies are forwarded as they are once validated, so a body the
 * server receives is exactly the body the client sent, and a malformed one is
 * never forwarded past the malformed part (the caller closes both sides).
 *
 * @module
 */
import type { Channel } from "../buf/channel.ts";
import { chnForward } from "../buf/channel.ts";
import { CHN_INFINITE_FORWARD } from "../buf/channel_types.ts";
import { HEXVAL, TCHAR, VALCHAR } from "./h1_chars.ts";
import { H1_ST_CHUNK, H1_ST_TRAILERS } from "./h1_types.ts";

/** No body. */
export const BODY_NONE = 0;
/** Body by Content-Length: `toForward` counts it down. */
export const BODY_CLEN = 1;
/** Chunked: expecting a chunk-size line. */
export const BODY_CHUNK_SIZE = 2;
/** Chunked: chunk data being forwarded by `toForward`. */
export const BODY_CHUNK_DATA = 3;
/** Chunked: expecting the CRLF after the chunk data. */
export const BODY_CHUNK_CRLF = 4;
/** Chunked: expecting trailer fields or the final empty line. */
export const BODY_TRAILERS = 5;
/** Until the producer closes. */
export const BODY_CLOSE = 6;
/** The body is complete (for CLOSE: the producer closed). */
export const BODY_DONE = 7;

/** Longest chunk-size line accepted (size, extensions, CRLF). */
export const MAX_CHUNK_LINE = 4096;
/** Most bytes of trailers accepted. */
export const MAX_TRAILERS = 16384;

/** Input bytes to parse framing from: a channel's buffer, or a copy of it (compression). */
export interface ByteSrc {
  /** Bytes available. */
  readonly in: number;
  /** The byte at offset `off` of the available ones. */
  inByte(off: number): number;
}

/** Progress of one message body. */
export class BodyState {
  /** BODY_* state. */
  st = BODY_NONE;
  /** Body bytes (chunk data only for chunked) seen so far. */
  total = 0;
  /** Trailer bytes seen so far. */
  trailerBytes = 0;
  /** Trailer fields seen so far. */
  trailers = 0;
  /** Status to answer on error, reason, and H1_ST_* where. */
  errCode = 0;
  errMsg = "";
  errState = 0;

  /** Starts forwarding a body of the given kind. */
  start(chn: Channel, kind: number, len: number): void {
    this.total = this.trailerBytes = this.trailers = 0;
    this.errCode = 0;
    this.errMsg = "";
    this.st = kind;
    if (kind === BODY_CLEN) {
      if (len > 0) chnForward(chn, len);
      else this.st = BODY_DONE;
      this.total = len;
    } else if (kind === BODY_CLOSE) {
      chnForward(chn, CHN_INFINITE_FORWARD);
    } else if (kind === BODY_NONE) {
      this.st = BODY_DONE;
    }
  }
}

function bodyFail(bs: BodyState, code: number, state: number, why: string): number {
  bs.errCode = code;
  bs.errState = state;
  bs.errMsg = why;
  return -1;
}

/**
 * Finds the end (offset of LF) of the line starting at input offset `from`,
 * within `max` bytes; -1 when not there yet, -2 on a bare LF or stray CR,
 * -3 when longer than `max`.
 */
export function lineEnd(buf: ByteSrc, from: number, max: number): number {
  const avail = buf.in;
  const lim = from + max < avail ? from + max : avail;
  for (let i = from; i < lim; i++) {
    const c = buf.inByte(i);
    if (c === 0x0a) return i > from && buf.inByte(i - 1) === 0x0d ? i : -2;
    // Only look at the byte after a CR inside the window (`lim`), so a CR on
    // the last byte `max` allows gets the same answer (-3) however the bytes
    // arrived (as h1ParseHead() does at maxHead).
    if (c === 0x0d && i + 1 < lim && buf.inByte(i + 1) !== 0x0a) return -2;
  }
  return avail - from >= max ? -3 : -1;
}

/**
 * Validates a chunk-size line (`1*HEXDIG *( BWS ";" BWS token [ BWS "="
 * BWS ( token / quoted-string ) ] ) CRLF`) of `len` bytes including CRLF.
 * Returns the chunk size, or -1 when invalid or too large.
 */
export function chunkSize(buf: ByteSrc, len: number): number {
  const end = len - 2;
  let i = 0, size = 0;
  while (i < end && HEXVAL[buf.inByte(i)]) {
    // 13 hex digits stay below 2^53: more is an overflow, not a big chunk.
    if (i >= 13) return -1;
    size = size * 16 + (HEXVAL[buf.inByte(i)] - 1);
    i++;
  }
  if (i === 0) return -1;
  const ws = (c: number) => c === 0x20 || c === 0x09;
  while (i < end) {
    while (i < end && ws(buf.inByte(i))) i++;
    if (i === end) break;
    if (buf.inByte(i) !== 0x3b /* ; */) return -1;
    i++;
    while (i < end && ws(buf.inByte(i))) i++;
    const s = i;
    while (i < end && TCHAR[buf.inByte(i)]) i++;
    if (i === s) return -1;
    while (i < end && ws(buf.inByte(i))) i++;
    if (i < end && buf.inByte(i) === 0x3d /* = */) {
      i++;
      while (i < end && ws(buf.inByte(i))) i++;
      if (i < end && buf.inByte(i) === 0x22 /* " */) {
        i++;
        for (;;) {
          if (i >= end) return -1;
          const c = buf.inByte(i);
          if (c === 0x22) break;
          // quoted-pair escapes only HTAB, SP, VCHAR and obs-text (RFC 9110
          // §5.6.4): check the escaped byte too, or "\<NUL>" would pass.
          if (c === 0x5c /* \ */ && ++i >= end) return -1;
          const e = buf.inByte(i);
          if (!VALCHAR[e] || e === 0x7f) return -1;
          i++;
        }
        i++;
      } else {
        const v = i;
        while (i < end && TCHAR[buf.inByte(i)]) i++;
        if (i === v) return -1;
      }
    }
  }
  return size;
}

/** Validates one trailer field line of `len` bytes (with CRLF); returns false when bad. */
export function trailerField(buf: ByteSrc, len: number): boolean {
  const end = len - 2;
  let i = 0;
  while (i < end && TCHAR[buf.inByte(i)]) i++;
  if (i === 0 || i === end || buf.inByte(i) !== 0x3a) return false;
  for (i++; i < end; i++) if (!VALCHAR[buf.inByte(i)]) return false;
  return true;
}

/**
 * Advances a body through its channel: validates and forwards what arrived.
 * Returns 1 when the body is complete, 0 when more bytes are needed, -1 on a
 * malformed body (`bs.errCode` says what to answer). `maxBody` (0: none)
 * bounds the body size. `bad` is the status for malformed input (400 for a
 * request, 502 for a response).
 */
export function bodyForward(chn: Channel, bs: BodyState, maxBody: number, bad: number): number {
  for (;;) {
    switch (bs.st) {
      case BODY_DONE:
        return 1;
      case BODY_NONE:
        bs.st = BODY_DONE;
        return 1;
      case BODY_CLEN:
        if (chn.toForward > 0) return 0;
        bs.st = BODY_DONE;
        return 1;
      case BODY_CLOSE:
        return 0; // done when the producer closes (the caller watches SHUTR)
      case BODY_CHUNK_DATA:
        if (chn.toForward > 0) return 0;
        bs.st = BODY_CHUNK_CRLF;
        break;
      case BODY_CHUNK_CRLF: {
        const buf = chn.buf;
        if (buf.in < 2) {
          if (buf.in === 1 && buf.inByte(0) !== 0x0d) {
            return bodyFail(bs, bad, H1_ST_CHUNK, "missing CRLF after chunk data");
          }
          return 0;
        }
        if (buf.inByte(0) !== 0x0d || buf.inByte(1) !== 0x0a) {
          return bodyFail(bs, bad, H1_ST_CHUNK, "missing CRLF after chunk data");
        }
        chnForward(chn, 2);
        bs.st = BODY_CHUNK_SIZE;
        break;
      }
      case BODY_CHUNK_SIZE: {
        const lf = lineEnd(chn.buf, 0, MAX_CHUNK_LINE);
        if (lf === -1) return 0;
        if (lf < 0) {
          return bodyFail(
            bs,
            bad,
            H1_ST_CHUNK,
            lf === -3 ? "chunk size line too long" : "bad line ending",
          );
        }
        const size = chunkSize(chn.buf, lf + 1);
        if (size < 0) return bodyFail(bs, bad, H1_ST_CHUNK, "invalid chunk size line");
        bs.total += size;
        if (maxBody > 0 && bs.total > maxBody) {
          return bodyFail(bs, bad === 400 ? 413 : bad, H1_ST_CHUNK, "body above the limit");
        }
        chnForward(chn, lf + 1);
        if (size === 0) bs.st = BODY_TRAILERS;
        else {
          chnForward(chn, size);
          bs.st = BODY_CHUNK_DATA;
        }
        break;
      }
      case BODY_TRAILERS: {
        const room = MAX_TRAILERS - bs.trailerBytes;
        const lf = lineEnd(chn.buf, 0, room > 2 ? room : 2);
        if (lf === -1) return 0;
        if (lf < 0) {
          return bodyFail(
            bs,
            bad,
            H1_ST_TRAILERS,
            lf === -3 ? "trailers too large" : "bad line ending",
          );
        }
        const len = lf + 1;
        if (len === 2) {
          chnForward(chn, 2);
          bs.st = BODY_DONE;
          return 1;
        }
        if (!trailerField(chn.buf, len)) {
          return bodyFail(bs, bad, H1_ST_TRAILERS, "invalid trailer field");
        }
        if (++bs.trailers > 100) {
          return bodyFail(bs, bad, H1_ST_TRAILERS, "too many trailer fields");
        }
        bs.trailerBytes += len;
        chnForward(chn, len);
        break;
      }
    }
  }
}
