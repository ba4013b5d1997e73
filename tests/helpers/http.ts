/**
 * HTTP peers for tests: an in-process HTTP proxy with its log lines, a
 * raw-byte client exchange bounded by a deadline, and a model origin server
 * that frames requests the way a lenient origin would (bare LF accepted,
 * Transfer-Encoding chunked before Content-Length) and records every request
 * head it sees, so a test can count exactly how many requests crossed the
 * proxy.
 */
import { type SluiceConfig, startSluice } from "../../mod.ts";
import type { HttpFrontendConfig, TimeoutsConfig } from "../../lib/cfg/config_types.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { logInto, type Upstream, upstream, writeAll } from "./net.ts";
import type { TestProxy } from "./proxy.ts";

/** One byte per char (so "\x00" and "\xff" stay single bytes). */
export function latin1(s: string): Uint8Array {
  const a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i) & 0xff;
  return a;
}

/** One char per byte. */
export function fromLatin1(a: Uint8Array): string {
  let s = "";
  for (let i = 0; i < a.length; i += 4096) {
    s += String.fromCharCode(...a.subarray(i, Math.min(a.length, i + 4096)));
  }
  return s;
}

/** Options of `httpProxy()`. */
export interface HttpProxyOptions {
  timeouts?: TimeoutsConfig;
  http?: HttpFrontendConfig;
  retries?: number;
  maxBody?: number;
}

/** Starts an HTTP proxy (frontend "fe", backend "be", servers s1...) logging to `logs`. */
export async function httpProxy(
  servers: string[],
  opts: HttpProxyOptions = {},
): Promise<TestProxy> {
  const logs: string[] = [];
  const config: SluiceConfig = {
    global: { log: { target: logInto(logs) }, maxBody: opts.maxBody },
    frontends: [{
      name: "fe",
      mode: "http",
      binds: [{ address: "127.0.0.1:0" }],
      timeouts: opts.timeouts,
      http: opts.http,
      defaultBackend: "be",
    }],
    backends: [{
      name: "be",
      mode: "http",
      retries: opts.retries,
      timeouts: opts.timeouts,
      servers: servers.map((address, i) => ({ name: `s${i + 1}`, address })),
    }],
  };
  const handle = await startSluice(config);
  const close = () => handle.close();
  return { handle, port: handle.addresses[0].port, logs, close, [Symbol.asyncDispose]: close };
}

/** What a client got from `exchange()`. */
export interface Exchange {
  /** Every byte received, as latin-1 text. */
  text: string;
  /** The peer closed (EOF or reset) before the deadline. */
  closed: boolean;
}

/** Options of `exchange()`. */
export interface ExchangeOptions {
  /** Give up (and report `closed: false`) after this many ms. Default 2000. */
  timeoutMs?: number;
  /** Stop reading once this holds for the text so far (`closed` is then false). */
  until?: (text: string) => boolean;
}

/**
 * Connects to `port`, writes `data` (a string is sent as latin-1 bytes),
 * then reads until the peer closes, `until` holds, or the deadline passes.
 * The socket is always closed on return.
 */
export async function exchange(
  port: number,
  data: Uint8Array | string,
  opts: ExchangeOptions = {},
): Promise<Exchange> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    return await exchangeOn(conn, data, opts);
  } finally {
    try {
      conn.close();
    } catch {
      // Closed at the deadline.
    }
  }
}

/**
 * `exchange()` on a connection the caller owns (to send several requests on
 * one connection). At the deadline the connection is closed, to end the
 * pending read; otherwise it is left open.
 */
export async function exchangeOn(
  conn: Deno.Conn,
  data: Uint8Array | string,
  opts: ExchangeOptions = {},
): Promise<Exchange> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, opts.timeoutMs ?? 2000);
  let text = "";
  let closed = false;
  try {
    // The proxy may close before it read everything: what it answered counts.
    await writeAll(conn, typeof data === "string" ? latin1(data) : data).catch(() => {});
    const buf = new Uint8Array(65536);
    for (;;) {
      if (opts.until?.(text)) break;
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        closed = !timedOut; // reset by the peer, or closed at the deadline
        break;
      }
      if (n === null) {
        closed = true;
        break;
      }
      text += fromLatin1(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  return { text, closed };
}

/** A request as the model origin framed it. */
export interface SeenRequest {
  /** The request line. */
  line: string;
  /** The head, request line included, without the final empty line. */
  head: string;
  /** The decoded body (chunked framing removed); partial if `complete` is false. */
  body: string;
  /** The whole body arrived. */
  complete: boolean;
}

/** A recording origin server (see `modelUpstream()`). */
export interface ModelUpstream extends Upstream {
  /** Every request head seen, on every connection, in arrival order. */
  readonly requests: SeenRequest[];
  /** Every byte received on every connection, as latin-1 text. */
  raw(): string;
}

/** A model origin answer echoing the request head as the body, so tests see the headers sluice set. */
export function headReply(req: SeenRequest): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${req.head.length}\r\n\r\n${req.head}`;
}

/** The answer of the model origin when none is given: 200 with the path as body. */
export function okReply(req: SeenRequest): string {
  const path = req.line.split(" ")[1] ?? "";
  return `HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`;
}

/**
 * Starts an origin that frames requests leniently (a request head ends at an
 * empty line, CRLF or bare LF; chunked wins over Content-Length, as RFC 9112
 * asks of a server) and answers each complete one with `reply` on the same
 * connection. Leniency makes it a good witness: whatever the proxy forwards
 * that such an origin could read as a second request is counted as one.
 */
export function modelUpstream(reply: (req: SeenRequest) => string = okReply): ModelUpstream {
  const requests: SeenRequest[] = [];
  const raw: string[] = [];
  const up = upstream(async (conn) => {
    let acc = "";
    const buf = new Uint8Array(65536);
    let eof = false;
    // Reads more into `acc`; false at EOF.
    const more = async (): Promise<boolean> => {
      if (eof) return false;
      const n = await conn.read(buf);
      if (n === null) {
        eof = true;
        return false;
      }
      const s = fromLatin1(buf.subarray(0, n));
      raw.push(s);
      acc += s;
      return true;
    };
    // Waits for a line (CRLF or LF) at the start of `acc`; returns it without the ending.
    const line = async (): Promise<string | null> => {
      for (;;) {
        const lf = acc.indexOf("\n");
        if (lf >= 0) {
          const l = acc.slice(0, lf).replace(/\r$/, "");
          acc = acc.slice(lf + 1);
          return l;
        }
        if (!(await more())) return null;
      }
    };
    const bytes = async (n: number): Promise<string | null> => {
      while (acc.length < n) if (!(await more())) return null;
      const s = acc.slice(0, n);
      acc = acc.slice(n);
      return s;
    };
    for (;;) {
      // RFC 9112 §2.2: empty lines before a request line are ignored.
      let first: string | null;
      do first = await line(); while (first === "");
      if (first === null) return;
      const lines = [first];
      for (;;) {
        const l = await line();
        if (l === null) {
          requests.push({ line: first, head: lines.join("\r\n"), body: "", complete: false });
          return;
        }
        if (l === "") break;
        lines.push(l);
      }
      const req: SeenRequest = { line: first, head: lines.join("\r\n"), body: "", complete: false };
      requests.push(req);
      const fields = lines.slice(1);
      const te = fields.find((l) => /^transfer-encoding\s*:/i.test(l));
      const cl = fields.find((l) => /^content-length\s*:/i.test(l));
      if (te !== undefined && /chunked/i.test(te)) {
        for (;;) {
          const size = await line();
          if (size === null) return;
          const n = parseInt(size, 16);
          if (!(n >= 0)) return;
          if (n === 0) {
            let t: string | null;
            do t = await line(); while (t !== null && t !== "");
            if (t === null) return;
            break;
          }
          const data = await bytes(n);
          if (data === null) return;
          req.body += data;
          if ((await line()) === null) return;
        }
      } else if (cl !== undefined) {
        const n = Number(cl.slice(cl.indexOf(":") + 1).trim());
        const data = await bytes(Number.isSafeInteger(n) ? n : 0);
        if (data === null) {
          req.body = acc;
          return;
        }
        req.body = data;
      }
      req.complete = true;
      await writeAll(conn, latin1(reply(req)));
    }
  });
  return Object.assign(up, { requests, raw: () => raw.join("") });
}

/**
 * Status lines of the responses in a byte stream sent to the client, walked
 * by their framing (Content-Length, chunked, or until the end). Anything
 * after the last complete response counts as one more "response" line, so
 * stray bytes are seen.
 */
export function responseStatusLines(text: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const he = text.indexOf("\r\n\r\n", pos);
    const head = text.slice(pos, he < 0 ? text.length : he);
    out.push(head.split("\r\n")[0]);
    if (he < 0) break;
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (cl) pos = he + 4 + Number(cl[1]);
    else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const end = text.indexOf("\r\n0\r\n\r\n", he);
      if (end < 0) break;
      pos = end + 7;
    } else break;
  }
  return out;
}

/** An upstream whose first connection misbehaves (see `firstConnUpstream()`). */
export interface FirstConnUpstream extends AsyncDisposable {
  readonly up: Upstream;
  /** The first connection's script ended: the proxy closed that connection (or it failed). */
  readonly firstDone: boolean;
}

/**
 * An upstream whose first connection runs `first` (after reading one request
 * head), then waits for the proxy to close that connection; later
 * connections answer each request head with 200 and the path as body.
 */
export function firstConnUpstream(first: (conn: Deno.Conn) => Promise<void>): FirstConnUpstream {
  let n = 0;
  let firstDone = false;
  const up = upstream(async (conn) => {
    const isFirst = n++ === 0;
    const buf = new Uint8Array(4096);
    let acc = "";
    try {
      for (;;) {
        const he = acc.indexOf("\r\n\r\n");
        if (he >= 0) {
          const path = acc.slice(0, he).split(" ")[1];
          acc = acc.slice(he + 4);
          if (isFirst) break;
          await writeAll(
            conn,
            latin1(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`),
          );
          continue;
        }
        const r = await conn.read(buf);
        if (r === null) return;
        acc += fromLatin1(buf.subarray(0, r));
      }
      await first(conn);
      // Wait for the proxy to close its side: it must not keep this connection.
      while ((await conn.read(buf)) !== null) { /* drop */ }
    } finally {
      if (isFirst) firstDone = true;
    }
  });
  return {
    up,
    get firstDone() {
      return firstDone;
    },
    [Symbol.asyncDispose]: () => up.close(),
  };
}

/**
 * Starts sluice on configuration file `lines` (as `t.cfg`), logging httplog
 * lines to `logs` (a proxy logs only with `log global` in its lines, as
 * HAProxy).
 */
export async function cfgProxy(lines: string[]) {
  const cfg = parseConfigText(lines.join("\n"), "t.cfg", {});
  const logs: string[] = [];
  cfg.global = { ...cfg.global, log: { target: logInto(logs), format: "httplog" } };
  const handle = await startSluice(cfg);
  return {
    handle,
    logs,
    port: handle.addresses[0].port,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}
