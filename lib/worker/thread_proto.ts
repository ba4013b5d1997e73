/**
 * The control protocol between the control thread and its worker threads
 * (`nbthread` > 1): the messages each side posts, and the reply region
 * through which a worker answers a synchronous question.
 *
 * Life cycle: the control thread posts `start`; the worker answers `ready`
 * (its bound addresses) or `failed`; it then posts `event` (log lines it
 * wants written once, by the control thread) and `health` (every second:
 * crash count and resource-limit flags). The control thread posts `servers`
 * (server states from its checks and the runtime API), `stop` (drain and
 * exit: apoptosis) and, for tests only, `crash`. The worker answers `stop`
 * with `stopped` and exits.
 *
 * Questions (`ask`: stats, sessions, runtime API changes) must be answered
 * before the runtime API replies, and the runtime API is synchronous: so the
 * control thread posts the question and blocks in `Atomics.wait()` on the
 * worker's reply region (a SharedArrayBuffer) until the worker has written
 * its answer there (JSON) and bumped the sequence number. The control thread
 * serves no traffic, so blocking it a few milliseconds costs no request;
 * a worker that does not answer within the timeout is counted as missing
 * (and its answer left out).
 *
 * @module
 */
import type { SluiceConfig } from "../cfg/config_types.ts";
import type { ServerStateView } from "../backend/backend.ts";
import type { ListenAddress } from "./instance.ts";
import type { InstanceStats } from "../stats/stats_types.ts";

/** Where a worker's configuration comes from: the control thread's checked model. */
export interface WorkerStart {
  t: "start";
  /** Worker number, 0-based (worker 0 also serves unix-socket listeners). */
  index: number;
  /** The configuration model (functions cannot cross threads: hooks come from `hooksModule`). */
  config: SluiceConfig;
  /** URL of a module exporting hooks (see hooks_module.ts), or null. */
  hooksModule: string | null;
  /** The shared counts of this generation (see SharedCounts). */
  counts: { sab: SharedArrayBuffer; names: string[]; mine: SharedArrayBuffer };
  /** The shared balancing state (lbSharedSize() bytes). */
  lb: SharedArrayBuffer;
  /** The reply region of this worker. */
  reply: SharedArrayBuffer;
  /** The worker's fd table (libc.ts fdTableUse()): one byte per fd it holds open. */
  fds: SharedArrayBuffer;
  /** BroadcastChannel name on which the workers of a generation tell each other of freed server slots. */
  slotChannel: string;
  /** Server states to start with (the control thread's view), `[backend][server]`. */
  servers: ServerStateView[][];
  /** Under `tls-isolation`: links (MessagePorts, transferred) to TLS workers; more come as `link` messages. */
  links: { index: number; port: MessagePort }[];
}

/**
 * A TLS worker's start (`tls-isolation`, tls_main.ts): the whole model,
 * keys included, of which it serves the TLS listeners.
 */
export interface TlsWorkerStart {
  t: "tls-start";
  /** TLS worker number, 0-based. */
  index: number;
  config: SluiceConfig;
  reply: SharedArrayBuffer;
  /** A link to each HTTP worker (transferred). */
  links: { index: number; port: MessagePort }[];
}

/** A question to every worker; the answer goes to the reply region. */
export type AskQuery =
  | { k: "stats" }
  | { k: "sessions" }
  | { k: "servers"; states: ServerStateView[][] }
  | { k: "shutdown"; backend: string; server: string }
  | { k: "reopen" }
  | { k: "unlisten" }
  | { k: "cache"; cmd: "show" | "clear"; name?: string }
  | { k: "ssl"; command: string; payload: string | null };

/** Control thread to worker. */
export type ToWorker =
  | WorkerStart
  | TlsWorkerStart
  /** `tls-isolation`: a new link to worker `index` of the other kind (its port transferred). */
  | { t: "link"; index: number; port: MessagePort }
  /** `tls-isolation`: worker `index` of the other kind is gone: its connections are aborted. */
  | { t: "unlink"; index: number }
  /** `tls-isolation`, to TLS workers: HTTP worker `index` is stopping: no new connection for it. */
  | { t: "retire"; index: number }
  | { t: "ask"; seq: number; q: AskQuery }
  | { t: "servers"; states: ServerStateView[][] }
  /** The whole process's counters, every second, for `use-service prometheus-exporter`. */
  | { t: "stats"; stats: InstanceStats }
  | { t: "stop"; graceful: boolean; graceMs?: number }
  | { t: "crash" };

/** Resource-limit flags a worker reports (shttpd's OOM, LIMIT_TASKS, LIMIT_PAPER, LIMIT_FDS…). */
export type LimitFlag = "CONNS" | "PAPER" | "QUEUE" | "FDS" | "TASKS" | "OOM";

/** Worker to control thread. */
export type FromWorker =
  | { t: "ready"; addresses: ListenAddress[] }
  | { t: "failed"; code: string; message: string }
  | { t: "event"; line: string; level: "notice" | "warning" | "alert" }
  /** A limit reached (`key`: its kind), which the control thread rate-limits for the process. */
  | { t: "limit"; key: string; line: string }
  /** A line for log target function number `fn` (see thread_config.ts). */
  | { t: "log"; fn: number; line: string }
  | { t: "health"; crashes: number; flags: LimitFlag[] }
  /** Passive health (`observe`) changed a server's state here: the control thread applies and publishes it. */
  | { t: "opstate"; backend: number; server: number; up: boolean; reason: string }
  | { t: "stopped" };

/** Fds a worker's fd table covers (one byte each, committed only where written). */
export const FD_TABLE_SIZE = 1 << 20;

/** Bytes of a reply region: answers larger than this are refused with an error. */
export const REPLY_BYTES = 16 << 20;
/** Header: [0] sequence number of the last answer, [1] its length in bytes. */
const HDR = 8;

/** A new reply region (memory is committed only as answers are written). */
export function replyRegion(): SharedArrayBuffer {
  return new SharedArrayBuffer(HDR + REPLY_BYTES);
}

/**
 * JSON with typed arrays (the histograms' raw buckets) written sparsely:
 * `{"$f64": length, "nz": [index, value, ...]}`.
 */
function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Float64Array) {
    const nz: number[] = [];
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) nz.push(i, v[i]);
    return { $f64: v.length, nz };
  }
  // JSON has no Infinity: the histograms' +Inf bound and an empty one's min.
  if (v === Infinity) return { $inf: 1 };
  if (v === -Infinity) return { $inf: -1 };
  return v;
}

function reviver(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === "object") {
    const o = v as { $f64?: number; nz?: number[]; $inf?: number };
    if (typeof o.$f64 === "number" && Array.isArray(o.nz)) {
      const a = new Float64Array(o.$f64);
      for (let i = 0; i + 1 < o.nz.length; i += 2) a[o.nz[i]] = o.nz[i + 1];
      return a;
    }
    if (typeof o.$inf === "number" && Object.keys(o).length === 1) {
      return o.$inf > 0 ? Infinity : -Infinity;
    }
  }
  return v;
}

/** Encodes a value as the protocol's JSON (typed arrays and infinities kept). */
export function encodeReply(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: value }, replacer));
}

/** Decodes encodeReply()'s bytes. */
export function decodeReply(bytes: Uint8Array): unknown {
  return (JSON.parse(new TextDecoder().decode(bytes), reviver) as { v: unknown }).v;
}

/** The worker's side: writes the answer to question `seq` and wakes the control thread. */
export function writeReply(region: SharedArrayBuffer, seq: number, value: unknown): void {
  let bytes = encodeReply(value);
  if (bytes.length > REPLY_BYTES) {
    bytes = encodeReply({ error: `answer too large (${bytes.length} bytes)` });
  }
  new Uint8Array(region, HDR, bytes.length).set(bytes);
  const hdr = new Int32Array(region, 0, 2);
  Atomics.store(hdr, 1, bytes.length);
  Atomics.store(hdr, 0, seq);
  Atomics.notify(hdr, 0);
}

/**
 * The control thread's side: waits until the answer to `seq` is in
 * `region` or `deadline` (a `performance.now()` time) passes; returns the
 * answer, or undefined when it did not come in time.
 */
export function waitReply(region: SharedArrayBuffer, seq: number, deadline: number): unknown {
  const hdr = new Int32Array(region, 0, 2);
  for (;;) {
    const cur = Atomics.load(hdr, 0);
    if (cur === seq) break;
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    Atomics.wait(hdr, 0, cur, left);
  }
  const len = Atomics.load(hdr, 1);
  return decodeReply(new Uint8Array(region, HDR, len).slice());
}

/** Resolves once `cond()` holds, or at `end` (Date.now() ms), looking every 20 ms (a worker's stop). */
export async function waitUntil(cond: () => boolean, end: number): Promise<void> {
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
