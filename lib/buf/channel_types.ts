/**
 * Channel flags (CF_*). Event bits (READ_*, WRITE_*) record what happened
 * since the stream last looked; state bits (SHUTR, SHUTW, …) persist.
 *
 * @module
 */
import type { FlagTable } from "../core/flags.ts";

/** The producer sent EOF (a read returned end of stream). */
export const CF_READ_NULL = 1 << 0;
/** Some bytes were received. */
export const CF_READ_PARTIAL = 1 << 1;
/** The producer side stayed silent past its timeout. */
export const CF_READ_TIMEOUT = 1 << 2;
/** Receiving failed (reset, TLS error). */
export const CF_READ_ERROR = 1 << 3;
/** Some bytes were sent. */
export const CF_WRITE_PARTIAL = 1 << 4;
/** The consumer side did not take data within its timeout. */
export const CF_WRITE_TIMEOUT = 1 << 5;
/** Sending failed (reset, broken pipe). */
export const CF_WRITE_ERROR = 1 << 6;
/** No more data will be received (EOF, error or decided). */
export const CF_SHUTR = 1 << 7;
/** Reading should be shut at the next opportunity. */
export const CF_SHUTR_NOW = 1 << 8;
/** No more data will be sent (FIN sent or connection closed). */
export const CF_SHUTW = 1 << 9;
/** Writing should be shut once the output is sent. */
export const CF_SHUTW_NOW = 1 << 10;
/** A SHUTR turns into SHUTW_NOW by itself (forwarding a half-close). */
export const CF_AUTO_CLOSE = 1 << 11;
/** Do not receive for now (an analyser wants to look first). */
export const CF_DONT_READ = 1 << 12;
/** The consumer connection was asked to be established. */
export const CF_AUTO_CONNECT = 1 << 13;
/** The end of the current message was seen (HTTP). */
export const CF_EOI = 1 << 14;
/**
 * Keep reading (to notice a close or reset) but without a read timeout:
 * the producer has said everything for now (HTTP: the whole request is in,
 * only `timeout queue` and `timeout server` apply, as in HAProxy).
 */
export const CF_READ_NOEXP = 1 << 15;

/** Any read-side event. */
export const CF_READ_ACTIVITY = CF_READ_NULL | CF_READ_PARTIAL | CF_READ_ERROR;
/** Any write-side event. */
export const CF_WRITE_ACTIVITY = CF_WRITE_PARTIAL | CF_WRITE_ERROR;
/** Event bits the stream clears once it has acted on them. */
export const CF_MASK_EVENTS = CF_READ_NULL | CF_READ_PARTIAL |
  CF_READ_TIMEOUT | CF_READ_ERROR | CF_WRITE_PARTIAL | CF_WRITE_TIMEOUT |
  CF_WRITE_ERROR;

/** `toForward` value meaning "forward everything forever" (tunnels). */
export const CHN_INFINITE_FORWARD = Number.MAX_SAFE_INTEGER;

/** Names for `showFlags()`. */
export const CF_FLAG_NAMES: FlagTable = [
  [CF_READ_NULL, "READ_NULL"],
  [CF_READ_PARTIAL, "READ_PARTIAL"],
  [CF_READ_TIMEOUT, "READ_TIMEOUT"],
  [CF_READ_ERROR, "READ_ERROR"],
  [CF_WRITE_PARTIAL, "WRITE_PARTIAL"],
  [CF_WRITE_TIMEOUT, "WRITE_TIMEOUT"],
  [CF_WRITE_ERROR, "WRITE_ERROR"],
  [CF_SHUTR, "SHUTR"],
  [CF_SHUTR_NOW, "SHUTR_NOW"],
  [CF_SHUTW, "SHUTW"],
  [CF_SHUTW_NOW, "SHUTW_NOW"],
  [CF_AUTO_CLOSE, "AUTO_CLOSE"],
  [CF_DONT_READ, "DONT_READ"],
  [CF_AUTO_CONNECT, "AUTO_CONNECT"],
  [CF_EOI, "EOI"],
  [CF_READ_NOEXP, "READ_NOEXP"],
];
