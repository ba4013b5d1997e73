/**
 * The TCP access log: HAProxy's date format, the tcplog line and its JSON
 * form, from hand-made records.
 */
import assert from "node:assert/strict";
import { logDate } from "../../lib/log/logdate.ts";
import { formatTcpLog, formatTcpLogJson, type TcpLogRecord } from "../../lib/log/tcplog.ts";

/** Epoch ms of a local date and time (logDate prints local time). */
function local(y: number, mon: number, d: number, h: number, m: number, s: number, ms: number) {
  return new Date(y, mon - 1, d, h, m, s, ms).getTime();
}

/** A record with every field distinct, so a swapped field shows. */
function record(over: Partial<TcpLogRecord> = {}): TcpLogRecord {
  return {
    client: "192.0.2.10",
    client_port: 51234,
    accept_date: "",
    frontend: "fe_main",
    backend: "be_app",
    server: "srv2",
    tw: 3,
    tc: 14,
    tt: 1530,
    bytes_out: 40960,
    bytes_in: 512,
    termination_state: "--",
    actconn: 21,
    feconn: 20,
    beconn: 19,
    srv_conn: 7,
    retries: 1,
    srv_queue: 4,
    backend_queue: 5,
    ...over,
  };
}

const FIELDS = [
  "client",
  "client_port",
  "accept_date",
  "frontend",
  "backend",
  "server",
  "tw",
  "tc",
  "tt",
  "bytes_out",
  "bytes_in",
  "termination_state",
  "actconn",
  "feconn",
  "beconn",
  "srv_conn",
  "retries",
  "srv_queue",
  "backend_queue",
];

Deno.test("logDate() prints dd/Mon/yyyy:HH:MM:SS.mmm in local time", () => {
  assert.equal(logDate(local(2026, 11, 22, 7, 40, 15, 123)), "22/Nov/2026:07:40:15.123");
});

Deno.test("logDate() zero-pads every field to its width", () => {
  assert.equal(logDate(local(2026, 1, 5, 3, 4, 5, 7)), "05/Jan/2026:03:04:05.007");
  assert.equal(logDate(local(1999, 12, 31, 23, 59, 59, 999)), "31/Dec/1999:23:59:59.999");
  assert.equal(logDate(local(2030, 6, 1, 0, 0, 0, 0)), "01/Jun/2030:00:00:00.000");
  assert.match(logDate(Date.now()), /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3}$/);
});

Deno.test("logDate() uses the English three-letter month names", () => {
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  months.forEach((name, i) => {
    assert.equal(logDate(local(2026, i + 1, 15, 12, 0, 0, 0)).slice(3, 6), name);
  });
});

Deno.test("formatTcpLog() writes the fields in the documented tcplog order", () => {
  const at = local(2026, 11, 22, 7, 40, 15, 123);
  assert.equal(
    formatTcpLog(record(), at),
    "192.0.2.10:51234 [22/Nov/2026:07:40:15.123] fe_main be_app/srv2 3/14/1530 40960 -- " +
      "21/20/19/7/1 4/5",
  );
});

Deno.test("formatTcpLog() puts an IPv6 client in brackets before its port", () => {
  const at = local(2026, 3, 9, 18, 5, 0, 42);
  const line = formatTcpLog(record({ client: "2001:db8::7", client_port: 443 }), at);
  assert.ok(line.startsWith("[2001:db8::7]:443 [09/Mar/2026:18:05:00.042] fe_main "), line);
});

Deno.test("formatTcpLog() shows a stream that never reached a server", () => {
  const at = local(2026, 11, 22, 7, 40, 15, 123);
  const line = formatTcpLog(
    record({
      server: "<NOSRV>",
      tw: 0,
      tc: -1,
      tt: 5001,
      bytes_out: 0,
      bytes_in: 0,
      termination_state: "sC",
      srv_conn: 0,
      retries: 3,
      srv_queue: 0,
      backend_queue: 0,
    }),
    at,
  );
  assert.equal(
    line,
    "192.0.2.10:51234 [22/Nov/2026:07:40:15.123] fe_main be_app/<NOSRV> 0/-1/5001 0 sC " +
      "21/20/19/0/3 0/0",
  );
});

Deno.test("formatTcpLog() output splits into HAProxy's 9 space-separated tcplog fields", () => {
  const line = formatTcpLog(record(), local(2026, 11, 22, 7, 40, 15, 123));
  assert.deepEqual(line.split(" "), [
    "192.0.2.10:51234", // client:port
    "[22/Nov/2026:07:40:15.123]", // [date]
    "fe_main", // frontend
    "be_app/srv2", // backend/server
    "3/14/1530", // Tw/Tc/Tt
    "40960", // bytes_out
    "--", // ts
    "21/20/19/7/1", // ac/fc/bc/sc/rc
    "4/5", // sq/bq
  ]);
});

Deno.test("formatTcpLogJson() writes one JSON object with every field and an ISO accept_date", () => {
  const at = Date.UTC(2026, 10, 22, 7, 40, 15, 123);
  const text = formatTcpLogJson(record(), at);
  assert.ok(!text.includes("\n"), "one line");
  const obj = JSON.parse(text);
  assert.deepEqual(Object.keys(obj), FIELDS, "the same fields, in record order");
  assert.equal(obj.accept_date, "2026-11-22T07:40:15.123Z");
  assert.deepEqual(obj, { ...record(), accept_date: "2026-11-22T07:40:15.123Z" });
  assert.equal(typeof obj.client_port, "number");
  assert.equal(typeof obj.tc, "number");
});

Deno.test("formatTcpLogJson() keeps an IPv6 client bare and escapes odd names", () => {
  const at = Date.UTC(2026, 0, 1, 0, 0, 0, 0);
  const obj = JSON.parse(
    formatTcpLogJson(record({ client: "::1", server: "<NOSRV>", frontend: 'fe"x' }), at),
  );
  assert.equal(obj.client, "::1", "no brackets in JSON: the port has its own field");
  assert.equal(obj.server, "<NOSRV>");
  assert.equal(obj.frontend, 'fe"x');
  assert.equal(obj.accept_date, "2026-01-01T00:00:00.000Z");
});

Deno.test("formatTcpLog() and formatTcpLogJson() carry the same values", () => {
  const at = local(2026, 11, 22, 7, 40, 15, 123);
  const r = record();
  const line = formatTcpLog(r, at);
  const obj = JSON.parse(formatTcpLogJson(record(), at));
  const expected = `${obj.client}:${obj.client_port} [${logDate(Date.parse(obj.accept_date))}] ` +
    `${obj.frontend} ${obj.backend}/${obj.server} ${obj.tw}/${obj.tc}/${obj.tt} ` +
    `${obj.bytes_out} ${obj.termination_state} ` +
    `${obj.actconn}/${obj.feconn}/${obj.beconn}/${obj.srv_conn}/${obj.retries} ` +
    `${obj.srv_queue}/${obj.backend_queue}`;
  assert.equal(line, expected);
});
