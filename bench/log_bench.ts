/**
 * What formatting one access-log line costs: the httplog line as a template
 * string encoded with TextEncoder (how sluice wrote it before, and how JSON
 * logs and tests still build it) against the same fields written as bytes
 * into a reused LogBuf (`writeHttpLog`, what the sink writes now). Both
 * produce the same bytes (checked once below). The per-second date cache is
 * part of the second.
 *
 *     deno bench bench/log_bench.ts
 */
import { formatHttpLog, type HttpLogRecord, writeClient } from "../lib/log/httplog.ts";
import { LogBuf } from "../lib/log/log_buf.ts";
import {
  HTTPLOG_FORMAT,
  type LogFmtCtx,
  logFormatCompile,
  logFormatWrite,
  urlPart,
} from "../lib/log/log_format.ts";
import { writeHttpLog } from "../lib/log/httplog.ts";
import { HttpTxn } from "../lib/http/http_txn.ts";
import type { Frontend } from "../lib/frontend/frontend.ts";
import type { ConnLimit } from "../lib/listener/listener.ts";
import type { Stream } from "../lib/stream/stream.ts";
import { logDateInto } from "../lib/log/logdate.ts";

const rec: HttpLogRecord = {
  client: "127.0.0.1",
  client_port: 51234,
  request_date: "",
  frontend: "fe_main",
  backend: "be_app",
  server: "s1",
  tr: 0,
  tw: 0,
  tc: 0,
  tr_server: 1,
  ta: 1,
  status: 200,
  bytes_out: 265,
  bytes_in: 78,
  termination_state: "----",
  actconn: 64,
  feconn: 64,
  beconn: 64,
  srv_conn: 64,
  retries: 0,
  srv_queue: 0,
  backend_queue: 0,
  http_request: "GET /api/v1/items?page=2 HTTP/1.1",
};
const reqLine = new TextEncoder().encode(rec.http_request);
const date = Date.now();
const enc = new TextEncoder();
const out = new LogBuf(1 << 16, 1 << 20);

/** The fields of `rec` in the order writeHttpLog writes them from a stream. */
function writeLine(b: LogBuf, r: HttpLogRecord): void {
  writeClient(b, r.client, r.client_port);
  b.str(" [");
  logDateInto(b, date);
  b.str("] ");
  b.str(r.frontend);
  b.ch(0x20);
  b.str(r.backend);
  b.ch(0x2f);
  b.str(r.server);
  b.ch(0x20);
  b.int(r.tr);
  b.ch(0x2f);
  b.int(r.tw);
  b.ch(0x2f);
  b.int(r.tc);
  b.ch(0x2f);
  b.int(r.tr_server);
  b.ch(0x2f);
  b.int(r.ta);
  b.ch(0x20);
  b.int(r.status);
  b.ch(0x20);
  b.int(r.bytes_out);
  b.str(" - - ");
  b.str(r.termination_state);
  b.ch(0x20);
  b.int(r.actconn);
  b.ch(0x2f);
  b.int(r.feconn);
  b.ch(0x2f);
  b.int(r.beconn);
  b.ch(0x2f);
  b.int(r.srv_conn);
  b.ch(0x2f);
  b.int(r.retries);
  b.ch(0x20);
  b.int(r.srv_queue);
  b.ch(0x2f);
  b.int(r.backend_queue);
  b.ch(0x20);
  urlPart(b, reqLine, 0, reqLine.length, 1);
}

// Same bytes both ways, or the comparison means nothing.
writeLine(out, rec);
const viaString = formatHttpLog(rec, date);
const viaBytes = new TextDecoder().decode(out.a.subarray(0, out.n));
if (viaString !== viaBytes) throw new Error(`log_bench: lines differ:\n${viaString}\n${viaBytes}`);

let sink = 0;
Deno.bench({
  name: "httplog line: template string + TextEncoder",
  group: "log",
  baseline: true,
}, () => {
  sink += enc.encode(formatHttpLog(rec, date) + "\n").length;
});
Deno.bench({ name: "httplog line: bytes into a reused LogBuf", group: "log" }, () => {
  if (out.n > 60_000) out.n = 0;
  writeLine(out, rec);
  out.ch(0x0a);
  sink += out.n;
});

// The same line from a stream: sluice's httplog writer against HAProxy's
// httplog string compiled as a log-format (what `log-format` lines cost).
const txn = new HttpTxn(10);
txn.next(1000, 0, 0);
txn.tStart = 1001;
txn.tHead = 1001;
txn.tResHead = 1002;
txn.status = 200;
txn.setReqLine(reqLine, 0, reqLine.length);
const strm = {
  cliAddr: "127.0.0.1",
  cliPort: 51234,
  feAddr: "127.0.0.1",
  fePort: 8080,
  cliTls: false,
  acceptDate: date,
  tAccept: 1000,
  tQueue: -1,
  tDequeue: -1,
  tConnStart: 1001,
  tConnEnd: 1001,
  tEnd: -1,
  srvQueuePos: 0,
  beQueuePos: 0,
  be: { name: "be_app", counters: { scur: 64 } },
  target: { name: "s1", cur: 64 },
  scb: { connRetries: 0 },
  req: { total: 78 },
  res: { total: 265, fwd: 265 },
  flags: 0,
  txn,
} as unknown as Stream;
const fe = { name: "fe_main", limit: { cur: 64 }, logCaptures: [0, 0] } as unknown as Frontend;
const process = { cur: 64 } as unknown as ConnLimit;
const compiled = logFormatCompile(HTTPLOG_FORMAT, { http: true, mandatory: true, inline: false });
if (typeof compiled === "string") throw new Error(compiled);
const ctx: LogFmtCtx = {
  strm,
  txn,
  fe,
  process,
  now: 1003,
  lc: 0,
  uid: 0,
  id: null,
  acl: null,
};
Deno.bench(
  { name: "httplog from a stream: writeHttpLog()", group: "stream", baseline: true },
  () => {
    if (out.n > 60_000) out.n = 0;
    writeHttpLog(out, strm, txn, fe, process, 1003);
    sink += out.n;
  },
);
Deno.bench({ name: "httplog from a stream: compiled log-format", group: "stream" }, () => {
  if (out.n > 60_000) out.n = 0;
  logFormatWrite(out, compiled, ctx);
  sink += out.n;
});
