/**
 * Checked values at a field path: the helpers resolveConfig() and its
 * parts use to read one field of a SluiceConfig, apply its default and
 * refuse a bad value with `Invalid configuration at <path>: <why>` (ERR_CONFIG,
 * or ERR_ADDRESS for addresses).
 *
 * They take positional arguments, (path, value, default, bounds), beyond
 * STYLE.md's two plus options: each call then reads as the field's spec,
 * `resolveInt("global.maxconn", g.maxconn, DEFAULT_MAXCONN, 1, 1_000_000)`.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { parseAddress } from "./address.ts";
import type { FrontendHooks, ProxyMode } from "./config_types.ts";
import { MAX_DURATION_MS } from "./duration.ts";

/** An HTTP token (RFC 9110). */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The errors of one resolution: each part that fails (a backend, a server,
 * a rule...) is recorded and left out, so that one run reports them all.
 */
export class ResolveErrors {
  /** The errors, in the order found. */
  readonly list: SluiceError[] = [];

  /** `fn()`, or `fallback` when it throws a SluiceError (which is recorded). */
  run<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      this.list.push(err);
      return fallback;
    }
  }
}

/** Throws the configuration error at `where` (ERR_CONFIG). */
export function resolveFail(where: string, why: string): never {
  throw new SluiceError("ERR_CONFIG", `Invalid configuration at ${where}: ${why}`, where);
}

/** An integer in `min..max`, `dflt` when absent. */
export function resolveInt(
  where: string,
  v: unknown,
  dflt: number,
  min: number,
  max: number,
): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    resolveFail(where, `expected an integer, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) resolveFail(where, `${v} is outside ${min}..${max}`);
  return v;
}

/** A proxy or server name: letters, digits, `-`, `_`, `.`, `:`. */
export function resolveName(where: string, v: unknown): string {
  if (typeof v !== "string" || !NAME.test(v)) {
    resolveFail(
      where,
      `expected a name of letters, digits, "-", "_", ".", ":", got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** A duration in ms (0 to the longest timer), `dflt` when absent. */
export function resolveTimeout(where: string, v: unknown, dflt: number): number {
  return resolveInt(where, v, dflt, 0, MAX_DURATION_MS);
}

/** `"http"` (the default) or `"tcp"`. */
export function resolveMode(where: string, v: unknown): ProxyMode {
  if (v === undefined || v === "http") return "http";
  if (v === "tcp") return "tcp";
  return resolveFail(where, `unknown mode ${JSON.stringify(v)} (expected "http" or "tcp")`);
}

/** `true` or `false`, `dflt` when absent. */
export function resolveBool(where: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") {
    resolveFail(where, `expected true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** PEM text. */
export function resolvePem(where: string, v: unknown): string {
  if (typeof v !== "string" || !v.includes("-----BEGIN ")) resolveFail(where, "expected PEM text");
  return v;
}

/** An address (see parseAddress()); its errors become ERR_ADDRESS at `where`. */
export function resolveAddress(
  where: string,
  text: unknown,
  opts: { port0?: boolean; tls?: boolean },
) {
  if (typeof text !== "string") resolveFail(where, "expected an address string");
  try {
    return parseAddress(text, opts);
  } catch (err) {
    if (err instanceof SluiceError) {
      throw new SluiceError(
        "ERR_ADDRESS",
        `Invalid configuration at ${where}: ${err.message}`,
        where,
      );
    }
    throw err;
  }
}

/** Checks TypeScript hooks: functions, HTTP mode only. */
export function resolveHooks(
  at: string,
  hooks: FrontendHooks | undefined,
  m: ProxyMode,
): FrontendHooks | null {
  if (hooks === undefined) return null;
  if (typeof hooks !== "object" || hooks === null) {
    resolveFail(at, "expected { onRequest?, onResponse? }");
  }
  if (m !== "http") resolveFail(at, 'hooks need mode "http"');
  for (const k of ["onRequest", "onResponse"] as const) {
    if (hooks[k] !== undefined && typeof hooks[k] !== "function") {
      resolveFail(`${at}.${k}`, "expected a function");
    }
  }
  return hooks;
}

/**
 * `minVersion`/`maxVersion` of a TLS setting at `at`: each absent or
 * "TLSv1.2"/"TLSv1.3" (the versions sluice's TLS has), min not above max.
 */
export function resolveTlsVersions(
  at: string,
  t: { minVersion?: unknown; maxVersion?: unknown },
): { minVersion?: "TLSv1.2" | "TLSv1.3"; maxVersion?: "TLSv1.2" | "TLSv1.3" } {
  const one = (k: "minVersion" | "maxVersion") => {
    const v = t[k];
    if (v === undefined || v === "TLSv1.2" || v === "TLSv1.3") return v;
    return resolveFail(
      `${at}.${k}`,
      `expected "TLSv1.2" or "TLSv1.3" (sluice's TLS has no older version), got ${
        JSON.stringify(v)
      }`,
    );
  };
  const minVersion = one("minVersion"), maxVersion = one("maxVersion");
  if (minVersion === "TLSv1.3" && maxVersion === "TLSv1.2") {
    resolveFail(`${at}.minVersion`, "the minimum version is above the maximum");
  }
  const out: { minVersion?: "TLSv1.2" | "TLSv1.3"; maxVersion?: "TLSv1.2" | "TLSv1.3" } = {};
  if (minVersion !== undefined) out.minVersion = minVersion;
  if (maxVersion !== undefined) out.maxVersion = maxVersion;
  return out;
}
