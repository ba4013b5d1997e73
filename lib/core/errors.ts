/**
 * Errors at the edges (CLI, configuration, public API) carry a stable `code`
 * that programs can test; hot paths never throw and record codes instead.
 *
 * @module
 */

/** Stable codes of edge errors. Never renumber or rename: users match on them. */
export type SluiceErrorCode =
  | "ERR_USAGE" // unknown flag, missing value, bad combination
  | "ERR_CONFIG" // a configuration value or keyword is invalid
  | "ERR_ADDRESS" // an address cannot be parsed
  | "ERR_DURATION" // a duration cannot be parsed
  | "ERR_BIND" // a listener cannot be bound
  | "ERR_TLS" // certificate or key cannot be read or used
  | "ERR_STATE" // the operation does not fit the current state (e.g. closed)
  | "ERR_PERMISSION" // a Deno permission sluice needs was not granted
  | "ERR_UNSUPPORTED"; // not possible on this platform

/**
 * An error reported to a person: one sentence-case line, no final period,
 * values quoted. `where` is `file:line` for configuration errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SluiceError } from "./errors.ts";
 * const err = new SluiceError("ERR_CONFIG", "a.cfg:3: unsupported keyword \"x\"", "a.cfg:3");
 * assert(err.code === "ERR_CONFIG" && err.where === "a.cfg:3");
 * ```
 */
export class SluiceError extends Error {
  /** Stable machine-readable code. */
  readonly code: SluiceErrorCode;
  /** `file:line` for configuration errors, otherwise undefined. */
  readonly where?: string;
  /**
   * Every error found, in file and line order, when a configuration had
   * several: the message then lists them, one per line, and `where` is the
   * first one's. Undefined otherwise.
   */
  declare readonly errors?: readonly SluiceError[];

  /**
   * An error with a stable `code`, a one-line `message` and, for
   * configuration errors, the `file:line` (or field path) in `where`;
   * `errors` when it stands for several.
   */
  constructor(
    code: SluiceErrorCode,
    message: string,
    where?: string,
    errors?: readonly SluiceError[],
  ) {
    super(message);
    this.name = "SluiceError";
    this.code = code;
    this.where = where;
    if (errors !== undefined) this.errors = errors;
  }
}

/**
 * The message of anything a `catch` got: an Error's message, else the value
 * as text. One spelling for every edge that reports a caught error.
 *
 * @example
 * ```ts
 * import { errMsg } from "./errors.ts";
 * console.assert(errMsg(new Error("boom")) === "boom");
 * console.assert(errMsg("plain") === "plain");
 * ```
 */
export function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
