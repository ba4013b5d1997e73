/**
 * The `tcp-check` script engine (HAProxy's `option tcp-check`): runs the
 * steps of a check in order over one connection at a time — `connect`
 * (closing the previous connection first), `send`, `expect` — and settles
 * with the result HAProxy would report, naming the failing step as
 * tcpcheck.c does (`TCPCHK did not match content 'PONG' at step 3`,
 * `Connection refused at step 1 of tcp-check (connect port 143)`).
 *
 * As in HAProxy: what a connection reads accumulates in one buffer of
 * `CHECK_MAX_RESPONSE` bytes (a full buffer counts as the end of the
 * response), a `send` empties it, consecutive `expect` rules judge the same
 * bytes and are judged again from the first of them when more arrive, and
 * an expect waits for more data on a mismatch until the server closes, the
 * buffer is full, or its `minRecv` is reached.
 *
 * Bounded: one timer for the whole check, one buffer, at most one
 * connection open at a time; the promise settles only once every socket is
 * closed and the timer cleared.
 *
 * @module
 */
import net, { type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  checkProxyHeader,
  checkTlsConnect,
  errText,
  type ProbeAddr,
  result,
} from "./check_conn.ts";
import { expectFailText } from "./check_expect.ts";
import {
  CHECK_MAX_RESPONSE,
  type CheckResult,
  type CheckStatusCode,
  type TcpCheckStep,
} from "./check_types.ts";

/** Stages of a connection, for naming a timeout or an error. */
const PH_L4 = 4;
const PH_L6 = 6;
const PH_L7 = 7;

/** What a step's evaluation says. */
const NEXT = 0;
const WAIT = 1;
const DONE = 2;

type StepOf<K extends TcpCheckStep["kind"]> = Extract<TcpCheckStep, { kind: K }>;

/**
 * Runs the steps against `addr` (a connect step's `port` replaces its
 * port) and resolves with the result; never rejects. The whole script must
 * finish within `timeoutMs`; aborting `signal` ends it at once (SOCKERR
 * "check aborted").
 *
 * @example
 * ```ts ignore
 * import { checkConfigResolve } from "./check_config.ts";
 * import { runTcpCheck } from "./tcpcheck.ts";
 * const rc = checkConfigResolve({
 *   type: "tcp",
 *   tcpCheck: [
 *     { action: "send", data: new TextEncoder().encode("PING\r\n") },
 *     { action: "expect", expect: { match: "string", pattern: "+PONG" } },
 *   ],
 * });
 * const r = await runTcpCheck({ host: "127.0.0.1", port: 6379 }, rc.tcpCheck!, 2000);
 * ```
 */
export function runTcpCheck(
  addr: ProbeAddr,
  steps: readonly TcpCheckStep[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckResult> {
  return new TcpCheckRun(addr, steps, timeoutMs, signal).run();
}

/** One run of a script. */
class TcpCheckRun {
  readonly #addr: ProbeAddr;
  readonly #steps: readonly TcpCheckStep[];
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #start = performance.now();
  #resolve: (r: CheckResult) => void = () => {};
  #timer: ReturnType<typeof setTimeout> | undefined;
  #verdict: CheckResult | null = null;
  /** The step being run, and the first of the run of expects it belongs to. */
  #i = 0;
  #group = 0;
  /** What the script waits for: the connection, the previous one's close, more data. */
  #waiting: "connect" | "close" | "expect" | null = null;
  /** The connection: a number that tells its events from a previous one's. */
  #gen = 0;
  #phase = PH_L4;
  #raw: Socket | null = null;
  #sec: TLSSocket | null = null;
  /** The socket data goes through once ready (raw, or TLS over it). */
  #top: Socket | null = null;
  /** Sockets not closed yet, of every connection. */
  #open = 0;
  #buf: Uint8Array | null = null;
  #len = 0;
  /** The server closed (or reset) the connection. */
  #eof = false;
  /** The error that ended the connection after it was established, if any. */
  #err: string | null = null;

  constructor(
    addr: ProbeAddr,
    steps: readonly TcpCheckStep[],
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ) {
    this.#addr = addr;
    this.#steps = steps;
    this.#timeoutMs = timeoutMs;
    this.#signal = signal;
  }

  run(): Promise<CheckResult> {
    return new Promise<CheckResult>((resolve) => {
      this.#resolve = resolve;
      if (this.#signal?.aborted) {
        this.#finish("SOCKERR", "check aborted");
        return;
      }
      this.#timer = setTimeout(this.#onTimeout, this.#timeoutMs);
      this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
      this.#advance();
    });
  }

  /** Runs steps until one waits or the script ends. */
  #advance(): void {
    while (this.#verdict === null && this.#i < this.#steps.length) {
      const st = this.#steps[this.#i];
      let r: number;
      switch (st.kind) {
        case "connect":
          r = this.#connect(st);
          break;
        case "send":
          r = this.#send(st);
          break;
        default:
          if (this.#i === 0 || this.#steps[this.#i - 1].kind !== "expect") this.#group = this.#i;
          r = this.#expect(st);
      }
      if (r !== NEXT) return;
      this.#i++;
    }
    if (this.#verdict === null) this.#succeed();
  }

  /** More data, the end, or an error reached a waiting expect: judge its run again. */
  #resume(): void {
    if (this.#waiting !== "expect") return;
    this.#waiting = null;
    this.#i = this.#group;
    this.#advance();
  }

  /** Every step passed: the status follows the last one, as HAProxy reports it. */
  #succeed(): void {
    const last = this.#steps[this.#steps.length - 1];
    if (last?.kind === "connect") {
      this.#finish(last.tls ? "L6OK" : "L4OK", last.implicit ? "" : "(tcp-check)");
    } else this.#finish("L7OK", "(tcp-check)");
  }

  /** " at step 2 of tcp-check (expect string 'x') comment: 'y'", as chk_report_conn_err(). */
  #where(): string {
    const st = this.#steps[Math.min(this.#i, this.#steps.length - 1)];
    if (st === undefined || (st.kind === "connect" && st.implicit)) {
      return " at initial connection step of tcp-check";
    }
    let s = ` at step ${st.step} of tcp-check`;
    if (st.kind === "connect") {
      s += st.port === undefined ? " (connect)" : ` (connect port ${st.port})`;
    } else if (st.kind === "send") s += " (send)";
    else {
      const { match, pattern } = st.expect.spec;
      s += match === "string" || match === "binary"
        ? ` (expect ${match} '${pattern}')`
        : match === "rstring"
        ? " (expect regex)"
        : " (expect binary regex)";
    }
    if (st.comment !== undefined) s += ` comment: '${st.comment}'`;
    return s;
  }

  #finish(code: CheckStatusCode, info: string): void {
    if (this.#verdict !== null) return;
    this.#verdict = result(code, info, this.#start);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#destroy();
    if (this.#open === 0) this.#resolve(this.#verdict);
  }

  #destroy(): void {
    this.#sec?.destroy();
    this.#raw?.destroy();
    this.#sec = this.#raw = this.#top = null;
  }

  readonly #onAbort = (): void => this.#finish("SOCKERR", "check aborted");

  readonly #onTimeout = (): void => {
    this.#timer = undefined;
    const ph = this.#phase;
    const code = ph === PH_L4 ? "L4TOUT" : ph === PH_L6 ? "L6TOUT" : "L7TOUT";
    this.#finish(code, `no answer after ${Math.round(this.#timeoutMs)} ms${this.#where()}`);
  };

  /** Counts `s` open; its close may let the script go on or settle. */
  #track(s: Socket, gen: number): void {
    this.#open++;
    s.once("close", () => {
      this.#open--;
      // A close with no error nor EOF seen first still ends the connection.
      if (gen === this.#gen && this.#verdict === null && !this.#eof) {
        this.#onError(gen, new Error("connection closed"));
      }
      if (this.#open > 0) return;
      if (this.#verdict !== null) this.#resolve(this.#verdict);
      else if (this.#waiting === "close") {
        this.#waiting = null;
        this.#advance();
      }
    });
  }

  #connect(st: StepOf<"connect">): number {
    if (this.#raw !== null || this.#open > 0) {
      // HAProxy closes the previous connection and waits for it to be gone.
      this.#gen++;
      this.#destroy();
      if (this.#open > 0) {
        this.#waiting = "close";
        return WAIT;
      }
    }
    const gen = ++this.#gen;
    this.#phase = PH_L4;
    this.#len = 0;
    this.#eof = false;
    this.#err = null;
    this.#waiting = "connect";
    const addr = this.#addr;
    try {
      this.#raw = "path" in addr
        ? net.connect({ path: addr.path })
        : net.connect({ host: addr.host, port: st.port ?? addr.port, noDelay: true });
    } catch (err) {
      this.#finish("SOCKERR", `${errText(err)}${this.#where()}`);
      return DONE;
    }
    const raw = this.#raw;
    this.#track(raw, gen);
    raw.on("error", (err) => this.#onError(gen, err));
    raw.once("connect", () => {
      if (gen !== this.#gen || this.#verdict !== null) return;
      if (st.sendProxy === 0) this.#handshake(st, raw, gen);
      else {
        // Deno's TLS writes past the socket's queue: the header must be out first.
        raw.write(checkProxyHeader(st.sendProxy), (err) => {
          if (!err && gen === this.#gen && this.#verdict === null) this.#handshake(st, raw, gen);
        });
      }
    });
    return WAIT;
  }

  /** Connected (and the PROXY header written): TLS if asked, then ready. */
  #handshake(st: StepOf<"connect">, raw: Socket, gen: number): void {
    if (st.tls === undefined) {
      this.#ready(raw, raw, gen);
      return;
    }
    this.#phase = PH_L6;
    let sec: TLSSocket;
    try {
      sec = checkTlsConnect(raw, st.tls, this.#addr);
    } catch (err) {
      this.#finish("L6RSP", `${errText(err)}${this.#where()}`);
      return;
    }
    this.#sec = sec;
    this.#track(sec, gen);
    sec.on("error", (err) => this.#onError(gen, err));
    sec.on("end", () => this.#onEnd(gen));
    sec.once("secureConnect", () => {
      if (gen === this.#gen && this.#verdict === null) this.#ready(sec, raw, gen);
    });
  }

  #ready(s: Socket, raw: Socket, gen: number): void {
    this.#phase = PH_L7;
    this.#top = s;
    s.on("data", (chunk: Uint8Array) => this.#onData(gen, chunk));
    if (s === raw) s.on("end", () => this.#onEnd(gen)); // a TLS socket's 'end' is already handled
    this.#waiting = null;
    this.#i++;
    this.#advance();
  }

  #onData(gen: number, chunk: Uint8Array): void {
    if (gen !== this.#gen || this.#verdict !== null) return;
    const buf = this.#buf ??= new Uint8Array(CHECK_MAX_RESPONSE);
    // Past a full buffer bytes are dropped: the expects judge what fits.
    const n = Math.min(chunk.length, buf.length - this.#len);
    buf.set(chunk.subarray(0, n), this.#len);
    this.#len += n;
    this.#resume();
  }

  #onEnd(gen: number): void {
    if (gen !== this.#gen || this.#verdict !== null) return;
    if (this.#phase === PH_L6) {
      this.#finish("L6RSP", `connection closed during the TLS handshake${this.#where()}`);
      return;
    }
    this.#eof = true;
    this.#resume();
  }

  #onError(gen: number, err: unknown): void {
    if (gen !== this.#gen || this.#verdict !== null) return;
    const text = `${errText(err)}${this.#where()}`;
    if (this.#phase === PH_L4) this.#finish("L4CON", text);
    else if (this.#phase === PH_L6) this.#finish("L6RSP", text);
    else {
      // Like HAProxy, an error after data is the end of the response: the
      // expects judge what came (a reset often follows the last bytes).
      this.#err = errText(err);
      this.#eof = true;
      this.#resume();
    }
  }

  #send(st: StepOf<"send">): number {
    // A send starts a new exchange: what was read before is dropped (HAProxy's).
    this.#len = 0;
    this.#top!.write(st.data);
    return NEXT;
  }

  #expect(st: StepOf<"expect">): number {
    const e = st.expect;
    const len = this.#len;
    const buf = this.#buf ??= new Uint8Array(CHECK_MAX_RESPONSE);
    if (len === 0) {
      if (!this.#eof) {
        this.#waiting = "expect";
        return WAIT;
      }
      if (this.#err !== null) this.#finish("SOCKERR", `${this.#err}${this.#where()}`);
      else {
        const c = st.comment === undefined ? "" : ` comment: '${st.comment}'`;
        this.#finish("L7RSP", `TCPCHK got an empty response at step ${st.step}${c}`);
      }
      return DONE;
    }
    const last = this.#eof || len >= CHECK_MAX_RESPONSE;
    const minRecv = e.spec.minRecv ?? -1;
    if (
      !last && ((e.bytes !== null && len < e.bytes.length) || (minRecv > 0 && len < minRecv))
    ) {
      this.#waiting = "expect";
      return WAIT;
    }
    const found = e.found(buf, len);
    if (!found && !last && minRecv === -1) {
      this.#waiting = "expect";
      return WAIT;
    }
    if (found !== e.negate) return NEXT;
    const c = st.comment === undefined ? "" : ` comment: ${st.comment}`;
    this.#finish("L7RSP", `${expectFailText(e, found)} at step ${st.step}${c}`);
    return DONE;
  }
}
