/**
 * crypt(3) password hashes as glibc computes them for HAProxy's `user NAME
 * password HASH`: SHA-256 (`$5$`) and SHA-512 (`$6$`) crypt, after Ulrich
 * Drepper's "Unix crypt using SHA-256 and SHA-512" (the algorithm, not
 * glibc's code), and the older MD5 crypt (`$1$`, Poul-Henning Kamp's), on
 * node:crypto digests. Other schemes (DES, bcrypt `$2y$`, yescrypt `$y$`…)
 * are refused at load time by cryptUnsupported(), naming the scheme.
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
  if (m === null) {
    return hash.length === 13 ? "DES crypt" : "an unknown scheme (not $1$, $5$ or $6$)";
  }
  const names: Record<string, string> = {
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
  if (m[1] === "1") {
    return /^\$1\$[^$:\n]{0,8}\$[./0-9A-Za-z]{22}$/.test(hash) ? null : "a malformed $1$ hash";
  }
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

/** MD5 crypt's encoding of its digest: byte triples, then the last byte. */
const ORDER_MD5: readonly number[] = [0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 4, 10, 5];

/**
 * MD5 crypt (`$1$`, as glibc and OpenSSL's `passwd -1`): the stored hash
 * when `password` is right, null when `setting` is not a `$1$` hash.
 * Its 1,000 rounds of MD5 are weak by today's standards (use `$6$`), but
 * old userlists have them.
 *
 * @example
 * ```ts
 * import { cryptMd5 } from "./auth_crypt.ts";
 * import assert from "node:assert";
 * assert.equal(cryptMd5("Hello world!", "$1$saltstri"), "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1");
 * ```
 */
export function cryptMd5(password: string | Uint8Array, setting: string): string | null {
  const m = /^\$1\$([^$]{0,8})/.exec(setting);
  if (m === null) return null;
  const enc = new TextEncoder();
  const p = typeof password === "string" ? enc.encode(password) : password;
  const salt = enc.encode(m[1]);
  const md5 = (parts: readonly Uint8Array[]) => {
    const h = createHash("md5");
    for (const x of parts) h.update(x);
    return new Uint8Array(h.digest());
  };
  const alt = md5([p, salt, p]);
  const parts: Uint8Array[] = [p, enc.encode("$1$"), salt];
  for (let n = p.length; n > 0; n -= 16) parts.push(alt.subarray(0, Math.min(16, n)));
  const zero = new Uint8Array(1);
  for (let n = p.length; n > 0; n >>= 1) parts.push((n & 1) !== 0 ? zero : p.subarray(0, 1));
  let f = md5(parts);
  for (let i = 0; i < 1000; i++) {
    const r: Uint8Array[] = [(i & 1) !== 0 ? p : f];
    if (i % 3 !== 0) r.push(salt);
    if (i % 7 !== 0) r.push(p);
    r.push((i & 1) !== 0 ? f : p);
    f = md5(r);
  }
  let out = "";
  const put = (w: number, n: number) => {
    for (let i = 0; i < n; i++, w >>= 6) out += ITOA64[w & 0x3f];
  };
  for (let i = 0; i < ORDER_MD5.length; i += 3) {
    put((f[ORDER_MD5[i]] << 16) | (f[ORDER_MD5[i + 1]] << 8) | f[ORDER_MD5[i + 2]], 4);
  }
  put(f[11], 2);
  return `$1$${m[1]}$${out}`;
}

/** The crypt(3) string of `password` with `setting`'s scheme and salt (`$1$`, `$5$`, `$6$`), or null. */
export function cryptHash(password: string | Uint8Array, setting: string): string | null {
  return setting.startsWith("$1$") ? cryptMd5(password, setting) : cryptSha(password, setting);
}
