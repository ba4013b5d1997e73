/**
 * crypt(3) password hashes as glibc computes them for HAProxy's `user NAME
 * password HASH`: SHA-256 (`$5$`) and SHA-512 (`$6$`) crypt, after Ulrich
 * Drepper's "Unix crypt using SHA-256 and SHA-512" (the algorithm, not
 * glibc's code), on node:crypto digests. Other schemes (DES, MD5 `$1$`,
 * bcrypt `$2y$`, yescrypt `$y$`…) are refused at load time by
 * cryptScheme(), naming the scheme.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The crypt alphabet: 6 bits per character, least significant group first. */
const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Rounds when the hash does not say (`rounds=N$` absent), and their bounds, as the spec. */
const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;
/** At most this many salt characters are used; the rest is ignored, as the spec. */
const SALT_MAX = 16;

/**
 * The digest's bytes in the order the spec encodes them: groups of three
 * (b2, b1, b0) giving four characters, then the last group (fewer bytes).
 */
const ORDER_512: readonly number[] = [
  ...[0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7],
  ...[50, 8, 29, 9, 30, 51, 31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35],
  ...[15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41],
];
const ORDER_256: readonly number[] = [
  ...[0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15, 25, 5, 6, 16, 26, 27, 7, 17],
  ...[18, 28, 8, 9, 19, 29],
];

/** A supported scheme: `$5$` or `$6$`. */
interface ShaScheme {
  readonly id: "5" | "6";
  readonly algo: "sha256" | "sha512";
  readonly size: number;
}
const SHA256: ShaScheme = { id: "5", algo: "sha256", size: 32 };
const SHA512: ShaScheme = { id: "6", algo: "sha512", size: 64 };

/**
 * The scheme of a crypt(3) hash: null when sluice computes it (`$5$`,
 * `$6$` with a well-formed salt and digest), else the scheme's name for a
 * "not supported" message.
 */
export function cryptUnsupported(hash: string): string | null {
  const m = /^\$([^$]*)\$/.exec(hash);
  if (m === null) return hash.length === 13 ? "DES crypt" : "an unknown scheme (not $5$ or $6$)";
  const names: Record<string, string> = {
    "1": "MD5 crypt ($1$)",
    "2": "bcrypt ($2$)",
    "2a": "bcrypt ($2a$)",
    "2b": "bcrypt ($2b$)",
    "2x": "bcrypt ($2x$)",
    "2y": "bcrypt ($2y$)",
    "y": "yescrypt ($y$)",
    "gy": "gost-yescrypt ($gy$)",
    "7": "scrypt ($7$)",
    "sha1": "sha1crypt ($sha1$)",
    "md5": "Sun MD5 ($md5$)",
  };
  if (m[1] !== "5" && m[1] !== "6") {
    return Object.hasOwn(names, m[1]) ? names[m[1]] : `an unknown scheme ($${m[1]}$)`;
  }
  const size = m[1] === "5" ? 43 : 86;
  const re = new RegExp(
    `^\\$${m[1]}\\$(?:rounds=[0-9]{1,9}\\$)?[^$:\\n]{0,${SALT_MAX}}\\$[./0-9A-Za-z]{${size}}$`,
  );
  return re.test(hash) ? null : `a malformed $${m[1]}$ hash`;
}

/** The digest of the concatenated parts. */
function digest(s: ShaScheme, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash(s.algo);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** `n` bytes of `src` repeated. */
function repeatTo(src: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += src.length) out.set(src.subarray(0, Math.min(src.length, n - i)), i);
  return out;
}

/** The spec's encoding of the final digest. */
function encode(s: ShaScheme, c: Uint8Array): string {
  const order = s.id === "6" ? ORDER_512 : ORDER_256;
  let out = "";
  const put = (w: number, n: number) => {
    for (let i = 0; i < n; i++, w >>= 6) out += ITOA64[w & 0x3f];
  };
  for (let i = 0; i < order.length; i += 3) {
    put((c[order[i]] << 16) | (c[order[i + 1]] << 8) | c[order[i + 2]], 4);
  }
  if (s.id === "6") put(c[63], 2);
  else put((c[31] << 8) | c[30], 3);
  return out;
}

/**
 * Computes the crypt(3) string of `password` (text is taken as UTF-8) with the scheme, rounds and
 * salt of `setting` (a `$5$`/`$6$` hash or its prefix): equal to the stored
 * hash when the password is right. Null for a scheme cryptUnsupported()
 * refuses. Costs `rounds` digests (5000 by default): callers cache.
 *
 * @example
 * ```ts
 * import { cryptSha } from "./auth_crypt.ts";
 * import assert from "node:assert";
 * assert.equal(
 *   cryptSha("Hello world!", "$5$saltstring"),
 *   "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
 * );
 * ```
 */
export function cryptSha(password: string | Uint8Array, setting: string): string | null {
  const m = /^\$([56])\$(?:rounds=([0-9]{1,9})\$)?([^$]*)/.exec(setting);
  if (m === null) return null;
  const s = m[1] === "5" ? SHA256 : SHA512;
  const custom = m[2] !== undefined;
  const rounds = custom ? Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, Number(m[2]))) : ROUNDS_DEFAULT;
  const enc = new TextEncoder();
  const saltText = m[3].slice(0, SALT_MAX);
  const p = typeof password === "string" ? enc.encode(password) : password;
  const salt = enc.encode(saltText);
  // B = H(P S P); A = H(P S, B for each byte of P, then B or P by the bits of |P|).
  const b = digest(s, [p, salt, p]);
  const aParts: Uint8Array[] = [p, salt, repeatTo(b, p.length)];
  for (let n = p.length; n > 0; n >>= 1) aParts.push((n & 1) !== 0 ? b : p);
  const a = digest(s, aParts);
  // P' = the digest of P repeated |P| times, cut to |P|; S' likewise with 16 + A[0] salts.
  const dp = digest(s, new Array<Uint8Array>(p.length).fill(p));
  const pSeq = repeatTo(dp, p.length);
  const ds = digest(s, new Array<Uint8Array>(16 + a[0]).fill(salt));
  const sSeq = repeatTo(ds, salt.length);
  let c = a;
  for (let i = 0; i < rounds; i++) {
    const h = createHash(s.algo);
    h.update((i & 1) !== 0 ? pSeq : c);
    if (i % 3 !== 0) h.update(sSeq);
    if (i % 7 !== 0) h.update(pSeq);
    h.update((i & 1) !== 0 ? c : pSeq);
    c = new Uint8Array(h.digest());
  }
  const head = `$${s.id}$${custom ? `rounds=${rounds}$` : ""}${saltText}$`;
  return head + encode(s, c);
}
