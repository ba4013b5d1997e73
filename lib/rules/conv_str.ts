/**
 * String and binary converters (HAProxy's sample.c): `lower`, `upper`,
 * `hex`, `base64`, `b64dec`, `bytes`, `field`, `word`, `json`, `regsub`.
 * Each is a BytesConv: arguments are checked once when compiled, samples are
 * converted into the converter's own scratch bytes (or, for `bytes`, `field`
 * and `word`, handed on as a sub-range of the input, copying nothing).
 *
 * @module
 */
import { BytesConv } from "./conv_base.ts";

/** ASCII case change. */
class CaseConv extends BytesConv {
  constructor(readonly upper: boolean) {
    super();
  }

  conv(a: Uint8Array, pos: number, len: number): boolean {
    const o = this.out(len);
    if (o === null) return false;
    for (let i = 0; i < len; i++) {
      const c = a[pos + i];
      if (this.upper) o[i] = c >= 0x61 && c <= 0x7a ? c & ~0x20 : c;
      else o[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
    return this.next.matchBytes(o, 0, len);
  }
}

/** `lower`: ASCII letters to lower case. */
export function convLowerNew(): BytesConv {
  return new CaseConv(false);
}

/** `upper`: ASCII letters to upper case. */
export function convUpperNew(): BytesConv {
  return new CaseConv(true);
}

const HEX = new TextEncoder().encode("0123456789ABCDEF");

/** `hex`: each byte as two upper-case hex digits. */
class HexConv extends BytesConv {
  conv(a: Uint8Array, pos: number, len: number): boolean {
    const o = this.out(2 * len);
    if (o === null) return false;
    for (let i = 0; i < len; i++) {
      o[2 * i] = HEX[a[pos + i] >> 4];
      o[2 * i + 1] = HEX[a[pos + i] & 15];
    }
    return this.next.matchBytes(o, 0, 2 * len);
  }
}

/** `hex` converter. */
export function convHexNew(): BytesConv {
  return new HexConv();
}

const B64 = new TextEncoder().encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);
/** Value of each base64 digit, 255 for other bytes. */
const B64VAL = new Uint8Array(256).fill(255);
B64.forEach((c, i) => B64VAL[c] = i);
const PAD = 0x3d; // "="

/** `base64`: standard alphabet, padded (RFC 4648). */
class Base64Conv extends BytesConv {
  conv(a: Uint8Array, pos: number, len: number): boolean {
    const n = 4 * Math.ceil(len / 3);
    const o = this.out(n);
    if (o === null) return false;
    let j = 0;
    for (let i = 0; i < len; i += 3) {
      const rest = len - i;
      const v = (a[pos + i] << 16) | (rest > 1 ? a[pos + i + 1] << 8 : 0) |
        (rest > 2 ? a[pos + i + 2] : 0);
      o[j++] = B64[(v >> 18) & 63];
      o[j++] = B64[(v >> 12) & 63];
      o[j++] = rest > 1 ? B64[(v >> 6) & 63] : PAD;
      o[j++] = rest > 2 ? B64[v & 63] : PAD;
    }
    return this.next.matchBytes(o, 0, n);
  }
}

/** `base64` converter. */
export function convBase64New(): BytesConv {
  return new Base64Conv();
}

/**
 * `b64dec`: decodes standard base64. As HAProxy's base64dec(), the length
 * must be a multiple of 4 and `=` may only end it; anything else fails the
 * conversion (no sample).
 */
class B64DecConv extends BytesConv {
  conv(a: Uint8Array, pos: number, len: number): boolean {
    if (len % 4 !== 0) return false;
    const o = this.out((len / 4) * 3);
    if (o === null) return false;
    let j = 0;
    for (let i = 0; i < len; i += 4) {
      let pad = 0;
      let v = 0;
      for (let k = 0; k < 4; k++) {
        const c = a[pos + i + k];
        if (c === PAD && i + 4 === len && k >= 2) {
          pad++;
          v <<= 6;
          continue;
        }
        const d = B64VAL[c];
        if (d === 255 || pad > 0) return false;
        v = (v << 6) | d;
      }
      o[j++] = (v >> 16) & 255;
      if (pad < 2) o[j++] = (v >> 8) & 255;
      if (pad < 1) o[j++] = v & 255;
    }
    return this.next.matchBytes(o, 0, j);
  }
}

/** `b64dec` converter. */
export function convB64DecNew(): BytesConv {
  return new B64DecConv();
}

/** A non-negative integer argument, or null. */
function uint(s: string | undefined): number | null {
  return s !== undefined && /^[0-9]{1,9}$/.test(s) ? Number(s) : null;
}

/** `bytes(offset[,length])`: the bytes from offset, at most length of them. */
class BytesSlice extends BytesConv {
  constructor(readonly off: number, readonly max: number) {
    super();
  }

  conv(a: Uint8Array, pos: number, len: number): boolean {
    // HAProxy: an offset at or past the end gives an empty sample, not none.
    if (len <= this.off) return this.next.matchBytes(a, pos, 0);
    return this.next.matchBytes(a, pos + this.off, Math.min(len - this.off, this.max));
  }
}

/** Compiles `bytes(offset[,length])`. */
export function convBytesNew(word: string, args: readonly string[]): BytesConv | string {
  if (args.length < 1 || args.length > 2) {
    return `"${word}" expects an offset and an optional length`;
  }
  const off = uint(args[0]);
  if (off === null) return `"${word}": the offset must be a non-negative integer`;
  const max = args.length === 2 ? uint(args[1]) : Infinity;
  if (max === null) return `"${word}": the length must be a non-negative integer`;
  return new BytesSlice(off, max);
}

/** The delimiter set of field()/word() as a byte table. */
function delimTable(s: string): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < s.length; i++) t[s.charCodeAt(i) & 255] = 1;
  return t;
}

/**
 * `field(index,delimiters[,count])`: the index-th field (from 1, or counted
 * from the end when negative) between any of the delimiters, and the
 * count - 1 fields after it (0: all the rest). A missing field fails.
 * `word(...)` likewise, but runs of delimiters count as one and empty words
 * do not exist; a missing word gives an empty sample (as HAProxy's).
 */
class FieldConv extends BytesConv {
  constructor(
    readonly words: boolean,
    readonly index: number,
    readonly delim: Uint8Array,
    readonly count: number,
  ) {
    super();
  }

  conv(a: Uint8Array, pos: number, len: number): boolean {
    const r = this.words ? this.findWord(a, pos, len) : this.findField(a, pos, len);
    if (r < 0) return this.words ? this.next.matchBytes(a, pos, 0) : false;
    return this.next.matchBytes(a, this.start, r - this.start);
  }

  /** Set by find*(): where the result begins. */
  private start = 0;

  /** End of the field (its start in `this.start`), or -1. */
  private findField(a: Uint8Array, pos: number, len: number): number {
    const d = this.delim, idx = this.index;
    let count = this.count;
    if (idx > 0) {
      let field = 1, start = pos, end = pos;
      for (; end < pos + len; end++) {
        if (!d[a[end]]) continue;
        if (field === idx) {
          if (count === 1) break;
          if (count > 1) count--;
        } else {
          start = end + 1;
          field++;
        }
      }
      if (field !== idx) return -1;
      this.start = start;
      return end;
    }
    let field = -1, start = pos + len, end = pos + len;
    for (; start > pos; start--) {
      if (!d[a[start - 1]]) continue;
      if (field === idx) {
        if (count === 1) break;
        if (count > 1) count--;
      } else {
        end = start - 1;
        field--;
      }
    }
    if (field !== idx) return -1;
    this.start = start;
    return end;
  }

  /** End of the word (its start in `this.start`), or -1. */
  private findWord(a: Uint8Array, pos: number, len: number): number {
    const d = this.delim, idx = this.index;
    let count = this.count, word = 0, inword = false;
    if (idx > 0) {
      let start = pos, end = pos;
      for (; end < pos + len; end++) {
        const sep = d[a[end]] === 1;
        if (!inword) {
          if (!sep) {
            if (word !== idx) {
              word++;
              start = end;
            }
            inword = true;
          }
        } else if (sep) {
          if (word === idx) {
            if (count === 1) break;
            if (count > 1) count--;
          }
          inword = false;
        }
      }
      if (word !== idx) return -1;
      this.start = start;
      return end;
    }
    let start = pos + len, end = pos + len;
    for (; start > pos; start--) {
      const sep = d[a[start - 1]] === 1;
      if (!inword) {
        if (!sep) {
          if (word !== idx) {
            word--;
            end = start;
          }
          inword = true;
        }
      } else if (sep) {
        if (word === idx) {
          if (count === 1) break;
          if (count > 1) count--;
        }
        inword = false;
      }
    }
    if (word !== idx) return -1;
    this.start = start;
    return end;
  }
}

/** Compiles `field(index,delimiters[,count])` (`words` false) or `word(...)`. */
function fieldNew(words: boolean, word: string, args: readonly string[]): BytesConv | string {
  if (args.length < 2 || args.length > 3) {
    return `"${word}" expects an index, delimiters and an optional count`;
  }
  if (!/^-?[0-9]{1,9}$/.test(args[0]) || Number(args[0]) === 0) {
    return `"${word}": the index must be a non-zero integer (negative: from the end)`;
  }
  if (args[1] === "") return `"${word}": empty delimiter list`;
  if ([...args[1]].some((c) => c.charCodeAt(0) > 255)) {
    return `"${word}": delimiters must be single bytes`;
  }
  const count = args.length === 3 ? uint(args[2]) : 1;
  if (count === null) return `"${word}": the count must be a non-negative integer`;
  return new FieldConv(words, Number(args[0]), delimTable(args[1]), count);
}

/** Compiles `field(index,delimiters[,count])`. */
export function convFieldNew(word: string, args: readonly string[]): BytesConv | string {
  return fieldNew(false, word, args);
}

/** Compiles `word(index,delimiters[,count])`. */
export function convWordNew(word: string, args: readonly string[]): BytesConv | string {
  return fieldNew(true, word, args);
}

/** JSON escapes of the bytes that have a short one (HAProxy escapes "/" too). */
const JSON_SHORT: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x2f: "\\/",
  0x08: "\\b",
  0x0c: "\\f",
  0x0d: "\\r",
  0x0a: "\\n",
  0x09: "\\t",
};

/**
 * `json([ascii])`: escapes the string for a JSON string literal, byte by
 * byte (`ascii`, the default): `"`, `\`, `/` and the usual control
 * characters get their short escape, other bytes outside 0x20-0x7e
 * `\u00XX`. The UTF-8 input modes are refused at load time.
 */
class JsonConv extends BytesConv {
  conv(a: Uint8Array, pos: number, len: number): boolean {
    const o = this.out(6 * len);
    if (o === null) return false;
    let j = 0;
    for (let i = 0; i < len; i++) {
      const c = a[pos + i];
      const short = JSON_SHORT[c];
      if (short !== undefined) {
        o[j++] = 0x5c;
        o[j++] = short.charCodeAt(1);
      } else if (c < 0x20 || c > 0x7e) {
        o.set([0x5c, 0x75, 0x30, 0x30, HEX[c >> 4] | 0x20, HEX[c & 15] | 0x20], j);
        j += 6;
      } else o[j++] = c;
    }
    return this.next.matchBytes(o, 0, j);
  }
}

/** Compiles `json([input_code])`: only `ascii` (the default) is supported. */
export function convJsonNew(word: string, args: readonly string[]): BytesConv | string {
  if (args.length > 1) return `"${word}" takes at most one argument`;
  const mode = args[0] ?? "";
  if (mode === "" || mode === "ascii") return new JsonConv();
  if (["utf8", "utf8s", "utf8p", "utf8ps"].includes(mode)) {
    return `"${word}": input code "${mode}" is not supported yet (only "ascii")`;
  }
  return `"${word}": unexpected input code "${mode}" (expected "ascii", "utf8", "utf8s", ` +
    `"utf8p" or "utf8ps")`;
}

/**
 * `regsub(regex,subst[,flags])`: replaces the first match of regex (every
 * match with flag `g`; `i`: ignore case) by subst, in which `\0`-`\9` are
 * the groups, as HAProxy's exp_replace(). The sample is read as Latin-1, so
 * each byte is one character for the regex.
 */
class RegsubConv extends BytesConv {
  constructor(readonly re: RegExp, readonly subst: string) {
    super();
  }

  conv(a: Uint8Array, pos: number, len: number): boolean {
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(a[pos + i]);
    this.re.lastIndex = 0;
    const r = s.replace(this.re, (...m) => this.expand(m));
    const o = this.out(r.length);
    if (o === null) return false;
    for (let i = 0; i < r.length; i++) o[i] = r.charCodeAt(i) & 255;
    return this.next.matchBytes(o, 0, r.length);
  }

  /** subst with `\N` replaced by group N of match `m` (an absent group is empty). */
  private expand(m: unknown[]): string {
    return this.subst.replace(/\\([0-9])/g, (_, d: string) => {
      const g = m[Number(d)];
      return typeof g === "string" ? g : "";
    });
  }
}

/** Compiles `regsub(regex,subst[,flags])`. */
export function convRegsubNew(word: string, args: readonly string[]): BytesConv | string {
  if (args.length < 2 || args.length > 3) {
    return `"${word}" expects a regex, a replacement and optional flags`;
  }
  const flags = args[2] ?? "";
  const bad = [...flags].find((f) => f !== "i" && f !== "g");
  if (bad !== undefined) {
    return `"${word}": invalid regex flag '${bad}', only 'i' and 'g' are supported`;
  }
  let re: RegExp;
  try {
    re = new RegExp(args[0], (flags.includes("g") ? "g" : "") + (flags.includes("i") ? "i" : ""));
  } catch (err) {
    return `"${word}": bad regex "${args[0]}": ${(err as Error).message}`;
  }
  return new RegsubConv(re, args[1]);
}
