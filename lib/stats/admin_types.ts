/**
 * Types of the runtime API (HAProxy's "stats socket" command line): what
 * the API needs from a running sluice (`AdminTarget`), the state it reads
 * besides the counters of `InstanceStats`, and the per-connection CLI state.
 *
 * @module
 */
import type { HttpCache } from "../http/cache_store.ts";
import type { TlsCertStore } from "../conn/tls_cert_store.ts";
import type { InstanceStats } from "./stats_types.ts";

/** A certificate line of a crt-list file (or a file of a `crt` directory, line 0). */
export interface CrtListEntry {
  /** The certificate file, as `show ssl cert` names it. */
  readonly crt: string;
  /** Line number in the list; 0 for a directory's files. */
  readonly line: number;
  /** SNI filters of the line (`!name` ones too), as written. */
  readonly filters: readonly string[];
}

/** The crt-lists and `crt` directories in use by name, their entries in file order. */
export type CrtLists = ReadonlyMap<string, readonly CrtListEntry[]>;

/** Admin state of a server, as `setServer()` takes it. */
export type AdminSrvState = "ready" | "drain" | "maint";

/** Process-wide facts for `show info`. */
export interface AdminInfo {
  /** Process id (`Deno.pid`). */
  pid: number;
  /** When this process started, ms since the epoch (stays the same across reloads). */
  startTime: number;
  /** Process-wide connection limit (`global maxconn`), 0 for none. */
  maxconn: number;
  /** Bound listeners. */
  listeners: number;
  /** True while stopping (graceful stop in progress). */
  stopping: boolean;
  /** Host name shown as `node`, "" to leave it out. */
  node: string;
  /** Worker threads (`nbthread`); 1 when sluice runs on one thread. Default 1. */
  nbthread?: number;
  /**
   * With worker threads: the resource-limit flags each worker reported in
   * the last seconds (CONNS, PAPER, QUEUE, FDS, TASKS, OOM), one entry per
   * worker, and how many workers were replaced.
   */
  threads?: { flags: string[][]; restarts: number };
}

/** A frontend's settings that `stats()` does not carry. */
export interface AdminFeState {
  name: string;
  mode: "http" | "tcp";
  /** Frontend maxconn, 0 for none. */
  maxconn: number;
}

/** A server's run-time state that `stats()` does not carry. */
export interface AdminSrvInfo {
  name: string;
  /** Address without port: an IP literal or host name, or "unix" for a unix socket (as HAProxy). */
  addr: string;
  /** Port, 0 for a unix socket. */
  port: number;
  /** Admin state (what the operator asked). */
  admin: AdminSrvState;
  /** Operational state (what checks found); true without checks. */
  up: boolean;
  /** Current (user) weight and the weight from the configuration. */
  weight: number;
  iweight: number;
  /** Concurrent stream limit and queue limit, 0 for none. */
  maxconn: number;
  maxqueue: number;
  /** Seconds since the last state change. */
  lastChangeSec: number;
  /** True when traffic to the server uses TLS. */
  tls: boolean;
  /** Health check settings, or null without checks. */
  check: { rise: number; fall: number; port: number } | null;
}

/** A backend's settings and its servers' state, in configuration order. */
export interface AdminBeState {
  name: string;
  mode: "http" | "tcp";
  /** Balance algorithm as configured (`roundrobin`, `hdr(host)`...). */
  algo: string;
  servers: AdminSrvInfo[];
}

/** What the runtime API reads besides counters, in configuration order. */
export interface AdminState {
  frontends: AdminFeState[];
  backends: AdminBeState[];
}

/** One live stream for `show sess`. */
export interface AdminSession {
  /** A number unique among live streams (shown as `0x<hex>` like HAProxy's pointer). */
  id: number;
  /** `tcpv4`, `tcpv6` or `unix_stream`. */
  proto: string;
  /** Client address and port (`127.0.0.1:40000`, `[::1]:40000`, `unix`). */
  src: string;
  frontend: string;
  /** Backend name, "" when none was chosen yet. */
  backend: string;
  /** Server name, "" when none is assigned. */
  server: string;
  /** Age in ms. */
  ageMs: number;
}

/**
 * What the runtime API needs from a running sluice. Implement it on the
 * instance (or on the handle, so that it follows reloads). Every method is
 * synchronous; the API checks that backends and servers exist (through
 * `state()`) before calling a setter, so setters may throw only on
 * unexpected failures (the message is shown as one line).
 */
export interface AdminTarget {
  /** Reopens the log file; returns null, or why it failed. Absent when logs do not go to a file. */
  reopenLogs?(): string | null;
  /** Counters (frontends, backends, servers, pool, scheduler). */
  stats(): InstanceStats;
  /** Settings and server states, in the same order as `stats()`. */
  state(): AdminState;
  /** Process-wide facts. */
  info(): AdminInfo;
  /** Changes a server's admin state and/or weight (0..256), like `Instance.setServer()`. */
  setServer(
    backend: string,
    server: string,
    change: { state?: AdminSrvState; weight?: number },
  ): void;
  /** Sets a server's maxconn (0: no limit); a raised limit takes queued streams at once. */
  setMaxconn(backend: string, server: string, maxconn: number): void;
  /** Kills every stream assigned to the server; returns how many. */
  shutdownSessions(backend: string, server: string): number;
  /** Live streams for `show sess`; without it `show sess` prints counts only. */
  sessions?(): AdminSession[];
  /** The HTTP caches, for `show cache` and `clear cache`; absent: none. */
  caches?(): ReadonlyMap<string, HttpCache>;
  /**
   * With worker threads, whose caches are their own: runs `show cache` or
   * `clear cache [name]` in every worker and returns the output (null: use
   * `caches()`).
   */
  cacheCommand?(cmd: "show" | "clear", name: string | undefined): string | null;
  /** The listeners' certificates by file (`show/set/commit/abort ssl cert`); absent: none. */
  sslCerts?(): TlsCertStore | null;
  /**
   * With worker threads, each holding its own certificates: runs a
   * certificate command (`set`/`commit`/`abort ssl cert`, with its payload)
   * that succeeded here in every worker too, before the reply.
   */
  forwardSsl?(command: string, payload: string | null): void;
  /** The listeners' crt-list files and `crt` directories (`show ssl crt-list`); absent: none. */
  crtLists?(): CrtLists;
}

/**
 * State of one CLI connection: interactive ("prompt") mode and whether the
 * client asked to quit. `exec()` updates it; the socket reads it.
 */
export interface AdminCliSession {
  interactive: boolean;
  quit: boolean;
}

/** The runtime API, independent of any socket. */
export interface AdminApi {
  /**
   * Runs one command line (several commands separated by `;`) and returns
   * the whole answer: each command's output followed by an empty line, like
   * HAProxy. `payload` is the text a line ending with `<<` carries (up to an
   * empty line), given to the line's last command (`set ssl cert`). Never
   * throws.
   */
  exec(line: string, cli?: AdminCliSession, payload?: string): string;
}
