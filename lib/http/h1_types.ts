/**
 * HTTP/1 message state: flags (H1_MF_*), the parsed head as offsets, parse
 * error details, and method codes. A message never holds strings: the start
 * line and headers are offsets into the buffer bytes they were parsed from.
 *
 * @module
 */
import type { FlagTable } from "../core/flags.ts";

/** The message is a response. */
export const H1_MF_RESP = 1 << 0;
/** A valid Content-Length was seen (`bodyLen`). */
export const H1_MF_CLEN = 1 << 1;
/** Transfer-Encoding ends with chunked. */
export const H1_MF_CHNK = 1 << 2;
/** Transfer-Encoding is present (chunked or not). */
export const H1_MF_TE = 1 << 3;
/** `Connection: close`. */
export const H1_MF_CONN_CLOSE = 1 << 4;
/** `Connection: keep-alive`. */
export const H1_MF_CONN_KAL = 1 << 5;
/** `Connection: upgrade`. */
export const H1_MF_CONN_UPG = 1 << 6;
/** An Upgrade header is present. */
export const H1_MF_UPGRADE = 1 << 7;
/** HTTP/1.1 (otherwise 1.0). */
export const H1_MF_VER_11 = 1 << 8;
/** A Host header is present. */
export const H1_MF_HOST = 1 << 9;
/** `Expect: 100-continue`. */
export const H1_MF_EXPECT_100 = 1 << 10;
/** The request target is in absolute form (`http://host/path`). */
export const H1_MF_ABS_URI = 1 << 11;
/** The Connection header names other headers to drop (hop-by-hop). */
export const H1_MF_CONN_HDRS = 1 << 12;

/** Names for `showFlags()`. */
export const H1_MF_NAMES: FlagTable = [
  [H1_MF_RESP, "RESP"],
  [H1_MF_CLEN, "CLEN"],
  [H1_MF_CHNK, "CHNK"],
  [H1_MF_TE, "TE"],
  [H1_MF_CONN_CLOSE, "CONN_CLOSE"],
  [H1_MF_CONN_KAL, "CONN_KAL"],
  [H1_MF_CONN_UPG, "CONN_UPG"],
  [H1_MF_UPGRADE, "UPGRADE"],
  [H1_MF_VER_11, "VER_11"],
  [H1_MF_HOST, "HOST"],
  [H1_MF_EXPECT_100, "EXPECT_100"],
  [H1_MF_ABS_URI, "ABS_URI"],
  [H1_MF_CONN_HDRS, "CONN_HDRS"],
];

/** Where a parse error was found (`errState`). */
export const H1_ST_START = 1; // request or status line
export const H1_ST_HDR_NAME = 2;
export const H1_ST_HDR_VAL = 3;
export const H1_ST_HDRS = 4; // header semantics (framing, Host, limits)
export const H1_ST_CHUNK = 5; // chunk size line
export const H1_ST_TRAILERS = 6;

/** Names of parse states, indexed by H1_ST_*. */
export const H1_ST_NAMES: readonly string[] = [
  "none",
  "start line",
  "header name",
  "header value",
  "headers",
  "chunk size",
  "trailers",
];

/** Method codes (HTTP_METH_*); anything else is HTTP_METH_OTHER. */
export const HTTP_METH_OTHER = 0;
export const HTTP_METH_GET = 1;
export const HTTP_METH_HEAD = 2;
export const HTTP_METH_POST = 3;
export const HTTP_METH_PUT = 4;
export const HTTP_METH_DELETE = 5;
export const HTTP_METH_OPTIONS = 6;
export const HTTP_METH_CONNECT = 7;
export const HTTP_METH_TRACE = 8;
export const HTTP_METH_PATCH = 9;

/** Limits applied while parsing. */
export interface H1Limits {
  /** Maximum bytes of a head (start line, headers, final CRLF). */
  maxHead: number;
  /** Maximum number of header fields. */
  maxHdrs: number;
  /** Maximum body size in bytes (0: unlimited); larger gets 413. */
  maxBody: number;
}

/** A parsed (or being parsed) HTTP/1 message head. */
export class HttpMsg {
  /** H1_MF_* bits. */
  flags = 0;
  /** Bytes of the head once complete (0 while incomplete). */
  headLen = 0;
  /** Offset (from the head start) up to which the end of head was searched. */
  scanned = 0;
  /** Offset of the start of the line being scanned (search state). */
  scanLine = 0;
  /** Offset of the end of the start line (its LF). */
  startLineEnd = 0;
  /** Request: method code. */
  meth = HTTP_METH_OTHER;
  /** Request: method offset and length. */
  methPos = 0;
  methLen = 0;
  /** Request: target offset and length. */
  uriPos = 0;
  uriLen = 0;
  /** Response: status code. */
  status = 0;
  /** Response: reason offset and length. */
  reasonPos = 0;
  reasonLen = 0;
  /** Number of header fields. */
  nHdrs = 0;
  /** Per header: name offset, name length, value offset, value length (value trimmed). */
  readonly hdrs: Int32Array;
  /** Content-Length value, or -1. */
  bodyLen = -1;
  /** Status to answer for a parse error (400, 413, 414, 431, 501, 502, 505). */
  errCode = 0;
  /** Offset of the offending byte, -1 when none. */
  errPos = -1;
  /** H1_ST_* where the error was found. */
  errState = 0;
  /** Short reason, for logs and tests (never sent to peers). */
  errMsg = "";

  constructor(maxHdrs: number) {
    this.hdrs = new Int32Array(maxHdrs * 4);
  }

  /** Forgets everything, for the next message on the connection. */
  reset(): void {
    this.flags &= H1_MF_RESP;
    this.headLen =
      this.scanned =
      this.scanLine =
      this.startLineEnd =
        0;
    this.meth = HTTP_METH_OTHER;
    this.methPos =
      this.methLen =
      this.uriPos =
      this.uriLen =
        0;
    this.status = this.reasonPos = this.reasonLen = 0;
    this.nHdrs = 0;
    this.bodyLen = -1;
    this.errCode = 0;
    this.errPos = -1;
    this.errState = 0;
    this.errMsg = "";
  }
}
