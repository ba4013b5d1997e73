/**
 * Where a configuration keyword is being parsed (file, line, section,
 * keyword) and how errors there are worded. Every configuration file error
 * is a SluiceError with code ERR_CONFIG, `where` = `file:line`, and a message
 * starting with `file:line: ` that names the keyword:
 *
 * - `unsupported keyword "X" in section "backend be" (see docs/migrating-from-haproxy.md)`
 * - `invalid value "V" for "timeout connect": <why>`
 * - `keyword "X" is not allowed in section "backend be" (...)`
 * - `missing value for "X"`, `unexpected argument "V" for "X"`
 *
 * Warnings (a keyword that loads but that sluice leaves to something else)
 * are `file:line: warning: ...` lines, collected rather than thrown.
 *
 * Values are converted here too (integers, durations, sizes, files), so that
 * every conversion error carries the same shape.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { errMsg, SluiceError } from "../core/errors.ts";
import { parseDuration } from "./duration.ts";
import { type CfgTlsDefaults, cfgTlsDefaultsNew } from "./cfg_tls.ts";

/** Control characters as escapes (`\r`, `\x01`), so that a message stays one printable line. */
function cfgPrintable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => {
    if (c === "\r") return "\\r";
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/**
 * Builds a configuration error at `where` (`file:line`). Values quoted in
 * `msg` may hold control characters (from escapes): they are shown escaped.
 */
export function cfgError(where: string, msg: string): SluiceError {
  return new SluiceError("ERR_CONFIG", `${where}: ${cfgPrintable(msg)}`, where);
}

/**
 * The errors of one load as one error to throw: the error itself when there
 * is one, else an ERR_CONFIG error whose message lists them, one per line,
 * and whose `errors` holds them. `errors` is not empty.
 */
export function cfgErrors(errors: readonly SluiceError[]): SluiceError {
  if (errors.length === 1) return errors[0];
  const msg = errors.map((e) => e.message).join("\n");
  return new SluiceError("ERR_CONFIG", msg, errors[0].where, errors);
}

/** A warning about a configuration file line. */
export interface CfgWarning {
  /** `file:line`. */
  readonly where: string;
  /** `file:line: warning: ...`, one printable line. */
  readonly message: string;
}

/** Builds the warning at `where` (`file:line`). */
export function cfgWarning(where: string, msg: string): CfgWarning {
  return { where, message: `${where}: warning: ${cfgPrintable(msg)}` };
}

/** Multipliers of HAProxy sizes (`100k`): powers of 1024, as HAProxy's parse_size_err(). */
const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * The keyword being parsed and where. `kw` is the whole keyword as the
 * messages name it, including sub-keywords (`"timeout connect"`,
 * `"server weight"`). Methods return errors rather than throwing them so that
 * callers write `throw at.badValue(...)` and TypeScript sees the exit.
 */
export class CfgAt {
  /** `file:line`. */
  readonly where: string;
  /** The section as messages name it: `global`, `defaults`, `backend be`. */
  readonly section: string;
  /** The keyword as messages name it. */
  readonly kw: string;
  /** Directory that relative file names are resolved against (the config file's). */
  readonly dir: string;
  /** Where warn() puts its warnings. */
  readonly warnings: CfgWarning[];
  /** What `global` set so far for TLS lines (`crt-base`, `ssl-default-bind-options`...). */
  readonly tls: CfgTlsDefaults;

  constructor(
    at: {
      where: string;
      section: string;
      kw: string;
      dir: string;
      warnings?: CfgWarning[];
      tls?: CfgTlsDefaults;
    },
  ) {
    this.where = at.where;
    this.section = at.section;
    this.kw = at.kw;
    this.dir = at.dir;
    this.warnings = at.warnings ?? [];
    this.tls = at.tls ?? cfgTlsDefaultsNew();
  }

  /** The same place with another keyword (an option of this keyword's line). */
  sub(kw: string): CfgAt {
    return new CfgAt({ ...this, kw });
  }

  /** Records a warning at this line. */
  warn(msg: string): void {
    this.warnings.push(cfgWarning(this.where, msg));
  }

  /** Any error at this line. */
  fail(msg: string): SluiceError {
    return cfgError(this.where, msg);
  }

  /** `unsupported keyword "X" in section "S"`, with a reason or a pointer to the README. */
  unsupported(kw: string = this.kw, why?: string): SluiceError {
    const tail = why === undefined ? " (see docs/migrating-from-haproxy.md)" : `: ${why}`;
    return this.fail(`unsupported keyword "${kw}" in section "${this.section}"${tail}`);
  }

  /** `invalid value "V" for "X": why`. */
  badValue(value: string, why: string): SluiceError {
    return this.fail(`invalid value "${value}" for "${this.kw}": ${why}`);
  }

  /** Checks that a keyword got between `min` and `max` arguments. */
  args(args: readonly string[], min: number, max: number): void {
    if (args.length < min) throw this.fail(`missing value for "${this.kw}"`);
    if (args.length > max) {
      throw this.fail(`unexpected argument "${args[max]}" for "${this.kw}"`);
    }
  }

  /** The value following an option on a line (`weight 3`), or a "missing value" error. */
  value(args: readonly string[], i: number): string {
    const v = args[i];
    if (v === undefined) throw this.fail(`missing value for "${this.kw}"`);
    return v;
  }

  /** A non-negative decimal integer; with `signed`, a leading "-" is allowed too. */
  int(text: string, opts: { signed?: boolean } = {}): number {
    const re = opts.signed ? /^-?[0-9]+$/ : /^[0-9]+$/;
    if (!re.test(text)) {
      throw this.badValue(
        text,
        opts.signed ? "expected an integer" : "expected a non-negative integer",
      );
    }
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw this.badValue(text, "the number is too large");
    return n;
  }

  /** A duration in HAProxy units, in ms (no unit: ms). */
  duration(text: string): number {
    try {
      return parseDuration(text);
    } catch (err) {
      const msg = errMsg(err);
      // parseDuration's messages repeat the value: keep only the reason.
      const why = msg.replace(/^Cannot parse duration "[^"]*": /, "")
        .replace(/^Duration "[^"]*" is /, "");
      throw this.badValue(text, why);
    }
  }

  /** A count with an optional HAProxy size suffix: `k`, `m`, `g` (powers of 1024). */
  size(text: string): number {
    const m = /^([0-9]+)([kmg]?)$/i.exec(text);
    if (m === null) throw this.badValue(text, "expected a number with an optional k, m or g");
    const n = Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
    if (!Number.isSafeInteger(n)) throw this.badValue(text, "the number is too large");
    return n;
  }

  /** One of `allowed`, or an error listing them. */
  oneOf<T extends string>(text: string, allowed: readonly T[]): T {
    if ((allowed as readonly string[]).includes(text)) return text as T;
    const list = allowed.map((a) => `"${a}"`);
    const last = list.pop();
    throw this.badValue(
      text,
      `expected ${list.length === 0 ? last : `${list.join(", ")} or ${last}`}`,
    );
  }

  /** `file` resolved against the configuration file's directory. */
  path(file: string): string {
    return isAbsolute(file) ? file : join(this.dir, file);
  }

  /**
   * A `crt` (or `ca-file`) name: relative to `crt-base` (`ca-base`) when
   * global set one, as HAProxy, else to the configuration file's directory.
   */
  tlsPath(file: string, base: "crt" | "ca"): string {
    const dir = base === "crt" ? this.tls.crtBase : this.tls.caBase;
    return dir === undefined || isAbsolute(file) ? file : join(dir, file);
  }

  /** The bytes of a file named by this keyword (relative to the config file). */
  readFile(file: string): Uint8Array {
    try {
      return Deno.readFileSync(this.path(file));
    } catch (err) {
      throw this.badValue(file, `cannot read it: ${errMsg(err)}`);
    }
  }

  /** The text of a PEM file named by this keyword. */
  readPem(file: string): string {
    const text = new TextDecoder().decode(this.readFile(file));
    if (!text.includes("-----BEGIN ")) throw this.badValue(file, "not a PEM file");
    return text;
  }
}
