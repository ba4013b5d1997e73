/**
 * Applies the defaults of a check configuration and checks its values. The
 * config layer calls this once per server (and adds `file:line` to the
 * message); `probe()` calls it too, so a bad value never reaches the wire
 * (a CR or LF in the path would otherwise let a config inject headers).
 *
 * @module
 */
import {
  CHECK_DEFAULT_FALL,
  CHECK_DEFAULT_INTER,
  CHECK_DEFAULT_METHOD,
  CHECK_DEFAULT_PATH,
  CHECK_DEFAULT_RISE,
  CHECK_DEFAULT_STATUS,
  type CheckConfig,
  type ResolvedCheckConfig,
} from "./check_types.ts";

/** RFC 9110 token characters (method names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A request target: visible ASCII, no space (RFC 9112 origin-form or asterisk-form). */
const TARGET = /^(\/[\x21-\x7e]*|\*)$/;
/** A Host value: visible ASCII, no space. */
const HOST = /^[\x21-\x7e]+$/;

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(`Invalid check ${name} "${v}": must be a positive number of milliseconds`);
  }
  return v;
}

function count(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) {
    throw new Error(`Invalid check ${name} "${v}": must be an integer of at least 1`);
  }
  return v;
}

/**
 * Returns `cfg` with every default applied (see `CheckConfig`). Throws an
 * Error naming the bad value (sentence case, value quoted) when one is out
 * of range or would not make a valid HTTP request.
 *
 * @example
 * ```ts
 * import { checkConfigResolve } from "./check_config.ts";
 * const c = checkConfigResolve({ type: "http", inter: 1000 });
 * c.fastinter; // 1000
 * c.http.status; // [200, 399]
 * ```
 */
export function checkConfigResolve(cfg: CheckConfig): ResolvedCheckConfig {
  if (cfg.type !== "tcp" && cfg.type !== "http") {
    throw new Error(`Invalid check type "${cfg.type}": expected "tcp" or "http"`);
  }
  const inter = positive("inter", cfg.inter, CHECK_DEFAULT_INTER);
  const fastinter = positive("fastinter", cfg.fastinter, inter);
  const downinter = positive("downinter", cfg.downinter, inter);
  const timeout = positive("timeout", cfg.timeout, inter);
  const rise = count("rise", cfg.rise, CHECK_DEFAULT_RISE);
  const fall = count("fall", cfg.fall, CHECK_DEFAULT_FALL);
  const port = cfg.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new Error(`Invalid check port "${port}": must be 1 to 65535`);
  }
  const tls = cfg.tls;
  if (tls?.verify !== undefined && tls.verify !== "required" && tls.verify !== "none") {
    throw new Error(`Invalid check TLS verify "${tls.verify}": expected "required" or "none"`);
  }
  const h = cfg.http ?? {};
  const method = h.method ?? CHECK_DEFAULT_METHOD;
  if (!TOKEN.test(method)) throw new Error(`Invalid check method "${method}"`);
  const path = h.path ?? CHECK_DEFAULT_PATH;
  if (!TARGET.test(path)) {
    throw new Error(`Invalid check path "${path}": must start with "/" and contain no space`);
  }
  if (h.host !== undefined && !HOST.test(h.host)) {
    throw new Error(`Invalid check Host "${h.host}": must be visible ASCII without space`);
  }
  const status = h.expect?.status ?? CHECK_DEFAULT_STATUS;
  const [lo, hi] = status;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 100 || hi > 599 || lo > hi) {
    throw new Error(`Invalid check status range "${lo}-${hi}": must be within 100-599`);
  }
  const string = h.expect?.string;
  if (string !== undefined && string.length === 0) {
    throw new Error(`Invalid check expected string "": must not be empty`);
  }
  return {
    type: cfg.type,
    inter,
    fastinter,
    downinter,
    rise,
    fall,
    timeout,
    port,
    tls,
    http: { method, path, host: h.host, status: [lo, hi], string },
  };
}
