/**
 * Cipher lists of configuration files (`ciphers`, `ciphersuites` on `bind`
 * and `server` lines, `ssl-default-bind-ciphers` and the like in `global`),
 * checked against what sluice's TLS negotiates.
 *
 * Deno's TLS (rustls) cannot be told which suites to use (`ciphers` is
 * ignored), but the set it negotiates is small and fixed (measured on Deno
 * 2.9.6 with openssl s_client): TLS 1.3's TLS_AES_128_GCM_SHA256,
 * TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, and TLS 1.2's six
 * ECDHE suites with AES-GCM or ChaCha20-Poly1305, three per certificate
 * type. So a list is honoured exactly when it allows every suite that can be
 * negotiated: sluice then never uses a suite the operator left out (it may
 * offer fewer than the list, never others). A list that leaves one out is
 * an error naming it, since sluice could not keep its TLS from using it.
 *
 * TLS 1.2 lists are OpenSSL cipher strings: elements separated by `:`
 * (`,` or spaces), each a suite name or aliases joined by `+` (all must
 * hold), prefixed by `!` (removed for good), `-` (removed) or `+` (moved,
 * which changes nothing here); `@STRENGTH` and `@SECLEVEL=N` only order or
 * tune. The aliases that match any of the six suites are in ALIASES (checked
 * against `openssl ciphers` of OpenSSL 3.0); every other alias or name
 * matches none of them, as OpenSSL ignores names it does not know.
 *
 * @module
 */
import type { CfgAt } from "./cfg_at.ts";

/** The TLS 1.2 suites sluice's TLS negotiates, by OpenSSL name; bit i of a set is TLS12[i]. */
export const TLS12 = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
] as const;
/** The TLS 1.3 suites it negotiates. */
export const TLS13 = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
] as const;
/** Every TLS 1.3 suite name OpenSSL knows. */
const TLS13_NAMES = new Set<string>([
  ...TLS13,
  "TLS_AES_128_CCM_SHA256",
  "TLS_AES_128_CCM_8_SHA256",
]);

const ALL = 0b111111, ECDSA = 0b000111, RSA = 0b111000;
/** Every TLS 1.2 suite: what sluice offers to a server. */
export const CIPHERS_ALL12 = ALL;
const AES128 = 0b001001, AES256 = 0b010010, CHACHA = 0b100100;

/** OpenSSL aliases that match some of TLS12, as sets. */
const ALIASES: Record<string, number> = {
  ALL,
  HIGH: ALL,
  DEFAULT: ALL,
  "TLSv1.2": ALL,
  ECDHE: ALL,
  EECDH: ALL,
  ECDH: ALL,
  kECDHE: ALL,
  kEECDH: ALL,
  kECDH: ALL,
  aRSA: RSA,
  ECDSA,
  aECDSA: ECDSA,
  AES: AES128 | AES256,
  AESGCM: AES128 | AES256,
  AES128,
  AES256,
  CHACHA20: CHACHA,
};

/** The set of TLS12 suites an OpenSSL cipher string allows. */
export function cipherListSet(at: CfgAt, list: string): number {
  let allowed = 0, banned = 0;
  for (const element of list.split(/[:, ]+/)) {
    if (element === "" || element.startsWith("@")) continue;
    const op = "!-+".includes(element[0]) ? element[0] : "";
    const words = element.slice(op.length).split("+");
    if (words.some((w) => w.startsWith("SUITEB"))) {
      throw at.badValue(list, `"${element}": Suite B modes are not supported`);
    }
    let set = ALL;
    for (const w of words) {
      const i = (TLS12 as readonly string[]).indexOf(w);
      set &= i >= 0 ? 1 << i : ALIASES[w] ?? 0;
    }
    if (op === "!") {
      allowed &= ~set;
      banned |= set;
    } else if (op === "-") allowed &= ~set;
    else if (op === "") allowed |= set & ~banned;
  }
  return allowed;
}

/** The TLS 1.3 suites a `ciphersuites` list allows (names separated by `:`), as a set over TLS13. */
export function cipherSuitesSet(at: CfgAt, list: string): number {
  let set = 0;
  for (const name of list.split(":")) {
    if (!TLS13_NAMES.has(name)) {
      throw at.badValue(list, `"${name}" is not a TLS 1.3 cipher suite`);
    }
    const i = (TLS13 as readonly string[]).indexOf(name);
    if (i >= 0) set |= 1 << i;
  }
  return set;
}

/** Key types of certificates, as the TLS 1.2 suites they can be used with. */
export function cipherNeedOfKeys(types: readonly ("rsa" | "ec" | string)[]): number {
  let need = 0;
  for (const t of types) need |= t === "rsa" ? RSA : t === "ec" ? ECDSA : 0;
  return need;
}

/**
 * Throws when a list (written at `where`, for messages) leaves out a suite
 * sluice's TLS may negotiate: `need12` are the TLS 1.2 ones in play (by the
 * certificates' types; all six towards a server), `tls12`/`tls13` whether
 * that version is enabled.
 */
export function cipherCheck(
  at: CfgAt,
  lists: { ciphers?: { set: number; where: string }; suites?: { set: number; where: string } },
  use: { need12: number; tls12: boolean; tls13: boolean },
): void {
  const c = lists.ciphers, s = lists.suites;
  if (c !== undefined && use.tls12 && (use.need12 & ~c.set) !== 0) {
    const left = TLS12.filter((_, i) => (use.need12 & ~c.set) & (1 << i));
    throw at.fail(
      `the cipher list (${c.where}) leaves out ${left.join(", ")}, which sluice's TLS would ` +
        "still negotiate (Deno's TLS cannot be restricted to a list); allow them, or turn " +
        "TLS 1.2 off (ssl-min-ver TLSv1.3)",
    );
  }
  if (s !== undefined && use.tls13 && (0b111 & ~s.set) !== 0) {
    const left = TLS13.filter((_, i) => (0b111 & ~s.set) & (1 << i));
    throw at.fail(
      `the cipher suites (${s.where}) leave out ${left.join(", ")}, which sluice's TLS would ` +
        "still negotiate (Deno's TLS cannot be restricted to a list); allow them, or turn " +
        "TLS 1.3 off (ssl-max-ver TLSv1.2)",
    );
  }
}
