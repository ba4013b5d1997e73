/**
 * HAProxy's log-format strings (`log-format`, `log-format-sd`,
 * `unique-id-format`): `%ci:%cp [%tr] %ft %b/%s ... %{+Q}r`, compiled once
 * into a list of writers that format a line straight into a LogBuf.
 *
 * Syntax (HAProxy 2.6, section 8.2.6): `%name` variables, `%{+Q,-X}name`
 * with flags (Q quotes a string, X writes addresses, ports and counters in
 * hexadecimal, E escapes `"`, `\` and `]` for RFC 5424 structured data, M
 * writes `-` for an empty value), `%o` setting the flags of every variable
 * after it, `%[fetch]` samples (the ACL fetches), `%%` a literal `%`.
 * Spaces separate fields: a run of them is one space, and none is written
 * after a field that wrote nothing.
 *
 * When samples are taken: in HTTP mode, a fetch that needs the request head
 * is taken once the `http-request` rules have run (variables they set are
 * seen), one that needs the response head once the `http-response` rules
 * have run; each is kept as text in the transaction (`reqLog`/`resLog`
 * slots) until the line is written. Connection fetches (`src`, `dst`...)
 * are taken when the line is written. `unique-id-format` samples are all
 * taken when the id is made (on the request head).
 *
 * Values are written as HAProxy does: request line parts with `"`, `#`
 * and bytes outside 0x20-0x7e as `#XX`, captured headers also with `{|}`;
 * unlike HAProxy, control bytes of other strings (samples) are written as
 * `#XX` too, so that a line never breaks.
 *
 * @module
 */
import { frontendHit, noServerName } from "../http/cache_txn.ts";
import type { Backend } from "../backend/backend.ts";
import type { Server } from "../backend/server.ts";
import { tickSpan } from "../core/time.ts";
import type { Frontend } from "../frontend/frontend.ts";
import { sampleText } from "../frontend/log_heads.ts";
import { HttpMsg } from "../http/h1_types.ts";
import { type HttpTxn, reqCountNext } from "../http/http_txn.ts";
import type { ConnLimit } from "../listener/listener.ts";
import { aclFetchParse } from "../rules/acl_fetch.ts";
import { sampleEnd } from "../rules/act_template.ts";
import { type AclCtx, type AclFetch, SMP_USE_CONN, SMP_USE_REQ } from "../rules/acl_types.ts";
import { type Stream, streamTermState } from "../stream/stream.ts";
import { SF_ERR_CHARS, SF_FINST_CHARS } from "../stream/stream_types.ts";
import { ipv4Put, ipv6Put } from "../core/ip_bytes.ts";
import type { LogBuf } from "./log_buf.ts";
import { logDateInto } from "./logdate.ts";
import { hostName } from "./sink.ts";

/** What a line is made of: the stream at its end (or at its request head, for a unique id). */
export interface LogFmtCtx {
  strm: Stream;
  /** The HTTP transaction, null in TCP mode. */
  txn: HttpTxn | null;
  fe: Frontend;
  process: ConnLimit;
  /** The scheduler's tick now. */
  now: number;
  /** Lines this frontend logged before this one (`%lc`). */
  lc: number;
  /** `%rt` of a TCP stream, taken on first use (0: not yet). */
  uid: number;
  /** The unique id when the transaction has none (a TCP stream, a bad request), or null. */
  id: string | null;
  /**
   * The request head's rule context, when making a unique id (its samples
   * are taken from it); null when writing a log line.
   */
  acl: AclCtx | null;
}

/** Writes one field; false when it wrote nothing that ends a run of spaces. */
type Writer = (out: LogBuf, c: LogFmtCtx) => boolean;

/** A compiled log-format string. */
export interface LogFormat {
  /** The string as written. */
  readonly text: string;
  /** Fields in order; null is a separator (one space, see the module doc). */
  readonly nodes: readonly (Writer | null)[];
}

/**
 * Where a log-format's samples are kept between the request head and the
 * line: the fetches to take on the request head (after the `http-request`
 * rules) and on the response head, each writing one slot of the
 * transaction's `reqLog`/`resLog` after the header captures.
 */
export interface LogSlots {
  /** Slots before the first sample: `capture request header` values. */
  readonly reqCaptures: number;
  readonly resCaptures: number;
  readonly req: AclFetch[];
  readonly res: AclFetch[];
}

/** How a string is compiled. */
export interface LogFormatOptions {
  /** The frontend is in HTTP mode (HTTP-only variables and samples are allowed). */
  http: boolean;
  /** Empty values are written `-` (log lines; not unique ids). */
  mandatory: boolean;
  /**
   * Samples are taken when the line is written, from `LogFmtCtx.acl`
   * (unique ids); otherwise request and response samples go to `slots`.
   */
  inline: boolean;
  /** Where request and response samples are kept (log lines in HTTP mode). */
  slots?: LogSlots;
}

const O_QUOTE = 1;
const O_HEX = 2;
const O_ESC = 4;
const O_MAND = 8;
/** Samples of a unique id: control bytes as `%XX` (HAProxy's LOG_OPT_HTTP). */
const O_HTTP = 16;

const FLAG_BITS: Record<string, number> = { Q: O_QUOTE, X: O_HEX, E: O_ESC, M: O_MAND };

/** Bytes written as `#XX` in request line parts: `"`, `#`, and outside 0x20-0x7e. */
const URL_MAP = new Uint8Array(256);
/** The same for captured headers, with `{`, `|` and `}`. */
const HDR_MAP = new Uint8Array(256);
/** Control bytes: what no text field may carry into a line. */
const CTL_MAP = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ctl = c < 0x20 || c === 0x7f;
  if (ctl) CTL_MAP[c] = 1;
  if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x23) URL_MAP[c] = HDR_MAP[c] = 1;
  if (c === 0x7b || c === 0x7c || c === 0x7d) HDR_MAP[c] = 1;
}

/** A Latin-1 string as bytes, in a buffer reused for each value. */
let strBuf = new Uint8Array(256);
function latin1(s: string): number {
  if (strBuf.length < s.length) strBuf = new Uint8Array(Math.max(s.length, 2 * strBuf.length));
  for (let i = 0; i < s.length; i++) strBuf[i] = s.charCodeAt(i) & 0xff;
  return s.length;
}

/** True when `s` is printable ASCII only (names, addresses): written as it is. */
function printable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** A text value as HAProxy's lf_text_len() writes it: quoted, escaped, or `-` when empty. */
function text(out: LogBuf, v: string | null, o: number): void {
  if (o & O_QUOTE) out.ch(0x22);
  if (v !== null && v !== "") {
    if ((o & (O_ESC | O_HTTP)) === 0 && printable(v)) out.str(v);
    else {
      const n = latin1(v);
      out.encoded(strBuf, 0, n, CTL_MAP, (o & O_HTTP) ? 0x25 : 0x23, (o & O_ESC) !== 0);
    }
  } else if ((o & (O_QUOTE | O_MAND)) === O_MAND) out.ch(0x2d);
  if (o & O_QUOTE) out.ch(0x22);
}

/** Bytes of the request line, `#XX`-encoded, quoted with Q (`O_QUOTE`, 1). */
export function urlPart(out: LogBuf, a: Uint8Array, pos: number, len: number, o: number): void {
  if (o & O_QUOTE) out.ch(0x22);
  out.encoded(a, pos, len, URL_MAP, 0x23, (o & O_ESC) !== 0);
  if (o & O_QUOTE) out.ch(0x22);
}

/** Upper-case hexadecimal, at least `width` digits. */
function hex(out: LogBuf, v: number, width: number): void {
  out.str(v.toString(16).toUpperCase().padStart(width, "0"));
}

/** A counter: decimal, or `%04X` with X. */
function counter(out: LogBuf, v: number, o: number): void {
  if (o & O_HEX) hex(out, v, 4);
  else out.int(v);
}

const IP_BYTES = new Uint8Array(16);

/** An address: its text (quoted with Q), or its bytes in hexadecimal with X; `-` when none. */
function ip(out: LogBuf, addr: string, o: number): void {
  if (addr === "" || addr === "unix") return text(out, null, o);
  if (!(o & O_HEX)) return text(out, addr, o);
  const v6 = addr.includes(":");
  if (v6) ipv6Put(IP_BYTES, 0, addr);
  else ipv4Put(IP_BYTES, 0, addr);
  for (let i = 0; i < (v6 ? 16 : 4); i++) hex(out, IP_BYTES[i], 2);
}

/** A port: decimal, or `%04X` with X; `-` for a unix socket. */
function port(out: LogBuf, addr: string, p: number, o: number): void {
  if (addr === "" || addr === "unix") return text(out, null, o);
  if (o & O_HEX) hex(out, p, 4);
  else out.int(p);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const p2 = (n: number) => String(n).padStart(2, "0");

/** `dd/Mon/yyyy:HH:MM:SS +0000` (UTC) or with the local offset (`%T`, `%Tl`). */
function dateZone(out: LogBuf, ms: number, local: boolean): void {
  const d = new Date(ms);
  if (local) {
    const off = -d.getTimezoneOffset();
    const a = Math.abs(off);
    out.str(
      `${p2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p2(d.getHours())}:` +
        `${p2(d.getMinutes())}:${p2(d.getSeconds())} ${off < 0 ? "-" : "+"}${
          p2(Math.floor(a / 60))
        }` +
        p2(a % 60),
    );
  } else {
    out.str(
      `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
        `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`,
    );
  }
}

// -- the stream's timers and dates, as HAProxy's strm_logs ---------------

/** Tick this log's "accept" is counted from: the connection's, or (keep-alive) the end of the previous request. */
function t0(c: LogFmtCtx): number {
  return c.txn !== null ? c.txn.tIdle : c.strm.tAccept;
}

/** Wall-clock date of a tick of the stream. */
function dateOf(c: LogFmtCtx, tick: number): number {
  return c.strm.acceptDate + (tick - c.strm.tAccept);
}

/** %Ti: idle time before the request's first byte (-1 without one; 0 in TCP). */
function tIdle(c: LogFmtCtx): number {
  const txn = c.txn;
  if (txn === null) return 0;
  return txn.tStart < 0 ? -1 : tickSpan(txn.tIdle, txn.tStart);
}

/** Tick the request started (its first byte; the accept without one). */
function reqStart(c: LogFmtCtx): number {
  const txn = c.txn;
  if (txn === null) return c.strm.tAccept;
  return txn.tStart >= 0 ? txn.tStart : txn.tIdle;
}

/** %Tt: total time of the stream (HTTP: of this request, from the end of the previous one). */
function tTotal(c: LogFmtCtx): number {
  return c.txn !== null ? tickSpan(t0(c), c.now) : tickSpan(c.strm.tAccept, c.strm.tEnd);
}

/** %TR: time to receive the request head from its first byte, -1 without one. */
function tReq(c: LogFmtCtx): number {
  const txn = c.txn!;
  return txn.tHead < 0 ? -1 : tickSpan(reqStart(c), txn.tHead);
}

/** %Tw: time in queues. */
function tQueue(c: LogFmtCtx): number {
  const s = c.strm;
  const end = c.txn !== null ? c.now : s.tEnd;
  return s.tQueue < 0
    ? (s.tConnStart < 0 ? -1 : 0)
    : tickSpan(s.tQueue, s.tDequeue < 0 ? end : s.tDequeue);
}

/** %Tc: time to connect, -1 without a connection. */
function tConn(c: LogFmtCtx): number {
  const s = c.strm;
  return s.tConnEnd < 0 ? -1 : tickSpan(s.tConnStart, s.tConnEnd);
}

/** %Tr: time from the request sent to the response head, -1 without one. */
function tRes(c: LogFmtCtx): number {
  const txn = c.txn!;
  const sent = txn.tHead >= 0 ? Math.max(txn.tHead, c.strm.tConnEnd) : -1;
  return txn.tResHead < 0 || sent < 0 ? -1 : tickSpan(sent, txn.tResHead);
}

/** %Ta: active time of the request, from its first byte to the end. */
function tActive(c: LogFmtCtx): number {
  return tickSpan(reqStart(c), c.now);
}

/** %Td: data transfer time (HTTP: after the response head; TCP: after the connect). */
function tData(c: LogFmtCtx): number {
  const txn = c.txn;
  if (txn !== null) return txn.tResHead < 0 ? -1 : tickSpan(txn.tResHead, c.now);
  const s = c.strm;
  return s.tConnEnd < 0 ? -1 : tickSpan(s.tConnEnd, s.tEnd);
}

/** Bytes to the client (%B) and from it (%U), for this request in HTTP. */
function bytesOut(c: LogFmtCtx): number {
  return c.txn !== null ? c.strm.res.fwd - c.txn.resFwd0 : c.strm.res.total;
}
function bytesIn(c: LogFmtCtx): number {
  return c.txn !== null ? c.strm.req.total - c.txn.reqTotal0 : c.strm.req.total;
}

/** Termination state: two letters. */
function termState(c: LogFmtCtx): string {
  const txn = c.txn;
  if (txn === null) return streamTermState(c.strm);
  return SF_ERR_CHARS[txn.termCause] + SF_FINST_CHARS[txn.termPhase];
}

/** The server the stream reached, or null. */
function server(c: LogFmtCtx): Server | null {
  return c.strm.target as Server | null;
}

/** `%b`: the backend, or the frontend when its own cache answered (as HAProxy logs it). */
function backendName(c: LogFmtCtx): string {
  return frontendHit(c.txn?.cache) ? c.fe.name : c.strm.be.name;
}

/** `%rt`: the request's number (a TCP stream takes one when first asked). */
function reqId(c: LogFmtCtx): number {
  if (c.txn !== null) return c.txn.uid;
  if (c.uid === 0) c.uid = reqCountNext();
  return c.uid;
}

// -- the request line's parts (HAProxy's %HM %HU %HP %HPO %HQ %HV) ---------

const BADREQ = new TextEncoder().encode("<BADREQ>");
const HTTP09 = new TextEncoder().encode("HTTP/0.9");

/** True when no request line was parsed ("<BADREQ>", or none at all). */
function badReq(txn: HttpTxn): boolean {
  const n = txn.reqLineLen;
  if (n === 0) return true;
  if (n !== BADREQ.length) return false;
  for (let i = 0; i < n; i++) if (txn.reqLine[i] !== BADREQ[i]) return false;
  return true;
}

/** Offsets in the request line: method end, target start and end, version start; null when unparsable. */
function reqParts(txn: HttpTxn | null): [number, number, number, number] | null {
  if (txn === null || badReq(txn)) return null;
  const a = txn.reqLine, n = txn.reqLineLen;
  let i = 0;
  while (i < n && a[i] !== 0x20 && a[i] !== 0x09) i++;
  const meth = i;
  while (i < n && (a[i] === 0x20 || a[i] === 0x09)) i++;
  if (i === meth) return null;
  const u = i;
  while (i < n && a[i] !== 0x20 && a[i] !== 0x09) i++;
  const ue = i;
  while (i < n && (a[i] === 0x20 || a[i] === 0x09)) i++;
  return [meth, u, ue, i];
}

/** A part of the request line, or "<BADREQ>". */
function reqPart(
  out: LogBuf,
  c: LogFmtCtx,
  o: number,
  pick: (a: Uint8Array, n: number, p: [number, number, number, number]) => [number, number] | null,
): boolean {
  const txn = c.txn;
  const p = reqParts(txn);
  const r = p === null ? null : pick(txn!.reqLine, txn!.reqLineLen, p);
  if (r === null) urlPart(out, BADREQ, 0, BADREQ.length, o);
  else urlPart(out, txn!.reqLine, r[0], r[1] - r[0], o);
  return true;
}

/** The path of a target (origin form, or after the authority of an absolute one), without its query. */
function pathOnly(a: Uint8Array, u: number, ue: number): [number, number] {
  let s = u;
  if (s < ue && a[s] !== 0x2f && a[s] !== 0x2a) {
    // Absolute form: skip "scheme://authority".
    let i = s;
    while (i < ue && a[i] !== 0x3a) i++;
    i += 3;
    while (i < ue && a[i] !== 0x2f && a[i] !== 0x3f) i++;
    s = Math.min(i, ue);
  }
  let e = s;
  while (e < ue && a[e] !== 0x3f) e++;
  return [s, e];
}

// -- captures and samples ----------------------------------------------------

/** `{a|b}` of captured values (`#XX` for `"#{|}` and controls); nothing when none is configured. */
export function captures(
  out: LogBuf,
  list: (string | null)[] | null,
  n: number,
  o: number,
): boolean {
  if (n === 0) return false;
  if (o & O_QUOTE) out.ch(0x22);
  out.ch(0x7b);
  for (let i = 0; i < n; i++) {
    if (i > 0) out.ch(0x7c);
    const v = list?.[i] ?? null;
    if (v !== null) out.encoded(strBuf, 0, latin1(v), HDR_MAP, 0x23, (o & O_ESC) !== 0);
  }
  out.ch(0x7d);
  if (o & O_QUOTE) out.ch(0x22);
  return true;
}

/** Captured values as a list (`%hrl`): space-separated, `-` (or `""` with Q) for a missing one. */
function captureList(out: LogBuf, list: (string | null)[] | null, n: number, o: number): boolean {
  for (let i = 0; i < n; i++) {
    if (i > 0) out.ch(0x20);
    if (o & O_QUOTE) out.ch(0x22);
    const v = list?.[i] ?? null;
    if (v !== null) out.encoded(strBuf, 0, latin1(v), HDR_MAP, 0x23, (o & O_ESC) !== 0);
    else if (!(o & O_QUOTE)) out.ch(0x2d);
    if (o & O_QUOTE) out.ch(0x22);
  }
  return n > 0;
}

/** A rule context of the connection only (a line's connection samples), reused. */
const connCtx: AclCtx = { msg: new HttpMsg(1), a: new Uint8Array(0), base: 0, src: "", sni: null };

/** The connection's rule context of a line (its `src`, `dst`, ports, TLS, variables). */
export function connCtxOf(c: LogFmtCtx): AclCtx {
  const s = c.strm;
  connCtx.src = s.cliAddr;
  connCtx.srcPort = s.cliPort;
  connCtx.dst = s.feAddr;
  connCtx.dstPort = s.fePort;
  connCtx.tls = s.cliTls;
  connCtx.tlsSock = s.cliTls ? (s.scf.conn?.sock ?? s.scf.conn?.app) : null;
  connCtx.vars = c.txn?.vars ?? null;
  return connCtx;
}

// -- variables ---------------------------------------------------------------

/** A variable: HTTP only or not, and its writer for the given flags. */
interface VarDef {
  http?: boolean;
  make(o: number): Writer;
}

const num = (f: (c: LogFmtCtx) => number): VarDef["make"] => () => (out, c) => {
  out.int(f(c));
  return true;
};

const VARS: Record<string, VarDef> = {
  B: { make: num(bytesOut) },
  CC: { http: true, make: (o) => (out) => (text(out, null, o), true) },
  CS: { http: true, make: (o) => (out) => (text(out, null, o), true) },
  H: { make: (o) => (out) => (text(out, hostOnce(), o), true) },
  HM: {
    http: true,
    make: (o) => (out, c) => reqPart(out, c, o, (_a, _n, p) => p[0] > 0 ? [0, p[0]] : null),
  },
  HP: {
    http: true,
    make: (o) => (out, c) =>
      reqPart(out, c, o, (a, _n, p) => {
        let e = p[1];
        while (e < p[2] && a[e] !== 0x3f) e++;
        return [p[1], e];
      }),
  },
  HPO: {
    http: true,
    make: (o) => (out, c) => reqPart(out, c, o, (a, _n, p) => pathOnly(a, p[1], p[2])),
  },
  HQ: {
    http: true,
    make: (o) => (out, c) =>
      reqPart(out, c, o, (a, _n, p) => {
        let q = p[1];
        while (q < p[2] && a[q] !== 0x3f) q++;
        return [q, p[2]];
      }),
  },
  HU: { http: true, make: (o) => (out, c) => reqPart(out, c, o, (_a, _n, p) => [p[1], p[2]]) },
  HV: {
    http: true,
    make: (o) => (out, c) => {
      const p = reqParts(c.txn);
      if (p !== null && p[3] >= c.txn!.reqLineLen) {
        urlPart(out, HTTP09, 0, HTTP09.length, o);
        return true;
      }
      return reqPart(out, c, o, (_a, n, q) => [q[3], n]);
    },
  },
  ID: { make: (o) => (out, c) => (text(out, c.txn?.uniqueId ?? c.id, o), true) },
  ST: { make: num((c) => c.txn !== null ? c.txn.status : 0) },
  T: { make: () => (out, c) => (dateZone(out, dateOf(c, t0(c)), false), true) },
  Ta: { http: true, make: num(tActive) },
  Tc: { make: num(tConn) },
  Td: { make: num(tData) },
  Th: { make: num(() => 0) },
  Ti: { http: true, make: num(tIdle) },
  Tl: { make: () => (out, c) => (dateZone(out, dateOf(c, t0(c)), true), true) },
  Tq: { http: true, make: num((c) => c.txn!.tHead < 0 ? -1 : tickSpan(t0(c), c.txn!.tHead)) },
  TR: { http: true, make: num(tReq) },
  Tr: { http: true, make: num(tRes) },
  Ts: {
    make: (o) => (out, c) => (counter(out, Math.floor(dateOf(c, t0(c)) / 1000), o), true),
  },
  Tt: { make: num(tTotal) },
  Tu: {
    make: num((c) => {
      const ti = tIdle(c);
      return tTotal(c) - (ti > 0 ? ti : 0);
    }),
  },
  Tw: { make: num(tQueue) },
  U: { make: num(bytesIn) },
  ac: { make: num((c) => c.process.total) },
  b: { make: (o) => (out, c) => (text(out, backendName(c), o), true) },
  bc: { make: num((c) => (c.strm.be as Backend).counters.scur) },
  bq: { make: num((c) => c.strm.beQueuePos) },
  ci: { make: (o) => (out, c) => (ip(out, c.strm.cliAddr, o), true) },
  cp: { make: (o) => (out, c) => (port(out, c.strm.cliAddr, c.strm.cliPort, o), true) },
  f: { make: (o) => (out, c) => (text(out, c.fe.name, o), true) },
  fc: { make: num((c) => c.fe.limit.total) },
  fi: { make: (o) => (out, c) => (ip(out, c.strm.feAddr, o), true) },
  fp: { make: (o) => (out, c) => (port(out, c.strm.feAddr, c.strm.fePort, o), true) },
  ft: {
    make: (o) => (out, c) => (text(out, c.strm.cliTls ? `${c.fe.name}~` : c.fe.name, o), true),
  },
  hr: { make: (o) => (out, c) => captures(out, c.txn?.reqLog ?? null, c.fe.logCaptures[0], o) },
  hrl: {
    make: (o) => (out, c) => captureList(out, c.txn?.reqLog ?? null, c.fe.logCaptures[0], o),
  },
  hs: { make: (o) => (out, c) => captures(out, c.txn?.resLog ?? null, c.fe.logCaptures[1], o) },
  hsl: {
    make: (o) => (out, c) => captureList(out, c.txn?.resLog ?? null, c.fe.logCaptures[1], o),
  },
  lc: { make: (o) => (out, c) => (counter(out, c.lc, o), true) },
  ms: {
    make: (o) => (out, c) => {
      const ms = Math.floor(dateOf(c, t0(c))) % 1000;
      if (o & O_HEX) hex(out, ms, 2);
      else out.str(String(ms).padStart(3, "0"));
      return true;
    },
  },
  pid: { make: (o) => (out) => (counter(out, Deno.pid, o), true) },
  r: {
    http: true,
    make: (o) => (out, c) => {
      const txn = c.txn!;
      if (txn.reqLineLen === 0) urlPart(out, BADREQ, 0, BADREQ.length, o);
      else urlPart(out, txn.reqLine, 0, txn.reqLineLen, o);
      return true;
    },
  },
  rc: { make: num((c) => c.strm.scb.connRetries) },
  rt: { make: (o) => (out, c) => (counter(out, reqId(c), o), true) },
  s: {
    make: (o) => (out, c) => (text(out, server(c)?.name ?? noServerName(c.txn?.cache), o), true),
  },
  sc: { make: num((c) => server(c)?.cur ?? 0) },
  si: {
    make: (o) => (out, c) => {
      const s = server(c);
      const a = s !== null && c.strm.tConnStart >= 0 && s.addr.kind === "tcp" ? s.addr.host : "";
      ip(out, a, o);
      return true;
    },
  },
  sp: {
    make: (o) => (out, c) => {
      const s = server(c);
      if (s !== null && c.strm.tConnStart >= 0 && s.addr.kind === "tcp") {
        port(out, s.addr.host, s.addr.port, o);
      } else text(out, null, o);
      return true;
    },
  },
  sq: { make: num((c) => c.strm.srvQueuePos) },
  t: { make: () => (out, c) => (logDateInto(out, dateOf(c, t0(c))), true) },
  tr: { http: true, make: () => (out, c) => (logDateInto(out, dateOf(c, reqStart(c))), true) },
  trg: { http: true, make: () => (out, c) => (dateZone(out, dateOf(c, reqStart(c)), false), true) },
  trl: { http: true, make: () => (out, c) => (dateZone(out, dateOf(c, reqStart(c)), true), true) },
  ts: { make: () => (out, c) => (out.str(termState(c)), true) },
  // The cookie flags: sluice does not report cookie states ("--").
  tsc: { make: () => (out, c) => (out.str(termState(c)), out.str("--"), true) },
};

/** Variables HAProxy has that sluice refuses, and why. */
const REFUSED: Record<string, string> = {
  bi: "the server connection's source address is not known",
  bp: "the server connection's source port is not known",
  sslc: "the TLS cipher is not known",
  sslv: "the TLS version is not known",
};

/** The host name, read once (only when a format uses `%H`). */
let host: string | null = null;
function hostOnce(): string {
  return host ??= hostName();
}

/** Every variable name, for docs and tests. */
export const LOG_FORMAT_VARS: readonly string[] = Object.keys(VARS);

// -- compiling ---------------------------------------------------------------

/** Flags of `%{+Q,-X}`, applied to `base`. */
function flagsOf(args: string, base: number): number | string {
  let o = base;
  for (const f of args.split(",")) {
    if (f === "") continue;
    const bit = FLAG_BITS[f.slice(1)];
    if ((f[0] !== "+" && f[0] !== "-") || bit === undefined) {
      return `unknown flag "${f}" in "%{${args}}" (expected +Q, +X, +E, +M or their - forms)`;
    }
    o = f[0] === "+" ? o | bit : o & ~bit;
  }
  return o;
}

/** A `%[fetch]` sample writer. */
function sampleNode(word: string, o: number, opts: LogFormatOptions): Writer | string {
  const spec = aclFetchParse(word);
  if (typeof spec === "string") return `${spec} in "%[${word}]"`;
  const fetch = spec.fetch.sample ?? spec.fetch;
  if (opts.inline) {
    if ((spec.use & (SMP_USE_CONN | SMP_USE_REQ)) === 0) {
      return `"%[${word}]" needs the response, which is not known when the id is made`;
    }
    return (out, c) => {
      text(out, c.acl === null ? null : sampleText(fetch, c.acl), o);
      return true;
    };
  }
  if (spec.use & SMP_USE_CONN) {
    return (out, c) => {
      text(out, sampleText(fetch, connCtxOf(c)), o);
      return true;
    };
  }
  const slots = opts.slots;
  if (!opts.http || slots === undefined) {
    return `"%[${word}]" needs an HTTP request or response (the frontend is in TCP mode)`;
  }
  if (spec.use & SMP_USE_REQ) {
    const i = slots.reqCaptures + slots.req.length;
    slots.req.push(fetch);
    return (out, c) => {
      text(out, c.txn?.reqLog?.[i] ?? null, o);
      return true;
    };
  }
  const i = slots.resCaptures + slots.res.length;
  slots.res.push(fetch);
  return (out, c) => {
    text(out, c.txn?.resLog?.[i] ?? null, o);
    return true;
  };
}

/** A variable writer, or why it cannot be used. */
function varNode(name: string, o: number, opts: LogFormatOptions): Writer | string {
  const def = Object.hasOwn(VARS, name) ? VARS[name] : undefined;
  if (def === undefined) {
    if (Object.hasOwn(REFUSED, name)) return `"%${name}" is not supported: ${REFUSED[name]}`;
    return `no such format variable "%${name}" (a literal % is written %%)`;
  }
  if (def.http && !opts.http) return `format variable "%${name}" is reserved for HTTP mode`;
  return def.make(o);
}

/**
 * Compiles a log-format string, or returns why it cannot be (an unknown
 * variable, an unsupported fetch, a truncated `%{` or `%[`).
 */
export function logFormatCompile(fmt: string, opts: LogFormatOptions): LogFormat | string {
  const nodes: (Writer | null)[] = [];
  let o = opts.mandatory ? O_MAND : 0;
  if (!opts.mandatory && opts.inline) o |= O_HTTP;
  let lit = "";
  const flush = () => {
    if (lit === "") return;
    const s = lit;
    lit = "";
    nodes.push((out) => (out.str(s), true));
  };
  for (let i = 0; i < fmt.length;) {
    const ch = fmt[i];
    if (ch === " ") {
      flush();
      if (nodes[nodes.length - 1] !== null) nodes.push(null);
      while (fmt[i] === " ") i++;
      continue;
    }
    if (ch !== "%") {
      lit += ch;
      i++;
      continue;
    }
    i++;
    if (fmt[i] === "%") {
      lit += "%";
      i++;
      continue;
    }
    let node = o;
    let args: string | null = null;
    if (fmt[i] === "{") {
      const end = fmt.indexOf("}", i);
      if (end < 0) return `truncated line after "%{${fmt.slice(i + 1)}"`;
      args = fmt.slice(i + 1, end);
      const f = flagsOf(args, o);
      if (typeof f === "string") return f;
      node = f;
      i = end + 1;
    }
    if (fmt[i] === "[") {
      // The sample's own `]`: brackets in quotes or nested (a regsub() class) do not end it.
      const end = sampleEnd(fmt, i + 1);
      if (end < 0) return `missing "]" after "%[${fmt.slice(i + 1)}"`;
      flush();
      const w = sampleNode(fmt.slice(i + 1, end), node, opts);
      if (typeof w === "string") return w;
      nodes.push(w);
      i = end + 1;
      continue;
    }
    const m = /^[A-Za-z][A-Za-z0-9]*/.exec(fmt.slice(i));
    if (m === null) {
      if (args !== null) return `flags "%{${args}}" without a variable name`;
      return `unexpected character after "%" at position ${i}: write a literal % as %%`;
    }
    i += m[0].length;
    if (m[0] === "o") {
      o = node;
      continue;
    }
    flush();
    const w = varNode(m[0], node, opts);
    if (typeof w === "string") return w;
    nodes.push(w);
  }
  flush();
  return { text: fmt, nodes };
}

/** Writes a compiled format's line into `out`. */
export function logFormatWrite(out: LogBuf, f: LogFormat, c: LogFmtCtx): void {
  let space = true;
  for (const n of f.nodes) {
    if (n === null) {
      if (!space) {
        out.ch(0x20);
        space = true;
      }
    } else if (n(out, c)) space = false;
  }
}

/** HAProxy's `option httplog`, as a log-format string. */
export const HTTPLOG_FORMAT = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC " +
  "%CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";

/** HAProxy's `option tcplog`, as a log-format string. */
export const TCPLOG_FORMAT =
  "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
