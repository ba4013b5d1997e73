/**
 * Types of the log sink (sink.ts) and of its outputs: standard streams and
 * files (sink.ts), syslog over UDP or a unix socket (syslog.ts).
 *
 * @module
 */

/**
 * Where lines go: standard output or error, nowhere, a function
 * (embedding), a file (appended; `reopen()` after rotation), or syslog
 * (`facility` as a number: local0 = 16; RFC 5424 headers unless the sink is
 * told another format) as UDP datagrams to
 * `host:port` or as datagrams to the unix socket at `path` (`/dev/log`).
 */
export type LogTarget =
  | "stdout"
  | "stderr"
  | "none"
  | ((line: string) => void)
  | { file: string }
  | { syslog: "udp"; host: string; port: number; facility: number }
  | { syslog: "unix"; path: string; facility: number };

/** What an output tells its sink. */
export interface LogOutEnv {
  /** `n` queued lines were lost (counted as dropped). */
  lost(n: number): void;
  /** The destination fails: the sink passes the first report per sink on to a person. */
  report(message: string): void;
}

/**
 * One destination of a LogSink. The sink queues lines (headers included)
 * within its byte budget and hands them to `put()` one batch at a time, never two at
 * once.
 */
export interface LogOut {
  /**
   * Longest wait, in ms, for queued lines when the sink closes. A send to a
   * unix syslog socket whose daemon stopped reading blocks, and Deno cannot
   * cancel it; files and standard streams wait for everything (Infinity).
   */
  readonly closeWaitMs: number;
  /**
   * Writes a batch of lines (each with its header). Lines lost one by one go to
   * `env.lost()` and the output stays usable; a rejection means it is
   * unusable for good, and the sink drops the rest and every later line.
   */
  put(lines: string[]): Promise<void>;
  /**
   * Writes newline-ended lines already encoded (standard streams and
   * files): the sink then formats lines, headers included, straight into byte
   * batches. The bytes must not be changed until the promise settles.
   */
  putBytes?(bytes: Uint8Array): Promise<void>;
  /** Opens a log file again after a rotation; nothing for other outputs. Throws when it cannot. */
  reopen(): void;
  /** Releases the file or socket; later batches are lost. */
  close(): void;
}
