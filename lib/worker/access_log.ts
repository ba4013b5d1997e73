/**
 * A frontend's access log, as its resolved configuration asks: which lines
 * are written (`dontLogNull`), at which level (`separateErrors`), in which
 * format (sluice's own httplog/tcplog writers, a compiled log-format, or
 * JSON), with which RFC 5424 structured data; and what the frontend keeps
 * of HTTP heads for it (captures, samples, unique ids).
 *
 * @module
 */
import type { ResolvedFrontend } from "../cfg/config_resolved_types.ts";
import type { Frontend, StreamLogger } from "../frontend/frontend.ts";
import type { LogHeads } from "../frontend/log_heads.ts";
import type { HttpStream, HttpTxn } from "../http/http_txn.ts";
import type { ConnLimit } from "../listener/listener.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { SF_ERR_LOCAL, SF_ERR_NONE, SF_REDISP } from "../stream/stream_types.ts";
import { LogBuf } from "../log/log_buf.ts";
import { connCtxOf, type LogFmtCtx, logFormatWrite } from "../log/log_format.ts";
import type { LogSdWriter } from "../log/log_header.ts";
import type { Loggers } from "../log/loggers.ts";
import { formatHttpLogJson, httpLogRecord, writeHttpLog } from "../log/httplog.ts";
import { formatTcpLogJson, tcpLogRecord, writeTcpLog } from "../log/tcplog.ts";

const SEV_ERR = 3;
const SEV_INFO = 6;

/**
 * An error for `option log-separate-errors` (HAProxy's strm_log()): a
 * redispatch, an end other than a clean or local one, retries, or a 5xx.
 */
function isError(strm: HttpStream, txn: HttpTxn | null): boolean {
  const cause = txn !== null ? txn.termCause : strm.termCause;
  return (strm.flags & SF_REDISP) !== 0 || (cause !== SF_ERR_NONE && cause !== SF_ERR_LOCAL) ||
    (cause === SF_ERR_NONE && strm.scb.connRetries > 0) || (txn !== null && txn.status >= 500);
}

/** A log-format context to be filled for each line (one per writer, reused). */
function fmtCtx(process: ConnLimit): LogFmtCtx {
  return {
    strm: null as unknown as HttpStream,
    txn: null,
    fe: null as unknown as Frontend,
    process,
    now: 0,
    lc: 0,
    uid: 0,
    id: null,
    acl: null,
  };
}

/** The access logger of frontend `f` writing to `loggers`, or null when it has none. */
export function accessLogger(
  f: ResolvedFrontend,
  loggers: Loggers,
  opts: { json: boolean; process: ConnLimit; sched: Scheduler },
): StreamLogger | null {
  if (loggers.sinks.length === 0) return null;
  const { json, process, sched } = opts;
  const l = f.log;
  const format = l.format;
  let count = 0;
  const ctx = fmtCtx(process);
  const idFormat = l.uniqueId;
  const sdFormat = l.sd;
  const sd: LogSdWriter | null = sdFormat === null
    ? null
    : (out) => logFormatWrite(out, sdFormat, ctx);
  return (strm, fe) => {
    const txn = strm.txn;
    // option dontlognull: nothing came from the client (for this request).
    if (l.dontLogNull && strm.req.total - (txn !== null ? txn.reqTotal0 : 0) === 0) return;
    const sev = l.separateErrors && isError(strm, txn) ? SEV_ERR : SEV_INFO;
    if (json) {
      if (!loggers.wants(sev)) return;
      if (txn !== null) {
        const { rec, date } = httpLogRecord(strm, txn, fe, process, sched.now);
        loggers.write(formatHttpLogJson(rec, date), sev);
      } else {
        loggers.write(formatTcpLogJson(tcpLogRecord(strm, fe, process), strm.acceptDate), sev);
      }
      count++;
      return;
    }
    ctx.strm = strm;
    ctx.txn = txn;
    ctx.fe = fe;
    ctx.now = sched.now;
    ctx.lc = count;
    ctx.uid = 0;
    ctx.id = null;
    // A stream without an id yet (TCP, a bad request) gets it now, as HAProxy's strm_log().
    if (idFormat !== null && (txn === null || txn.uniqueId === null)) {
      ctx.acl = connCtxOf(ctx);
      ctx.id = idText(idFormat, ctx);
      ctx.acl = null;
    }
    // Text lines are formatted in place into the sink's batch.
    const out = loggers.begin(sev, sd);
    if (out === null) return;
    if (format !== null) logFormatWrite(out, format, ctx);
    else if (txn !== null) writeHttpLog(out, strm, txn, fe, process, ctx.now);
    else writeTcpLog(out, strm, fe, process);
    loggers.end(out);
    count++;
  };
}

/** What frontend `f` keeps of HTTP heads for its log, or null when nothing. */
export function logHeadsOf(
  f: ResolvedFrontend,
  process: ConnLimit,
  sched: Scheduler,
): LogHeads | null {
  const l = f.log;
  if (f.mode !== "http") return null;
  const idFormat = l.uniqueId;
  if (
    l.captureRequest.length + l.captureResponse.length + l.slots.req.length +
          l.slots.res.length === 0 && idFormat === null
  ) return null;
  let uniqueId: LogHeads["uniqueId"] = null;
  if (idFormat !== null) {
    const ctx = fmtCtx(process);
    uniqueId = (strm, acl) => {
      ctx.strm = strm;
      ctx.txn = strm.txn;
      ctx.fe = strm.fe as Frontend;
      ctx.now = sched.now;
      ctx.acl = acl;
      return idText(idFormat, ctx);
    };
  }
  return {
    reqHdrs: l.captureRequest,
    resHdrs: l.captureResponse,
    reqFetches: l.slots.req,
    resFetches: l.slots.res,
    uniqueId,
    uniqueIdHeader: l.uniqueIdHeader,
  };
}

/** Unique ids are formatted here (bounded as a header value). */
const ID_BUF = new LogBuf(256, 8192);

/** The text of a unique id. */
function idText(f: NonNullable<ResolvedFrontend["log"]["uniqueId"]>, ctx: LogFmtCtx): string {
  ID_BUF.n = 0;
  ID_BUF.over = false;
  logFormatWrite(ID_BUF, f, ctx);
  // Only visible ASCII and spaces may go into a header value.
  return ID_BUF.text().replace(/[^\x20-\x7e]/g, "");
}
