/**
 * HAProxy's agent check (`agent-check`, `agent-port`, `agent-inter`,
 * `agent-send`): every interval, connect to the agent's port, send the
 * configured text, read one line (up to the first CR or LF) and hand it,
 * parsed, to the server's owner. The agent says what it wants — a weight
 * relative to the configured one (`75%`), an admin state (`ready`, `drain`,
 * `maint`), an operational one (`up`, `down`, `stopped`, `fail`, with a
 * description after `#`), a `maxconn:N` — and only what it says changes.
 * As HAProxy, failing to reach the agent changes nothing (the regular
 * check tests the service).
 *
 * `AgentTask` is a scheduler task like `CheckTask`: it waits in the timer
 * heap, runs one bounded probe (one timer, one line of at most
 * `AGENT_MAX_LINE` bytes, the promise settles once the socket is closed),
 * and `process()` hands the settled reply over.
 *
 * @module
 */
import net, { type Socket } from "node:net";
import { TICK_ETERNITY, tickIsExpired } from "../core/time.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { errText } from "./check_conn.ts";
import { jitter } from "./health.ts";
import { ProbeTask } from "./probe_task.ts";

/** Most bytes of an agent's line read (HAProxy reads one buffer; a line is a few words). */
export const AGENT_MAX_LINE = 1024;

/** An agent check, resolved. */
export interface AgentConfig {
  /** Host to connect to (the server's). */
  readonly host: string;
  /** The agent's port (`agent-port`). */
  readonly port: number;
  /** Interval between two agent checks, in ms (`agent-inter`, default 2000). */
  readonly inter: number;
  /** Time one agent check may take, in ms (`timeout check`, else `inter`). */
  readonly timeout: number;
  /** Sent upon connection (`agent-send`), or null. */
  readonly send: Uint8Array | null;
}

/** What an agent's line says; null fields were not said. */
export interface AgentReply {
  /** `up`, or `down`/`stopped`/`fail` (the last one said wins). */
  health: "up" | "down" | "stopped" | "fail" | null;
  /** `ready`, `drain` or `maint`. */
  admin: "ready" | "drain" | "maint" | null;
  /** A weight word (`75%`), as said. */
  weight: string | null;
  /** The value of `maxconn:N`, as said. */
  maxconn: string | null;
  /** The first word not understood. */
  err: string | null;
  /** The description after `#`. */
  desc: string;
}

/**
 * Parses one agent line as HAProxy's tcpcheck_agent_expect_reply(): words
 * separated by spaces, tabs or commas, case-insensitive, the last of each
 * kind winning, a `#` starting the description.
 *
 * @example
 * ```ts
 * import { agentParse } from "./agent.ts";
 * agentParse("75% drain # going away").weight; // "75%"
 * ```
 */
export function agentParse(line: string): AgentReply {
  const r: AgentReply = {
    health: null,
    admin: null,
    weight: null,
    maxconn: null,
    err: null,
    desc: "",
  };
  const hash = line.indexOf("#");
  if (hash >= 0) r.desc = line.slice(hash + 1).trim();
  for (const word of (hash >= 0 ? line.slice(0, hash) : line).split(/[ \t,]+/)) {
    if (word === "") continue;
    const w = word.toLowerCase();
    if (w === "up" || w === "down" || w === "stopped" || w === "fail") r.health = w;
    else if (w === "ready" || w === "drain" || w === "maint") r.admin = w;
    else if (/^[0-9]/.test(w) && w.includes("%")) r.weight = word;
    else if (w.startsWith("maxconn:")) r.maxconn = word.slice("maxconn:".length);
    else r.err ??= word;
  }
  return r;
}

/** The outcome of one agent probe: the line, or why there is none. */
export type AgentOutcome = { line: string } | { error: string };

/**
 * Connects to the agent, sends `cfg.send`, and resolves with the first line
 * (without its CR or LF) or an error text ("Connection refused", "no answer
 * after N ms", "Ignoring incomplete line from agent"); never rejects.
 */
export function agentProbe(cfg: AgentConfig, signal?: AbortSignal): Promise<AgentOutcome> {
  return new Promise((resolve) => {
    let out: AgentOutcome | null = null;
    let sock: Socket | null = null;
    let closed = false;
    const buf = new Uint8Array(AGENT_MAX_LINE);
    let len = 0;
    const finish = (o: AgentOutcome): void => {
      if (out !== null) return;
      out = o;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      sock?.destroy();
      if (closed || sock === null) resolve(o);
    };
    const onAbort = (): void => finish({ error: "check aborted" });
    const timer = setTimeout(
      () => finish({ error: `no answer after ${Math.round(cfg.timeout)} ms` }),
      cfg.timeout,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) {
      onAbort();
      return;
    }
    const lineEnd = (from: number): number => {
      for (let i = from; i < len; i++) if (buf[i] === 13 || buf[i] === 10) return i;
      return -1;
    };
    try {
      sock = net.connect({ host: cfg.host, port: cfg.port, noDelay: true });
    } catch (err) {
      finish({ error: errText(err) });
      return;
    }
    const s = sock;
    s.once("close", () => {
      closed = true;
      if (out === null) finish({ error: "connection closed" });
      resolve(out!);
    });
    s.on("error", (err) => finish({ error: errText(err) }));
    s.once("connect", () => {
      if (cfg.send !== null) s.write(cfg.send);
    });
    s.on("data", (chunk: Uint8Array) => {
      if (out !== null) return;
      const from = len;
      const n = Math.min(chunk.length, buf.length - len);
      buf.set(chunk.subarray(0, n), len);
      len += n;
      const e = lineEnd(from);
      if (e >= 0) finish({ line: new TextDecoder("latin1").decode(buf.subarray(0, e)) });
      else if (len === buf.length) finish({ error: "Ignoring incomplete line from agent" });
    });
    s.on("end", () => finish({ error: "Ignoring incomplete line from agent" }));
  });
}

/** Checks one agent. Create, `start()`, and `stop()` on shutdown. */
export class AgentTask extends ProbeTask<AgentOutcome> {
  readonly cfg: AgentConfig;
  readonly #onReply: (o: AgentOutcome) => void;

  /**
   * `onReply` is called from `process()` with each outcome; it must not
   * throw (the scheduler would kill the task).
   */
  constructor(
    sched: Scheduler,
    cfg: AgentConfig,
    onReply: (o: AgentOutcome) => void,
    rnd: () => number = Math.random,
  ) {
    super(sched, rnd);
    this.cfg = cfg;
    this.#onReply = onReply;
  }

  process(now: number): void {
    if (this.stopped) return;
    const o = this.settled;
    if (o !== null) {
      this.settled = null;
      this.#onReply(o);
      this.expire = now + jitter(this.cfg.inter, this.rnd);
      return;
    }
    if (this.inProgress || !this.started || !tickIsExpired(this.expire, now)) return;
    this.expire = TICK_ETERNITY;
    this.launch((signal) => agentProbe(this.cfg, signal));
  }
}
