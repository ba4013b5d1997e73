/**
 * TLS settings of configuration files shared by `bind ... ssl`, `server ...
 * ssl` and the `global` defaults: the protocol version options (HAProxy's
 * `ssl-min-ver`, `ssl-max-ver`, `no-tlsv1x`, `force-tlsv1x`), the
 * `ssl-default-bind-options` / `ssl-default-server-options` that every
 * `bind`/`server` line starts from, and `ca-base` / `crt-base`.
 *
 * sluice's TLS (Deno's node:tls, rustls) speaks TLS 1.2 and 1.3 only, and
 * cannot choose cipher suites or turn session tickets off (measured on Deno
 * 2.9.6: `ciphers` and `secureOptions` are ignored, TLS 1.2 tickets are
 * always issued). So a range reaching below TLS 1.2 loads with a warning
 * (older clients cannot connect, as with a minimum of TLS 1.2), one with no
 * TLS 1.2 or 1.3 in it is an error, and `no-tls-tickets` is refused.
 *
 * @module
 */
import type { CfgAt } from "./cfg_at.ts";
import { cipherCheck, cipherListSet, cipherSuitesSet } from "./cfg_ciphers.ts";

/** A cipher list as the set it allows (cfg_ciphers.ts) and where it was written. */
export interface CfgCipherList {
  readonly set: number;
  readonly where: string;
}

/** HAProxy's version names, oldest first. */
const VERSIONS = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
type CfgTlsVersionName = typeof VERSIONS[number];
/** Index in VERSIONS of the oldest version sluice's TLS has. */
const OLDEST = 3;

/** `no-*` and `force-*` options, by the version they name. */
const BY_OPTION: Record<string, number> = {
  "sslv3": 0,
  "tlsv10": 1,
  "tlsv11": 2,
  "tlsv12": 3,
  "tlsv13": 4,
};

/** Version options of one `bind`/`server` line, or of a `ssl-default-*-options` line. */
export interface CfgTlsVersionOpts {
  /** `ssl-min-ver`, as an index in VERSIONS. */
  min?: number;
  /** `ssl-max-ver`. */
  max?: number;
  /** Versions turned off by `no-*` (bit per VERSIONS index). */
  off?: number;
  /** `file:line` of an option that asked for a version below TLS 1.2 (warned there). */
  oldAt?: string;
  /** `ciphers` (TLS 1.2 and below). */
  ciphers?: CfgCipherList;
  /** `ciphersuites` (TLS 1.3). */
  suites?: CfgCipherList;
}

/** What `global` set for the TLS lines after it. */
export interface CfgTlsDefaults {
  /** `ca-base DIR`: where relative `ca-file` names are. */
  caBase?: string;
  /** `crt-base DIR`: where relative `crt` names are. */
  crtBase?: string;
  /** `ssl-default-bind-options`, `ssl-default-bind-ciphers`, `ssl-default-bind-ciphersuites`. */
  bind: CfgTlsVersionOpts;
  /** The same for servers. */
  server: CfgTlsVersionOpts;
  /** `ssl-server-verify`: the `verify` of servers without one (absent: "required"). */
  serverVerify?: "none" | "required";
}

/** The defaults before any `global` line. */
export function cfgTlsDefaultsNew(): CfgTlsDefaults {
  return { bind: {}, server: {} };
}

/**
 * Reads a cipher list (`ciphers` or `ciphersuites`) into `o`, checking its
 * syntax; what it allows is checked where it is used (cfgTlsSettle()).
 */
export function cfgTlsCiphers(
  at: CfgAt,
  kind: "ciphers" | "ciphersuites",
  list: string,
  o: CfgTlsVersionOpts,
): void {
  if (kind === "ciphers") o.ciphers = { set: cipherListSet(at, list), where: at.where };
  else o.suites = { set: cipherSuitesSet(at, list), where: at.where };
}

/**
 * Reads the TLS option at `args[i]` of a `bind`, `server` or
 * `ssl-default-*-options` line into `o`; returns the index after it, or -1
 * when `args[i]` is not a TLS option. Cipher lists are options of `bind`
 * and `server` lines only (`lists`), `prefer-client-ciphers` of listeners
 * (`bind`).
 */
export function cfgTlsOption(
  at: CfgAt,
  args: string[],
  i: number,
  o: CfgTlsVersionOpts,
  opts: { lists: boolean; bind: boolean },
): number {
  const name = args[i];
  const sub = at.sub(`${at.kw} ${name}`);
  if (opts.lists && (name === "ciphers" || name === "ciphersuites")) {
    cfgTlsCiphers(sub, name, sub.value(args, i + 1), o);
    return i + 2;
  }
  // Deno's TLS always takes the client's order (measured with openssl
  // s_client): what the option asks for, and what sluice does without it.
  if (opts.bind && name === "prefer-client-ciphers") return i + 1;
  if (name === "ssl-min-ver" || name === "ssl-max-ver") {
    const v = VERSIONS.indexOf(sub.oneOf(sub.value(args, i + 1), VERSIONS) as CfgTlsVersionName);
    if (name === "ssl-min-ver") o.min = v;
    else o.max = v;
    if (v < OLDEST && o.oldAt === undefined) o.oldAt = at.where;
    return i + 2;
  }
  if (name === "no-tls-tickets") {
    throw sub.fail(
      "\"no-tls-tickets\" cannot be honoured: sluice's TLS (Deno's rustls) always issues TLS 1.2 " +
        "session tickets and offers no way to turn them off; remove it",
    );
  }
  const m = /^(no|force)-(sslv3|tlsv1[0-3])$/.exec(name);
  if (m === null) return -1;
  const v = BY_OPTION[m[2]];
  if (m[1] === "no") o.off = (o.off ?? 0) | (1 << v);
  else {
    if (v < OLDEST) {
      throw sub.fail(
        `"${name}": sluice's TLS has TLS 1.2 and 1.3 only, not ${VERSIONS[v]}`,
      );
    }
    o.min = o.max = v;
  }
  return i + 1;
}

/**
 * The versions `own` options over `defaults` allow, as the API's
 * `minVersion`/`maxVersion` (absent: the default end). Warns once when the
 * range reaches below TLS 1.2; throws when it has neither TLS 1.2 nor 1.3,
 * and, given the TLS 1.2 suites in play (`need12`, see cfg_ciphers.ts), when
 * a cipher list leaves out one that would be negotiated.
 */
export function cfgTlsVersions(
  at: CfgAt,
  own: CfgTlsVersionOpts,
  defaults: CfgTlsVersionOpts,
  need12?: number,
): { minVersion?: "TLSv1.2" | "TLSv1.3"; maxVersion?: "TLSv1.2" | "TLSv1.3" } {
  const min = own.min ?? defaults.min ?? OLDEST;
  const max = own.max ?? defaults.max ?? VERSIONS.length - 1;
  const off = (own.off ?? 0) | (defaults.off ?? 0);
  const usable: number[] = [];
  for (let v = Math.max(min, OLDEST); v <= max; v++) if (!(off & (1 << v))) usable.push(v);
  if (usable.length === 0) {
    throw at.fail(
      `no TLS version left: sluice's TLS has TLS 1.2 and 1.3 only, and the options allow ${
        min > max ? "none" : `${VERSIONS[min]} to ${VERSIONS[max]}`
      }${off ? " minus the no-* ones" : ""}`,
    );
  }
  // Warned where the old version is written: a line that takes it from the
  // global defaults was warned about there.
  if (min < OLDEST && own.oldAt !== undefined && (own.min ?? OLDEST) < OLDEST) {
    at.warn(
      `${VERSIONS[min]} is below what sluice's TLS has (TLS 1.2 and 1.3 only): clients limited ` +
        "to older versions cannot connect",
    );
  }
  const out: { minVersion?: "TLSv1.2" | "TLSv1.3"; maxVersion?: "TLSv1.2" | "TLSv1.3" } = {};
  const lo = usable[0], hi = usable[usable.length - 1];
  if (need12 !== undefined) {
    cipherCheck(at, {
      ciphers: own.ciphers ?? defaults.ciphers,
      suites: own.suites ?? defaults.suites,
    }, { need12, tls12: lo === OLDEST, tls13: hi === OLDEST + 1 });
  }
  if (lo !== OLDEST) out.minVersion = VERSIONS[lo] as "TLSv1.3";
  if (hi !== VERSIONS.length - 1) out.maxVersion = VERSIONS[hi] as "TLSv1.2";
  return out;
}
