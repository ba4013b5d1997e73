/**
 * The per-connection log line of TCP mode, modelled on HAProxy's `tcplog`:
 *
 *     client:port [date] frontend backend/server Tw/Tc/Tt bytes_out ts ac/fc/bc/sc/rc sq/bq
 *
 * `Tw` is the time spent in queues, `Tc` the time to connect to the server
 * (-1 if never connected), `Tt` the total time, in ms. `bytes_out` are bytes
 * sent to the client (HAProxy's %B; JSON lines also have `bytes_in`, %U).
 * HAProxy's `option tcplog` log-format (log_format.ts's TCPLOG_FORMAT),
 * written field by field for speed.
 * `ts` is the two-letter termination state. Then the connection counts at the
 * end (process, frontend, backend, server, retries) and the queue lengths.
 *
 * @module
 */
import type { Backend } from "../backend/backend.ts";
import type { Frontend } from "../frontend/frontend.ts";
import type { Server } from "../backend/server.ts";
import { tickSpan } from "../core/time.ts";
import type { ConnLimit } from "../listener/listener.ts";
import { type Stream, streamTermState } from "../stream/stream.ts";
import type { LogBuf } from "./log_buf.ts";
import { logDate, logDateInto } from "./logdate.ts";
import { writeClient } from "./httplog.ts";

/** The fields of one TCP log record. */
export interface TcpLogRecord {
  client: string;
  client_port: number;
  accept_date: string;
  frontend: string;
  backend: string;
  server: string;
  tw: number;
  tc: number;
  tt: number;
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
}

/** Collects the log fields of an ended stream. */
export function tcpLogRecord(
  strm: Stream,
  fe: Frontend,
  process: ConnLimit,
): TcpLogRecord {
  const srv = strm.target as Server | null;
  const tw = strm.tQueue < 0
    ? (strm.tConnStart < 0 ? -1 : 0)
    : tickSpan(strm.tQueue, strm.tDequeue < 0 ? strm.tEnd : strm.tDequeue);
  return {
    client: strm.cliAddr,
    client_port: strm.cliPort,
    accept_date: "",
    frontend: fe.name,
    backend: strm.be.name,
    server: srv === null ? "<NOSRV>" : srv.name,
    tw,
    tc: strm.tConnEnd < 0 ? -1 : tickSpan(strm.tConnStart, strm.tConnEnd),
    tt: tickSpan(strm.tAccept, strm.tEnd),
    bytes_out: strm.res.total,
    bytes_in: strm.req.total,
    termination_state: streamTermState(strm),
    actconn: process.total,
    feconn: fe.limit.total,
    beconn: (strm.be as Backend).counters.scur,
    srv_conn: srv === null ? 0 : srv.cur,
    retries: strm.scb.connRetries,
    srv_queue: strm.srvQueuePos,
    backend_queue: strm.beQueuePos,
  };
}

/**
 * Writes the tcplog line of an ended stream into `out`, straight from the
 * stream: the same bytes as `formatTcpLog(tcpLogRecord(…))`.
 */
export function writeTcpLog(out: LogBuf, strm: Stream, fe: Frontend, process: ConnLimit): void {
  const srv = strm.target as Server | null;
  writeClient(out, strm.cliAddr, strm.cliPort);
  out.str(" [");
  logDateInto(out, strm.acceptDate);
  out.str("] ");
  out.str(fe.name);
  // HAProxy's %ft: a "~" after the name of a frontend terminating TLS.
  if (strm.cliTls) out.ch(0x7e);
  out.ch(0x20);
  out.str(strm.be.name);
  out.ch(0x2f);
  out.str(srv === null ? "<NOSRV>" : srv.name);
  out.ch(0x20);
  out.int(
    strm.tQueue < 0
      ? (strm.tConnStart < 0 ? -1 : 0)
      : tickSpan(strm.tQueue, strm.tDequeue < 0 ? strm.tEnd : strm.tDequeue),
  );
  out.ch(0x2f);
  out.int(strm.tConnEnd < 0 ? -1 : tickSpan(strm.tConnStart, strm.tConnEnd));
  out.ch(0x2f);
  out.int(tickSpan(strm.tAccept, strm.tEnd));
  out.ch(0x20);
  out.int(strm.res.total);
  out.ch(0x20);
  out.str(streamTermState(strm));
  out.ch(0x20);
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
}

/** Formats a record as a tcplog text line. */
export function formatTcpLog(r: TcpLogRecord, acceptDate: number): string {
  const client = r.client.includes(":") ? `[${r.client}]` : r.client;
  return `${client}:${r.client_port} [${logDate(acceptDate)}] ${r.frontend} ` +
    `${r.backend}/${r.server} ${r.tw}/${r.tc}/${r.tt} ${r.bytes_out} ` +
    `${r.termination_state} ${r.actconn}/${r.feconn}/` +
    `${r.beconn}/${r.srv_conn}/${r.retries} ${r.srv_queue}/${r.backend_queue}`;
}

/** Formats a record as one JSON object. */
export function formatTcpLogJson(r: TcpLogRecord, acceptDate: number): string {
  return JSON.stringify({ ...r, accept_date: new Date(acceptDate).toISOString() });
}
