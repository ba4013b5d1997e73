/**
 * One health check: connect (and handshake over TLS), then for HTTP checks
 * send one request and judge the response. A check is rare next to traffic,
 * so it uses plain `node:net`/`node:tls` sockets and one timer of its own
 * instead of the connection layer and the scheduler's heap; the task that
 * runs checks (check_task.ts) only sees the settled result.
 *
 * Bounded in every way: one timer for the whole check, at most 16 KiB of
 * response read, and the returned promise settles only once the socket has
 * closed and the timer is cleared, so nothing outlives it.
 *
 * @module
 */
import net, { type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { errMsg } from "../core/errors.ts";
import { checkConfigResolve } from "./check_config.ts";
import type { CompiledExpect } from "./check_expect.ts";
import {
  checkProxyHeader,
  checkTlsConnect,
  errText,
  type ProbeAddr,
  result,
} from "./check_conn.ts";
import { runTcpCheck } from "./tcpcheck.ts";
import {
  CHECK_MAX_RESPONSE,
  type CheckConfig,
  type CheckResult,
  type CheckStatusCode,
  type ResolvedCheckConfig,
} from "./check_types.ts";

export type { ProbeAddr };

/** A judgement of the bytes an HTTP check read: code, detail, and the status when known. */
export interface HttpVerdict {
  code: CheckStatusCode;
  info: string;
  status?: number;
}

const CR = 13;
const LF = 10;
/** "HTTP/1." then a version digit, a space and three status digits. */
const STATUS_PREFIX = new TextEncoder().encode("HTTP/1.");
const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Index of CRLF in `b[from, end)`, or -1. */
function findCrlf(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 1 < end; i++) {
    if (b[i] === CR && b[i + 1] === LF) return i;
  }
  return -1;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Decodes the chunked body in `b[start, end)` as far as it is there. Returns
 * the data, whether the last chunk was seen, or an error text.
 */
function dechunk(
  b: Uint8Array,
  start: number,
  end: number,
): { data: Uint8Array; done: boolean } | string {
  const out = new Uint8Array(end - start);
  let n = 0;
  let p = start;
  for (;;) {
    const eol = findCrlf(b, p, end);
    if (eol < 0) return { data: out.subarray(0, n), done: false };
    const line = latin1(b, p, eol);
    const m = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(line);
    if (!m) return "invalid chunk size";
    const size = parseInt(m[1], 16);
    if (size === 0) return { data: out.subarray(0, n), done: true };
    p = eol + 2;
    const take = Math.min(size, end - p);
    out.set(b.subarray(p, p + take), n);
    n += take;
    if (take < size || p + size + 2 > end) return { data: out.subarray(0, n), done: false };
    if (b[p + size] !== CR || b[p + size + 1] !== LF) return "invalid chunk end";
    p += size + 2;
  }
}

/**
 * Judges the first `len` bytes of an HTTP check response against `http`.
 * `eof` says the peer closed; a full buffer (`CHECK_MAX_RESPONSE` bytes)
 * counts as the end too. Returns null while more bytes could change the
 * verdict. Interim 1xx responses are skipped; the status line must be
 * `HTTP/1.0` or `HTTP/1.1`, a space, three digits, then nothing or a space
 * and a reason phrase. Header lines are checked only for their framing
 * (Content-Length, Transfer-Encoding) and only when a body string is expected.
 *
 * @example
 * ```ts
 * import { checkConfigResolve } from "./check_config.ts";
 * import { httpVerdict } from "./probe.ts";
 * const http = checkConfigResolve({ type: "http" }).http;
 * const b = new TextEncoder().encode("HTTP/1.1 503 Busy\r\n");
 * httpVerdict(b, b.length, false, http); // { code: "L7STS", info: "HTTP status 503", status: 503 }
 * ```
 */
export function httpVerdict(
  b: Uint8Array,
  len: number,
  eof: boolean,
  http: ResolvedCheckConfig["http"],
): HttpVerdict | null {
  const full = len >= CHECK_MAX_RESPONSE;
  const ended = eof || full;
  let pos = 0;
  for (;;) {
    const eol = findCrlf(b, pos, len);
    if (eol < 0) {
      // Reject a wrong start at once rather than wait for the line's end.
      const have = Math.min(len - pos, STATUS_PREFIX.length);
      for (let i = 0; i < have; i++) {
        if (b[pos + i] !== STATUS_PREFIX[i]) return { code: "L7RSP", info: "invalid status line" };
      }
      if (!ended) return null;
      if (full) return { code: "L7RSP", info: "status line too long" };
      return { code: "L7RSP", info: len === pos ? "empty response" : "truncated status line" };
    }
    const m = STATUS_LINE.exec(latin1(b, pos, eol));
    if (!m) return { code: "L7RSP", info: "invalid status line" };
    const status = parseInt(m[1], 10);
    const interim = status < 200 && status !== 101;
    if (!interim) {
      for (const e of http.expects) {
        if (!isBodyExpect(e) && e.foundStatus(status) === e.negate) {
          return { code: "L7STS", info: `HTTP status ${status}`, status };
        }
      }
      if (!http.expects.some(isBodyExpect)) {
        return { code: "L7OK", info: `HTTP status ${status}`, status };
      }
    }
    // Headers: needed to skip an interim response or to find the body.
    let cl = -1;
    let chunked = false;
    let p = eol + 2;
    for (;;) {
      const e = findCrlf(b, p, len);
      if (e < 0) {
        if (!ended) return null;
        return {
          code: "L7RSP",
          info: full ? "response headers too long" : "truncated response headers",
          status,
        };
      }
      if (e === p) {
        p += 2;
        break;
      }
      const line = latin1(b, p, e);
      const colon = line.indexOf(":");
      if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon))) {
        return { code: "L7RSP", info: "invalid header line", status };
      }
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value) || (cl >= 0 && cl !== Number(value))) {
          return { code: "L7RSP", info: "invalid Content-Length", status };
        }
        cl = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      }
      p = e + 2;
    }
    if (interim) {
      pos = p;
      continue;
    }
    let body: Uint8Array;
    let complete: boolean;
    if (http.method === "HEAD" || status === 204 || status === 304) {
      body = b.subarray(p, p);
      complete = true;
    } else if (chunked) {
      const d = dechunk(b, p, len);
      if (typeof d === "string") return { code: "L7RSP", info: d, status };
      body = d.data;
      complete = d.done;
    } else if (cl >= 0) {
      body = b.subarray(p, Math.min(len, p + cl));
      complete = body.length >= cl;
    } else {
      body = b.subarray(p, len);
      complete = false;
    }
    // Like HAProxy, a body without the pattern is final only once complete
    // (or the buffer full); an unwanted pattern found fails at once.
    const last = complete || ended;
    for (const e of http.expects) {
      if (!isBodyExpect(e)) continue;
      const found = e.found(body, body.length);
      if (found === e.negate && (found || last)) {
        return { code: "L7RSP", info: bodyFailText(e, found), status };
      }
      if (!found && !last) return null;
    }
    return { code: "L7OK", info: `HTTP status ${status}`, status };
  }
}

/** An expectation on the body (string, rstring) rather than the status. */
function isBodyExpect(e: CompiledExpect): boolean {
  return e.spec.match === "string" || e.spec.match === "rstring";
}

function bodyFailText(e: CompiledExpect, found: boolean): string {
  const what = e.spec.match === "string" ? "string" : "regex";
  return found
    ? `unwanted ${what} '${e.spec.pattern}' found`
    : `expected ${what} '${e.spec.pattern}' not found`;
}

/** Stages of a check, for naming a timeout or an error. */
const PH_L4 = 4;
const PH_L6 = 6;
const PH_L7 = 7;

/**
 * Runs one check of `addr` and resolves with its result; never rejects.
 * `cfg.port` replaces the port of a TCP address. The whole check (connect,
 * handshake, request, response) must finish within `timeoutMs`; a timeout
 * is reported for the stage it hit (L4TOUT connecting, L6TOUT handshaking,
 * L7TOUT waiting for the response). Aborting `signal` ends the check at once
 * (result SOCKERR "check aborted"). The promise settles once the socket is
 * closed and the timer cleared.
 *
 * @example
 * ```ts ignore
 * import { probe } from "./probe.ts";
 * const r = await probe({ host: "127.0.0.1", port: 8080 }, { type: "http" }, 2000);
 * if (!r.ok) console.log(`${r.code} ${r.reason}: ${r.info}`);
 * ```
 */
export function probe(
  addr: ProbeAddr,
  cfg: CheckConfig,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckResult> {
  let rc: ResolvedCheckConfig;
  try {
    rc = checkConfigResolve(cfg);
  } catch (err) {
    return Promise.resolve(result("SOCKERR", errMsg(err), performance.now()));
  }
  return probeResolved(addr, rc, timeoutMs, signal);
}

/**
 * `probe()` of a configuration already resolved (what a CheckTask holds):
 * a `tcp-check` script runs through `runTcpCheck()`, anything else here.
 */
export function probeResolved(
  addr: ProbeAddr,
  rc: ResolvedCheckConfig,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckResult> {
  const start = performance.now();
  if (signal?.aborted) return Promise.resolve(result("SOCKERR", "check aborted", start));
  if (rc.tcpCheck !== null) return runTcpCheck(addr, rc.tcpCheck, timeoutMs, signal);
  return new Promise<CheckResult>((resolve) => {
    const isUnix = "path" in addr;
    const port = isUnix ? 0 : rc.port ?? addr.port;
    const http = rc.type === "http" ? rc.http : null;
    let phase = PH_L4;
    let verdict: CheckResult | null = null;
    /** Sockets not closed yet; the promise resolves when none is left. */
    let open = 0;
    let raw: Socket | null = null;
    let sec: TLSSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let buf: Uint8Array | null = null;
    let len = 0;

    const onClose = (): void => {
      open--;
      // A close with no error nor EOF seen first (should not happen) still ends the check.
      if (!verdict) onError(new Error("connection closed"));
      if (open === 0 && verdict) resolve(verdict);
    };
    const track = (s: Socket): void => {
      open++;
      s.once("close", onClose);
    };
    const finish = (code: CheckStatusCode, info: string, status?: number): void => {
      if (verdict) return;
      verdict = result(code, info, start, status);
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      sec?.destroy();
      raw?.destroy();
      if (open === 0) resolve(verdict);
    };
    const onAbort = (): void => finish("SOCKERR", "check aborted");
    const onTimeout = (): void => {
      timer = undefined;
      const what = phase === PH_L4
        ? "connecting"
        : phase === PH_L6
        ? "during the TLS handshake"
        : "waiting for the response";
      const code = phase === PH_L4 ? "L4TOUT" : phase === PH_L6 ? "L6TOUT" : "L7TOUT";
      finish(code, `no answer after ${Math.round(timeoutMs)} ms ${what}`);
    };
    const onError = (err: unknown): void => {
      const code = phase === PH_L4 ? "L4CON" : phase === PH_L6 ? "L6RSP" : "L7RSP";
      finish(code, errText(err));
    };
    const judge = (eof: boolean): void => {
      const v = httpVerdict(buf!, len, eof, http!);
      if (v) finish(v.code, v.info, v.status);
      else if (eof) finish("L7RSP", "truncated response");
    };
    const onData = (chunk: Uint8Array): void => {
      if (verdict) return;
      buf ??= new Uint8Array(CHECK_MAX_RESPONSE);
      const n = Math.min(chunk.length, buf.length - len);
      buf.set(chunk.subarray(0, n), len);
      len += n;
      judge(false);
    };
    const onEnd = (): void => {
      if (verdict) return;
      if (phase === PH_L6) finish("L6RSP", "connection closed during the TLS handshake");
      else {
        buf ??= new Uint8Array(CHECK_MAX_RESPONSE);
        judge(true);
      }
    };
    /** The transport is ready: pass a TCP check, or send the HTTP request. */
    const ready = (s: Socket, okCode: CheckStatusCode, okInfo: string): void => {
      if (!http) {
        finish(okCode, okInfo);
        return;
      }
      phase = PH_L7;
      const host = http.host ??
        (isUnix
          ? "localhost"
          : addr.host.includes(":")
          ? `[${addr.host}]:${port}`
          : `${addr.host}:${port}`);
      s.on("data", onData);
      if (s === raw) s.on("end", onEnd); // a TLS socket's 'end' is already handled
      s.write(
        `${http.method} ${http.path} HTTP/1.1\r\nHost: ${host}\r\n` +
          "User-Agent: sluice-check\r\nConnection: close\r\n\r\n",
      );
    };
    const onConnect = (): void => {
      if (verdict) return;
      if (rc.sendProxy !== undefined) {
        // Deno's TLS writes past the socket's queue: the header must be out first.
        raw!.write(checkProxyHeader(rc.sendProxy), (err) => {
          if (!err && !verdict) afterProxy();
        });
        return;
      }
      afterProxy();
    };
    const afterProxy = (): void => {
      if (!rc.tls) {
        ready(raw!, "L4OK", "connected");
        return;
      }
      phase = PH_L6;
      try {
        sec = checkTlsConnect(raw!, rc.tls, addr);
      } catch (err) {
        finish("L6RSP", errText(err));
        return;
      }
      track(sec);
      sec.on("error", onError);
      sec.on("end", onEnd);
      sec.once("secureConnect", () => {
        if (!verdict) ready(sec!, "L6OK", `${sec!.getProtocol() ?? "TLS"} handshake done`);
      });
    };

    try {
      raw = isUnix
        ? net.connect({ path: addr.path })
        : net.connect({ host: addr.host, port, noDelay: true });
    } catch (err) {
      finish("SOCKERR", errText(err));
      return;
    }
    track(raw);
    raw.on("error", onError);
    raw.once("connect", onConnect);
    timer = setTimeout(onTimeout, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
