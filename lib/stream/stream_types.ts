/**
 * Stream flags (SF_*), termination causes (SF_ERR_*) and phases (SF_FINST_*),
 * and the interfaces through which the layers above (frontend, backend,
 * analysers) plug into a stream without the stream knowing them.
 *
 * @module
 */
import type { FlagTable } from "../core/flags.ts";
import type { Stream } from "./stream.ts";

/** Waiting for the pool to grant the channel buffers. */
export const SF_WAIT_BUF = 1 << 0;
/** The stream ended: logged, counters updated; releasing resources. */
export const SF_ENDED = 1 << 1;
/** Someone asked the stream to die (shutdown after grace, admin). */
export const SF_KILL_REQ = 1 << 2;
/** The back side was established at least once. */
export const SF_WAS_EST = 1 << 3;
/** Counted in the backend (beconn) and must be uncounted at the end. */
export const SF_BE_ASSIGNED = 1 << 4;
/** Resources released; the task is dead. */
export const SF_RELEASED = 1 << 5;
/** Holds a connection slot on `target` (server). */
export const SF_SRV_SLOT = 1 << 6;
/** The server connection was an idle one, reused (HTTP keep-alive). */
export const SF_SRV_REUSED = 1 << 7;
/** Do not reuse an idle server connection for the next connect (a retry). */
export const SF_NO_REUSE = 1 << 8;

/** The stream was sent to another server after a failed connection attempt. */
export const SF_REDISP = 1 << 9;
/**
 * The request is the first of its client connection: `http-reuse safe`
 * sends it over a connection of its own (set by the HTTP analyser).
 */
export const SF_FIRST_REQ = 1 << 10;

/** Names for `showFlags()`. */
export const SF_FLAG_NAMES: FlagTable = [
  [SF_WAIT_BUF, "WAIT_BUF"],
  [SF_ENDED, "ENDED"],
  [SF_KILL_REQ, "KILL_REQ"],
  [SF_WAS_EST, "WAS_EST"],
  [SF_BE_ASSIGNED, "BE_ASSIGNED"],
  [SF_RELEASED, "RELEASED"],
  [SF_SRV_SLOT, "SRV_SLOT"],
  [SF_SRV_REUSED, "SRV_REUSED"],
  [SF_NO_REUSE, "NO_REUSE"],
  [SF_REDISP, "REDISP"],
  [SF_FIRST_REQ, "FIRST_REQ"],
];

/** Normal end. */
export const SF_ERR_NONE = 0;
/** Client-side timeout. */
export const SF_ERR_CLITO = 1;
/** Client closed or failed. */
export const SF_ERR_CLICL = 2;
/** Server-side timeout. */
export const SF_ERR_SRVTO = 3;
/** Server closed or failed. */
export const SF_ERR_SRVCL = 4;
/** Stopped by the proxy (rule, invalid input, limit). */
export const SF_ERR_PRXCOND = 5;
/** Resource shortage (memory, sockets, no buffer). */
export const SF_ERR_RESOURCE = 6;
/** Internal error (a bug). */
export const SF_ERR_INTERNAL = 7;
/** Killed because the server went down. */
export const SF_ERR_DOWN = 8;
/** Killed by an administrator or by the end of the grace period. */
export const SF_ERR_KILLED = 9;

/** Answered by the proxy itself (http-request return/redirect), not an error. */
export const SF_ERR_LOCAL = 10;

/** First letter of the termination state, indexed by SF_ERR_*. */
export const SF_ERR_CHARS = "-cCsSPRIDKL";

/** No phase (normal end). */
export const SF_FINST_NONE = 0;
/** Waiting for the request (HTTP) or the client handshake. */
export const SF_FINST_R = 1;
/** Waiting in a queue. */
export const SF_FINST_Q = 2;
/** Connecting to the server. */
export const SF_FINST_C = 3;
/** Waiting for response headers (HTTP). */
export const SF_FINST_H = 4;
/** Transferring data. */
export const SF_FINST_D = 5;
/** Sending the last data to the client after the server finished. */
export const SF_FINST_L = 6;
/** Tarpitted. */
export const SF_FINST_T = 7;

/** Second letter of the termination state, indexed by SF_FINST_*. */
export const SF_FINST_CHARS = "-RQCHDLT";

/** The frontend side of a stream: where it came from and where it reports. */
export interface StreamFrontend {
  /** Frontend name, for logs. */
  readonly name: string;
  /** `timeout client` in ms (0: none). */
  readonly clientTimeout: number;
  /** Stopping gracefully (or replaced by a reload): HTTP keep-alive ends after the current response. */
  readonly stopping: boolean;
  /** Called once when the stream ends (log, counters, listener slot). */
  streamEnd(strm: Stream): void;
}

/** The backend side of a stream: how it gets a server connection. */
export interface StreamBackend {
  /** Backend name, for logs. */
  readonly name: string;
  /** `timeout server` in ms (0: none). */
  readonly serverTimeout: number;
  /** `timeout tunnel` in ms (0: none); replaces client/server once established. */
  readonly tunnelTimeout: number;
  /**
   * Advances the back side (REQ, QUE, ASS, CON, CER) towards EST or CLO,
   * setting the stream's termination state when it gives up.
   */
  processBack(strm: Stream, now: number): void;
  /** Frees the stream's connection slot on its server (keeps `target` for logs). */
  releaseServer(strm: Stream): void;
  /** Called once when the stream ends: frees server slots, counts. */
  streamEnd(strm: Stream): void;
  /** The stream moves to another backend (between HTTP transactions): uncount it. */
  leave(strm: Stream): void;
}

/**
 * An analyser (HTTP) plugged into a stream: it looks at the channels after
 * I/O results and timeouts are in, before the stream's own checks, and may
 * answer, close sides, request the server connection, or let data through.
 * `Txn` is its per-stream state, kept in `strm.txn`.
 */
export interface StreamAnalyser<Txn = unknown> {
  /** Runs once per stream run, before the generic error and timeout checks. */
  process(strm: Stream<Txn>, now: number): void;
  /** The backend gave up connecting (no server, refused, timeout). */
  connectFailed(strm: Stream<Txn>, now: number): void;
  /** The server side got an idle, reused connection (the request may need a retry). */
  reused(strm: Stream<Txn>): void;
  /** The stream ends (after an abort too): log what is pending. */
  end(strm: Stream<Txn>, now: number): void;
}

/** What a frontend keeps in each of its streams: the listener whose connection slot the stream holds. */
export interface StreamFeCtx {
  /** Gives the slot back, once, when the stream ends. */
  release(): void;
}

/** A stream's place in a backend's queue, while it waits for a server slot. */
export interface StreamPend {
  /** Leaves the queue (the stream gave up or is being closed). */
  leave(): void;
}
