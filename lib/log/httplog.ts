/**
 * The per-request log line of HTTP mode, modelled on HAProxy's `httplog`:
 *
 *     client:port [date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - - tsc ac/fc/bc/sc/rc sq/bq "request line"
 *
 * TR: ms to receive the whole request head (from its first byte); Tw: ms in
 * queues; Tc: ms to connect to the server (-1 if no connection, 0 when an
 * idle connection was reused); Tr: ms from the request being sent to the
 * response head (-1 without a response); Ta: total ms of the request. The
 * date is when the request started. `bytes` are sent to the client for this
 * request. The two `-` are request and response cookie captures (none yet);
 * `tsc` is the termination state plus two cookie flags, like HAProxy. Then
 * `{...}` captured request headers and `{...}` captured response headers
 * when the frontend has `capture` lines, and the request line, with `"`,
 * `#` and bytes outside 0x20-0x7e written `#XX` as HAProxy does. This is
 * HAProxy's `option httplog` log-format (log_format.ts's HTTPLOG_FORMAT),
 * written field by field for speed.
 *
 * @module
 */
import { frontendHit, noServerName } from "../http/cache_txn.ts";
import type { Backend } from "../backend/backend.ts";
import type { Frontend } from "../frontend/frontend.ts";
import type { Server } from "../backend/server.ts";
import { tickSpan } from "../core/time.ts";
import type { HttpTxn } from "../http/http_txn.ts";
import type { ConnLimit } from "../listener/listener.ts";
import type { Stream } from "../stream/stream.ts";
import { SF_ERR_CHARS, SF_FINST_CHARS } from "../stream/stream_types.ts";
import type { LogBuf } from "./log_buf.ts";
import { logDate, logDateInto } from "./logdate.ts";
import { captures, urlPart } from "./log_format.ts";

/** The fields of one HTTP log record. */
export interface HttpLogRecord {
  client: string;
  client_port: number;
  request_date: string;
  frontend: string;
  backend: string;
  server: string;
  tr: number;
  tw: number;
  tc: number;
  tr_server: number;
  ta: number;
  status: number;
  bytes_out: number;
  bytes_in: number;
  termination_state: string;
  actconn: number;
  feconn: number;
  beconn: number;
  srv_conn: number;
  retries: number;
  srv_queue: number;
  backend_queue: number;
  http_request: string;
}

/** Collects the log fields of an HTTP transaction at its end. */
export function httpLogRecord(
  strm: Stream,
  txn: HttpTxn,
  fe: Frontend,
  process: ConnLimit,
  now: number,
): { rec: HttpLogRecord; date: number } {
  const srv = strm.target as Server | null;
  const start = txn.tStart >= 0 ? txn.tStart : txn.tIdle;
  const sent = txn.tHead >= 0 ? Math.max(txn.tHead, strm.tConnEnd) : -1;
  const rec: HttpLogRecord = {
    client: strm.cliAddr,
    client_port: strm.cliPort,
    request_date: "",
    frontend: fe.name,
    backend: frontendHit(txn.cache) ? fe.name : strm.be.name,
    server: srv === null ? noServerName(txn.cache) : srv.name,
    tr: txn.tHead < 0 ? -1 : tickSpan(start, txn.tHead),
    tw: strm.tQueue < 0
      ? (strm.tConnStart < 0 ? -1 : 0)
      : tickSpan(strm.tQueue, strm.tDequeue < 0 ? now : strm.tDequeue),
    tc: strm.tConnEnd < 0 ? -1 : tickSpan(strm.tConnStart, strm.tConnEnd),
    tr_server: txn.tResHead < 0 || sent < 0 ? -1 : tickSpan(sent, txn.tResHead),
    ta: tickSpan(start, now),
    status: txn.status,
    bytes_out: strm.res.fwd - txn.resFwd0,
    bytes_in: strm.req.total - txn.reqTotal0,
    termination_state: SF_ERR_CHARS[txn.termCause] + SF_FINST_CHARS[txn.termPhase] + "--",
    actconn: process.total,
    feconn: fe.limit.total,
    beconn: (strm.be as Backend).counters.scur,
    srv_conn: srv === null ? 0 : srv.cur,
    retries: strm.scb.connRetries,
    srv_queue: strm.srvQueuePos,
    backend_queue: strm.beQueuePos,
    http_request: txn.reqLineText(),
  };
  return { rec, date: strm.acceptDate + (start - strm.tAccept) };
}

/**
 * Writes the httplog line of a transaction at its end into `out`, straight
 * from the stream (no record, no strings): the same bytes as
 * `formatHttpLog(httpLogRecord(…))`, which JSON logs and tests still use.
 */
export function writeHttpLog(
  out: LogBuf,
  strm: Stream,
  txn: HttpTxn,
  fe: Frontend,
  process: ConnLimit,
  now: number,
): void {
  const srv = strm.target as Server | null;
  const start = txn.tStart >= 0 ? txn.tStart : txn.tIdle;
  const sent = txn.tHead >= 0 ? Math.max(txn.tHead, strm.tConnEnd) : -1;
  writeClient(out, strm.cliAddr, strm.cliPort);
  out.str(" [");
  logDateInto(out, strm.acceptDate + (start - strm.tAccept));
  out.str("] ");
  out.str(fe.name);
  // HAProxy's %ft: a "~" after the name of a frontend terminating TLS.
  if (strm.cliTls) out.ch(0x7e);
  out.ch(0x20);
  out.str(frontendHit(txn.cache) ? fe.name : strm.be.name);
  out.ch(0x2f);
  out.str(srv === null ? noServerName(txn.cache) : srv.name);
  out.ch(0x20);
  out.int(txn.tHead < 0 ? -1 : tickSpan(start, txn.tHead));
  out.ch(0x2f);
  out.int(
    strm.tQueue < 0
      ? (strm.tConnStart < 0 ? -1 : 0)
      : tickSpan(strm.tQueue, strm.tDequeue < 0 ? now : strm.tDequeue),
  );
  out.ch(0x2f);
  out.int(strm.tConnEnd < 0 ? -1 : tickSpan(strm.tConnStart, strm.tConnEnd));
  out.ch(0x2f);
  out.int(txn.tResHead < 0 || sent < 0 ? -1 : tickSpan(sent, txn.tResHead));
  out.ch(0x2f);
  out.int(tickSpan(start, now));
  out.ch(0x20);
  out.int(txn.status);
  out.ch(0x20);
  out.int(strm.res.fwd - txn.resFwd0);
  out.str(" - - ");
  out.ch(SF_ERR_CODES[txn.termCause]);
  out.ch(SF_FINST_CODES[txn.termPhase]);
  out.str("-- ");
  out.int(process.total);
  out.ch(0x2f);
  out.int(fe.limit.total);
  out.ch(0x2f);
  out.int((strm.be as Backend).counters.scur);
  out.ch(0x2f);
  out.int(srv === null ? 0 : srv.cur);
  out.ch(0x2f);
  out.int(strm.scb.connRetries);
  out.ch(0x20);
  out.int(strm.srvQueuePos);
  out.ch(0x2f);
  out.int(strm.beQueuePos);
  // Header captures, as HAProxy's %hr %hs: only when configured.
  const caps = fe.logCaptures;
  if (caps[0] > 0) {
    out.ch(0x20);
    captures(out, txn.reqLog, caps[0], 0);
  }
  if (caps[1] > 0) {
    out.ch(0x20);
    captures(out, txn.resLog, caps[1], 0);
  }
  out.ch(0x20);
  urlPart(out, txn.reqLine, 0, txn.reqLineLen, 1);
}

/** `client:port`, an IPv6 client in brackets. */
export function writeClient(out: LogBuf, addr: string, port: number): void {
  if (addr.includes(":")) {
    out.ch(0x5b);
    out.str(addr);
    out.ch(0x5d);
  } else out.str(addr);
  out.ch(0x3a);
  out.int(port);
}

/** The termination letters as bytes, by cause and phase. */
const SF_ERR_CODES = Uint8Array.from(SF_ERR_CHARS, (c) => c.charCodeAt(0));
const SF_FINST_CODES = Uint8Array.from(SF_FINST_CHARS, (c) => c.charCodeAt(0));

/** Formats a record as an httplog text line. */
export function formatHttpLog(r: HttpLogRecord, date: number): string {
  const client = r.client.includes(":") ? `[${r.client}]` : r.client;
  return `${client}:${r.client_port} [${logDate(date)}] ${r.frontend} ${r.backend}/${r.server} ` +
    `${r.tr}/${r.tw}/${r.tc}/${r.tr_server}/${r.ta} ${r.status} ${r.bytes_out} - - ` +
    `${r.termination_state} ${r.actconn}/${r.feconn}/${r.beconn}/${r.srv_conn}/${r.retries} ` +
    `${r.srv_queue}/${r.backend_queue} "${urlEncode(r.http_request)}"`;
}

/** A request line as HAProxy logs it: `"`, `#` and bytes outside 0x20-0x7e as `#XX`. */
function urlEncode(s: string): string {
  return s.replace(
    /[^\x20-\x7e]|["#]/g,
    (c) => `#${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

/** Formats a record as one JSON object. */
export function formatHttpLogJson(r: HttpLogRecord, date: number): string {
  return JSON.stringify({ ...r, request_date: new Date(date).toISOString() });
}
