/**
 * log-format strings: HAProxy's httplog and tcplog strings compiled by
 * logFormatCompile() write the same bytes as sluice's own writers (on a
 * stream built by hand), flags and separators behave as HAProxy's
 * sess_build_logline(), and the headers of log_header.ts are HAProxy's.
 */
import assert from "node:assert/strict";
import type { Frontend } from "../../lib/frontend/frontend.ts";
import { HttpTxn } from "../../lib/http/http_txn.ts";
import type { ConnLimit } from "../../lib/listener/listener.ts";
import { LogBuf } from "../../lib/log/log_buf.ts";
import {
  HTTPLOG_FORMAT,
  type LogFmtCtx,
  logFormatCompile,
  type LogFormatOptions,
  logFormatWrite,
  TCPLOG_FORMAT,
} from "../../lib/log/log_format.ts";
import { logHeaderInto } from "../../lib/log/log_header.ts";
import { writeHttpLog } from "../../lib/log/httplog.ts";
import { writeTcpLog } from "../../lib/log/tcplog.ts";
import type { Stream } from "../../lib/stream/stream.ts";

const ENC = new TextEncoder();

/** A stream at its end, as the log sees it: plain fields, nothing running. */
function fakeStream(txn: HttpTxn | null) {
  const srv = { name: "s1", cur: 4, addr: { kind: "tcp", host: "10.0.0.9", port: 8080 } };
  return {
    cliAddr: "192.168.1.20",
    cliPort: 51234,
    feAddr: "10.0.0.1",
    fePort: 443,
    cliTls: true,
    acceptDate: Date.UTC(2026, 10, 22, 10, 2, 36, 788),
    tAccept: 1000,
    tQueue: 1010,
    tDequeue: 1013,
    tConnStart: 1013,
    tConnEnd: 1015,
    tEnd: 1200,
    termCause: 4,
    termPhase: 5,
    srvQueuePos: 1,
    beQueuePos: 2,
    be: { name: "be", counters: { scur: 3 } },
    target: srv,
    scb: { connRetries: 1 },
    req: { total: 77 },
    res: { total: 1234, fwd: 1234 },
    flags: 0,
    txn,
  } as unknown as Stream;
}

const fe = { name: "fe", limit: { cur: 5, total: 5 }, logCaptures: [2, 1] } as unknown as Frontend;
const process = { cur: 9, total: 9 } as unknown as ConnLimit;

function fakeTxn(): HttpTxn {
  const txn = new HttpTxn(10);
  txn.next(1000, 0, 0);
  txn.tStart = 1002;
  txn.tHead = 1008;
  txn.tResHead = 1030;
  txn.status = 200;
  txn.resFwd0 = 34;
  txn.reqTotal0 = 7;
  const line = ENC.encode('GET /a?b="c"#d HTTP/1.1');
  txn.setReqLine(line, 0, line.length);
  txn.reqLog = ["example.com", null];
  txn.resLog = ["text/html|x"];
  txn.uniqueId = "ID-1";
  txn.termCause = 4; // S
  txn.termPhase = 5; // D
  return txn;
}

function ctxOf(strm: Stream, f: Frontend): LogFmtCtx {
  return {
    strm,
    txn: strm.txn as HttpTxn | null,
    fe: f,
    process,
    now: 1100,
    lc: 3,
    uid: 0,
    id: null,
    acl: null,
  };
}

/** A frontend without captures. */
const bare = {
  name: "fe",
  limit: { cur: 5, total: 5 },
  logCaptures: [0, 0],
} as unknown as Frontend;

function line(
  fmt: string,
  strm: Stream,
  opts: Partial<LogFormatOptions> = {},
  f: Frontend = fe,
): string {
  const compiled = logFormatCompile(fmt, {
    http: strm.txn !== null,
    mandatory: true,
    inline: false,
    slots: { reqCaptures: 2, resCaptures: 1, req: [], res: [] },
    ...opts,
  });
  if (typeof compiled === "string") throw new Error(compiled);
  const out = new LogBuf(256, 1 << 16);
  logFormatWrite(out, compiled, ctxOf(strm, f));
  return out.text();
}

Deno.test("HAProxy's httplog string writes what writeHttpLog() writes, captures and encoding included", () => {
  const strm = fakeStream(fakeTxn());
  const out = new LogBuf(256, 1 << 16);
  writeHttpLog(out, strm, strm.txn as HttpTxn, fe, process, 1100);
  const fast = out.text();
  assert.equal(line(HTTPLOG_FORMAT, strm), fast);
  assert.match(
    fast,
    /^192\.168\.1\.20:51234 \[\d\d\/Nov\/2026:\d\d:02:36\.790\] fe~ be\/s1 6\/3\/2\/15\/98 200 1200 - - SD-- 9\/5\/3\/4\/1 1\/2 \{example\.com\|\} \{text\/html#7Cx\} "GET \/a\?b=#22c#22#23d HTTP\/1\.1"$/,
  );
});

Deno.test("HAProxy's tcplog string writes what writeTcpLog() writes", () => {
  const strm = fakeStream(null);
  const out = new LogBuf(256, 1 << 16);
  writeTcpLog(out, strm, bare, process);
  assert.equal(line(TCPLOG_FORMAT, strm, {}, bare), out.text());
});

Deno.test("log-format: flags, %o, separators, samples' slots and HTTP request parts", () => {
  const strm = fakeStream(fakeTxn());
  assert.equal(line("%{+Q}o %b %s %ST", strm), '"be" "s1" 200');
  assert.equal(line("%{+X}ci:%{+X}cp %{+X}fi:%{+X}fp", strm), "C0A80114:C822 0A000001:01BB");
  assert.equal(
    line("%HM|%HU|%HP|%HPO|%HQ|%HV", strm),
    "GET|/a?b=#22c#22#23d|/a|/a|?b=#22c#22#23d|HTTP/1.1",
  );
  assert.equal(line("%hrl %{+Q}hsl", strm), 'example.com - "text/html#7Cx"');
  // Spaces separate: runs are one, and none follows a field that wrote nothing.
  assert.equal(line("a   b  %hr %hs", fakeStream(null), { http: false }, bare), "a b ");
  assert.equal(
    line("%ID %{+Q}ID %si:%sp %Ti %Tq %Th %Tw %Tc %Tr %Td %Ta %Tt %Tu", strm),
    'ID-1 "ID-1" 10.0.0.9:8080 2 8 0 3 2 15 70 98 100 98',
  );
  assert.equal(
    line("%lc %ts %tsc %{+E}r 100%%", strm),
    "3 SD SD-- GET /a?b=#22c#22#23d HTTP/1.1 100%",
  );
  // Empty values: "-" by default, nothing without M, "" quoted.
  const noSrv = fakeStream(null);
  (noSrv as unknown as { target: null }).target = null;
  assert.equal(line("%s %si %{-M}si| %{+Q}si", noSrv, { http: false }), '<NOSRV> - | ""');
});

Deno.test("log-format: a sample ends at its own ]: brackets in quotes or nested do not end it", () => {
  const opts = { http: true, mandatory: true, inline: true };
  assert.equal(typeof logFormatCompile("%[path,regsub('[?;&]*','')] x", opts), "object");
  assert.equal(typeof logFormatCompile("%[path,regsub([ab],x)]", opts), "object");
  assert.match(String(logFormatCompile("%[path,regsub([ab],x)", opts)), /missing "\]"/);
});

Deno.test("log headers: each format's bytes before the line", () => {
  const at = Date.UTC(2026, 10, 22, 10, 2, 36, 788);
  const head = (format: Parameters<typeof logHeaderInto>[1]["format"], sev = 6) => {
    const b = new LogBuf(64, 1024);
    logHeaderInto(b, { format, facility: 16, host: "h1" }, sev, at, (o) => o.str('[x@1 a="1"] '));
    return b.text();
  };
  assert.equal(head("raw"), "");
  assert.equal(head("priority"), "<134>");
  assert.equal(head("short", 3), "<3>");
  assert.equal(head("iso"), "2026-11-22T10:02:36.788Z ");
  assert.equal(head("timed", 5), "<5>2026-11-22T10:02:36.788Z ");
  assert.equal(
    head("rfc5424"),
    `<134>1 2026-11-22T10:02:36.788Z h1 sluice ${Deno.pid} - [x@1 a="1"] `,
  );
  const legacy = "[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:36";
  assert.match(head("local"), new RegExp(`^<134>${legacy} sluice\\[${Deno.pid}\\]: $`));
  assert.match(head("rfc3164"), new RegExp(`^<134>${legacy} h1 sluice\\[${Deno.pid}\\]: $`));
});
