/**
 * Matching methods (HAProxy's pat_parse_* / pat_match_*): each compiles the
 * patterns of one ACL expr once, then tests samples as bytes or integers.
 *
 * Why the shapes are what they are:
 *
 * - String methods compare bytes in place (`a[pos, pos + len)`), so the
 *   common matchers (`str`, `beg`, `end`, `sub`, `dom`, `dir`) never build a
 *   JS string. With `-i` the patterns are lowercased once at compile time
 *   and only the sample bytes are folded (ASCII only, like HAProxy's C
 *   locale).
 * - Only `reg` needs a string: the sample is decoded as Latin-1 (one char
 *   per byte, the way PCRE without UTF-8 mode sees bytes), and exactly the
 *   sample, so a regex can never look outside the value.
 * - Patterns are UTF-8 bytes of the config text: `é` in a pattern matches
 *   the bytes C3 A9 in a request. A regex source is converted the same way,
 *   so literals behave identically in `str` and `reg`.
 * - Patterns are tested one after the other; HAProxy's trees for large
 *   exact/prefix pattern sets (from files) are not needed until `-f` is.
 * - A string method given an integer sample (`hdr_cnt(x) -m str 2`) matches
 *   its decimal text, written into a scratch buffer; `int` given a string
 *   sample reads a leading integer as HAProxy's c_str2int() (empty: no
 *   match; "12ab": 12; "ab": 0).
 *
 * @module
 */
import { errMsg } from "../core/errors.ts";
import { bytesToStr } from "../http/h1_chars.ts";
import { IpNet, ipNetParse, ipParse } from "./acl_ip.ts";
import {
  type AclBadPat,
  type AclMatcher,
  type AclMatchKind,
  SMP_T_BIN,
  SMP_T_BOOL,
  SMP_T_INT,
  SMP_T_IP,
  SMP_T_STR,
} from "./acl_types.ts";

const ENC = new TextEncoder();

/** Decimal text of integer samples handed to string methods (scratch, overwritten each time). */
const NUM = new Uint8Array(24);
/** Address words of the sample being matched by `ip` (scratch). */
const W = new Uint32Array(4);

/** Delimiters of `dom` (HAProxy: "/?.:") and `dir` ("/?"), as byte tables. */
const DOM_DELIM = new Uint8Array(256);
const DIR_DELIM = new Uint8Array(256);
for (const c of "/?.:") DOM_DELIM[c.charCodeAt(0)] = 1;
for (const c of "/?") DIR_DELIM[c.charCodeAt(0)] = 1;

/** Writes the decimal text of the integer `n` into NUM; returns its length. */
function intFormat(n: number): number {
  let v = n < 0 ? -n : n;
  let len = 0;
  if (n < 0) NUM[len++] = 0x2d;
  let d = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) d++;
  if (len + d > NUM.length) return 0; // not a safe integer: cannot happen with our fetches
  for (let k = len + d - 1; k >= len; k--) {
    NUM[k] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return len + d;
}

/** Leading integer of `a[pos, pos + len)` as c_str2int(): NaN when empty, 0 when no digit. */
function intRead(a: Uint8Array, pos: number, len: number): number {
  if (len === 0) return NaN;
  let i = pos;
  const end = pos + len;
  let neg = false;
  if (a[i] === 0x2d || a[i] === 0x2b) neg = a[i++] === 0x2d;
  let n = 0;
  while (i < end && a[i] >= 0x30 && a[i] <= 0x39) n = n * 10 + a[i++] - 0x30;
  return neg ? -n : n;
}

/** True when `a[p, p + pat.length)` equals `pat` (bytes). */
function eqAt(a: Uint8Array, p: number, pat: Uint8Array): boolean {
  for (let i = 0; i < pat.length; i++) if (a[p + i] !== pat[i]) return false;
  return true;
}

/** True when `a[p, p + pat.length)` equals the lowercase `pat`, ignoring ASCII case. */
function eqAtNoCase(a: Uint8Array, p: number, pat: Uint8Array): boolean {
  for (let i = 0; i < pat.length; i++) {
    let c = a[p + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== pat[i]) return false;
  }
  return true;
}

/**
 * Latin-1 string of `a[pos, pos + len)`. fromCharCode.apply on a subarray is
 * about 4x faster than bytesToStr()'s spread for header-sized values; long
 * values go in chunks to stay far below engine argument limits.
 */
function latin1(a: Uint8Array, pos: number, len: number): string {
  if (len <= 4096) {
    return String.fromCharCode.apply(null, a.subarray(pos, pos + len) as unknown as number[]);
  }
  return bytesToStr(a, pos, len);
}

/** True when `n` is in one of the `[lo, hi]` pairs of `r`. */
function inRanges(r: Float64Array, n: number): boolean {
  for (let k = 0; k < r.length; k += 2) if (n >= r[k] && n <= r[k + 1]) return true;
  return false;
}

/** Base of the string methods: an integer sample is matched as its decimal text. */
abstract class StrMatcher implements AclMatcher {
  abstract readonly kind: AclMatchKind;
  readonly pats: readonly Uint8Array[];
  readonly icase: boolean;

  constructor(pats: readonly Uint8Array[], icase: boolean) {
    this.pats = pats;
    this.icase = icase;
  }

  abstract matchBytes(a: Uint8Array, pos: number, len: number): boolean;

  matchInt(n: number): boolean {
    return this.matchBytes(NUM, 0, intFormat(n));
  }
}

class MatchStr extends StrMatcher {
  readonly kind = "str";
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const ps = this.pats;
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k];
      if (p.length === len && (this.icase ? eqAtNoCase(a, pos, p) : eqAt(a, pos, p))) return true;
    }
    return false;
  }
}

class MatchBeg extends StrMatcher {
  readonly kind = "beg";
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const ps = this.pats;
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k];
      if (p.length <= len && (this.icase ? eqAtNoCase(a, pos, p) : eqAt(a, pos, p))) return true;
    }
    return false;
  }
}

class MatchEnd extends StrMatcher {
  readonly kind = "end";
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const ps = this.pats;
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k];
      if (p.length > len) continue;
      const at = pos + len - p.length;
      if (this.icase ? eqAtNoCase(a, at, p) : eqAt(a, at, p)) return true;
    }
    return false;
  }
}

class MatchSub extends StrMatcher {
  readonly kind = "sub";
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const ps = this.pats;
    const icase = this.icase;
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k];
      const pl = p.length;
      if (pl === 0) return true;
      if (pl > len) continue;
      const first = p[0];
      const last = pos + len - pl;
      for (let c = pos; c <= last; c++) {
        let b = a[c];
        if (icase && b >= 0x41 && b <= 0x5a) b |= 0x20;
        if (b === first && (icase ? eqAtNoCase(a, c, p) : eqAt(a, c, p))) return true;
      }
    }
    return false;
  }
}

/**
 * `dom` and `dir` (HAProxy's match_word()): the pattern (stripped of
 * delimiters at both ends at compile time) must appear starting right after
 * a delimiter or at the start, and end right before a delimiter or at the
 * end. `dom` uses "/?.:", `dir` uses "/?".
 */
class MatchWord extends StrMatcher {
  readonly kind: AclMatchKind;
  readonly delim: Uint8Array;

  constructor(kind: "dom" | "dir", pats: readonly Uint8Array[], icase: boolean) {
    super(pats, icase);
    this.kind = kind;
    this.delim = kind === "dom" ? DOM_DELIM : DIR_DELIM;
  }

  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const ps = this.pats;
    const delim = this.delim;
    const icase = this.icase;
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k];
      const pl = p.length;
      if (pl > len) continue;
      const end = pos + len - pl;
      let may = true;
      for (let c = pos; c <= end; c++) {
        if (delim[a[c]]) {
          may = true;
          continue;
        }
        if (!may) continue;
        if (
          (icase ? eqAtNoCase(a, c, p) : eqAt(a, c, p)) && (c === end || delim[a[c + pl]])
        ) return true;
        may = false;
      }
    }
    return false;
  }
}

class MatchReg implements AclMatcher {
  readonly kind = "reg";
  readonly res: readonly RegExp[];

  constructor(res: readonly RegExp[]) {
    this.res = res;
  }

  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    // The one allocation of matching: RegExp needs a string. Exactly the
    // sample is decoded, so the regex sees no byte outside the value.
    const s = latin1(a, pos, len);
    const res = this.res;
    for (let k = 0; k < res.length; k++) if (res[k].test(s)) return true;
    return false;
  }

  matchInt(n: number): boolean {
    return this.matchBytes(NUM, 0, intFormat(n));
  }
}

class MatchLen implements AclMatcher {
  readonly kind = "len";
  readonly ranges: Float64Array;

  constructor(ranges: Float64Array) {
    this.ranges = ranges;
  }

  matchBytes(_a: Uint8Array, _pos: number, len: number): boolean {
    return inRanges(this.ranges, len);
  }

  matchInt(n: number): boolean {
    return inRanges(this.ranges, intFormat(n));
  }
}

class MatchInt implements AclMatcher {
  readonly kind = "int";
  readonly ranges: Float64Array;

  constructor(ranges: Float64Array) {
    this.ranges = ranges;
  }

  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const n = intRead(a, pos, len);
    return n === n && inRanges(this.ranges, n); // n === n: not NaN
  }

  matchInt(n: number): boolean {
    return inRanges(this.ranges, n);
  }
}

class MatchIp implements AclMatcher {
  readonly kind = "ip";
  readonly nets: readonly IpNet[];

  constructor(nets: readonly IpNet[]) {
    this.nets = nets;
  }

  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const kind = ipParse(a, pos, len, W);
    if (kind === 0) return false;
    const nets = this.nets;
    for (let k = 0; k < nets.length; k++) if (nets[k].has(kind, W)) return true;
    return false;
  }

  matchInt(_n: number): boolean {
    return false; // refused at compile time (aclMatchAccepts)
  }
}

/** `bin`: the sample's bytes equal a pattern's (HAProxy's pat_match_bin). */
class MatchBin implements AclMatcher {
  readonly kind = "bin";
  readonly pats: readonly Uint8Array[];

  constructor(pats: readonly Uint8Array[]) {
    this.pats = pats;
  }

  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    const ps = this.pats;
    for (let k = 0; k < ps.length; k++) {
      if (ps[k].length === len && eqAt(a, pos, ps[k])) return true;
    }
    return false;
  }

  matchInt(_n: number): boolean {
    return false; // refused at compile time (aclMatchAccepts)
  }
}

/** The bytes of a hex pattern (`474554`), or why not (HAProxy's parse_binary()). */
function hexBytes(p: string): Uint8Array | string {
  if (p.length % 2 !== 0) return "an even number of hex digits is expected";
  const bad = /[^0-9A-Fa-f]/.exec(p);
  if (bad !== null) return `a hex digit is expected (found "${bad[0]}")`;
  const out = new Uint8Array(p.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(p.slice(2 * i, 2 * i + 2), 16);
  return out;
}

class MatchFound implements AclMatcher {
  readonly kind = "found";
  matchBytes(_a: Uint8Array, _pos: number, _len: number): boolean {
    return true;
  }
  matchInt(_n: number): boolean {
    return true;
  }
}

class MatchBool implements AclMatcher {
  readonly kind = "bool";
  matchBytes(_a: Uint8Array, _pos: number, len: number): boolean {
    return len > 0; // refused at compile time (aclMatchAccepts)
  }
  matchInt(n: number): boolean {
    return n !== 0;
  }
}

/** Integer operators that turn the next pattern into a range (HAProxy's acl "eq 5"). */
const INT_OPS = new Set(["eq", "ge", "gt", "le", "lt"]);
const INT_RE = /^[+-]?[0-9]{1,15}$/;

/**
 * Integer ranges from `N`, `N:M`, `N:`, `:M`, or an operator word followed
 * by `N` (`eq`, `ge`, `gt`, `le`, `lt`), as `[lo, hi]` pairs.
 */
function intRanges(pats: readonly string[]): Float64Array | AclBadPat {
  const r: number[] = [];
  for (let i = 0; i < pats.length; i++) {
    const p = pats[i];
    if (INT_OPS.has(p)) {
      const v = pats[i + 1];
      if (v === undefined) return { pat: p, why: `operator "${p}" needs an integer after it` };
      if (!INT_RE.test(v)) return { pat: v, why: `expected an integer after "${p}"` };
      const n = Number(v);
      if (p === "eq") r.push(n, n);
      else if (p === "ge") r.push(n, Infinity);
      else if (p === "gt") r.push(n + 1, Infinity);
      else if (p === "le") r.push(-Infinity, n);
      else r.push(-Infinity, n - 1);
      i++;
      continue;
    }
    const colon = p.indexOf(":");
    if (colon < 0) {
      if (!INT_RE.test(p)) {
        return { pat: p, why: "expected an integer, a range N:M, or eq|ge|gt|le|lt N" };
      }
      r.push(Number(p), Number(p));
      continue;
    }
    const lo = p.slice(0, colon), hi = p.slice(colon + 1);
    if (
      (lo === "" && hi === "") || (lo !== "" && !INT_RE.test(lo)) || (hi !== "" && !INT_RE.test(hi))
    ) {
      return { pat: p, why: "expected an integer range N:M, N: or :M" };
    }
    const l = lo === "" ? -Infinity : Number(lo), h = hi === "" ? Infinity : Number(hi);
    if (l > h) return { pat: p, why: "the range is empty (lower bound above upper bound)" };
    r.push(l, h);
  }
  return new Float64Array(r);
}

/** UTF-8 bytes of a pattern, ASCII-lowercased with `icase`. */
function patBytes(s: string, icase: boolean): Uint8Array {
  const b = ENC.encode(s);
  if (icase) { for (let i = 0; i < b.length; i++) if (b[i] >= 0x41 && b[i] <= 0x5a) b[i] |= 0x20; }
  return b;
}

/** A pattern for `dom`/`dir`, without the delimiters at its ends; null when nothing is left. */
function wordBytes(s: string, icase: boolean, delim: Uint8Array): Uint8Array | null {
  const b = patBytes(s, icase);
  let i = 0, j = b.length;
  while (i < j && delim[b[i]]) i++;
  while (j > i && delim[b[j - 1]]) j--;
  return i === j ? null : b.subarray(i, j);
}

/** Compiles a regex the way samples are decoded (UTF-8 bytes as Latin-1 chars). */
function regCompile(src: string, icase: boolean): RegExp | string {
  const utf8 = ENC.encode(src);
  const latin = utf8.length === src.length ? src : bytesToStr(utf8, 0, utf8.length);
  try {
    return new RegExp(latin, icase ? "i" : "");
  } catch (err) {
    const msg = errMsg(err);
    return `invalid regex: ${msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "")}`;
  }
}

/** Sample-type bits of ACL_MATCHES rows. */
const T_BOOL = 1 << SMP_T_BOOL,
  T_INT = 1 << SMP_T_INT,
  T_STR = 1 << SMP_T_STR,
  T_IP = 1 << SMP_T_IP,
  T_BIN = 1 << SMP_T_BIN;
/** String methods take strings, addresses, integers (as their decimal text) and binary samples. */
const T_TEXT = T_STR | T_IP | T_INT | T_BIN;

/** One row of ACL_MATCHES. */
export interface AclMatchDef {
  /** Sample types it can test, as bits (`1 << SMP_T_*`). */
  readonly types: number;
  /** False for methods that take no pattern (`found`, `bool`). */
  readonly patterns: boolean;
  /** One line for docs/keywords.md. */
  readonly doc: string;
  /**
   * Compiles the patterns (non-empty when `patterns`, else empty; `icase`:
   * the -i flag) into the matcher, or returns the first refused pattern and
   * why (bad regex, integer, range or network).
   */
  compile(pats: readonly string[], icase: boolean): AclMatcher | AclBadPat;
}

/** `dom` or `dir`: patterns stripped of their delimiters; a pattern of delimiters only is refused. */
function wordMatcherNew(
  kind: "dom" | "dir",
  pats: readonly string[],
  icase: boolean,
): AclMatcher | AclBadPat {
  const out: Uint8Array[] = [];
  for (const p of pats) {
    const w = wordBytes(p, icase, kind === "dom" ? DOM_DELIM : DIR_DELIM);
    if (w === null) {
      return {
        pat: p,
        why: `the pattern is only delimiters (${
          kind === "dom" ? '"/", "?", "." and ":"' : '"/" and "?"'
        }), so it never matches`,
      };
    }
    out.push(w);
  }
  return new MatchWord(kind, out, icase);
}

/**
 * Every matching method, by the name written after `-m`, in the order
 * error messages list them (HAProxy's pat_match_* / pat_parse_*).
 */
export const ACL_MATCHES: Readonly<Record<AclMatchKind, AclMatchDef>> = {
  "str": {
    types: T_TEXT,
    patterns: true,
    doc: "The sample equals a pattern",
    compile: (pats, icase) => new MatchStr(pats.map((p) => patBytes(p, icase)), icase),
  },
  "beg": {
    types: T_TEXT,
    patterns: true,
    doc: "The sample starts with a pattern",
    compile: (pats, icase) => new MatchBeg(pats.map((p) => patBytes(p, icase)), icase),
  },
  "end": {
    types: T_TEXT,
    patterns: true,
    doc: "The sample ends with a pattern",
    compile: (pats, icase) => new MatchEnd(pats.map((p) => patBytes(p, icase)), icase),
  },
  "sub": {
    types: T_TEXT,
    patterns: true,
    doc: "The sample contains a pattern",
    compile: (pats, icase) => new MatchSub(pats.map((p) => patBytes(p, icase)), icase),
  },
  "reg": {
    types: T_TEXT,
    patterns: true,
    doc: "A regular expression finds a match in the sample (not anchored)",
    compile(pats, icase) {
      const res: RegExp[] = [];
      for (const p of pats) {
        const re = regCompile(p, icase);
        if (typeof re === "string") return { pat: p, why: re };
        res.push(re);
      }
      return new MatchReg(res);
    },
  },
  "dom": {
    types: T_TEXT,
    patterns: true,
    doc: "A pattern is a run of whole labels of the sample, delimited by `/`, `?`, `.`, `:` " +
      "or the ends",
    compile: (pats, icase) => wordMatcherNew("dom", pats, icase),
  },
  "dir": {
    types: T_TEXT,
    patterns: true,
    doc: "A pattern is a run of whole segments of the sample, delimited by `/`, `?` or the ends",
    compile: (pats, icase) => wordMatcherNew("dir", pats, icase),
  },
  "len": {
    types: T_TEXT,
    patterns: true,
    doc: "The sample's length is in a range: `N`, `N:M`, `N:`, `:M`, or `eq|ge|gt|le|lt N`",
    compile(pats) {
      const r = intRanges(pats);
      return r instanceof Float64Array ? new MatchLen(r) : r;
    },
  },
  "int": {
    types: T_INT | T_STR | T_BOOL,
    patterns: true,
    doc: "The sample (a string's leading integer) is in a range: `N`, `N:M`, `N:`, `:M`, or " +
      "`eq|ge|gt|le|lt N`",
    compile(pats) {
      const r = intRanges(pats);
      return r instanceof Float64Array ? new MatchInt(r) : r;
    },
  },
  "ip": {
    types: T_IP | T_STR,
    patterns: true,
    doc: "The sample is an IPv4 or IPv6 address in a pattern's network (`10.0.0.0/8`, `::1`; " +
      "`::ffff:a.b.c.d` counts as IPv4)",
    compile(pats) {
      const nets: IpNet[] = [];
      for (const p of pats) {
        const n = ipNetParse(p);
        if (typeof n === "string") return { pat: p, why: n };
        nets.push(n);
      }
      return new MatchIp(nets);
    },
  },
  "bin": {
    types: T_BIN | T_STR,
    patterns: true,
    doc: "The sample's bytes equal a pattern written in hex (`474554` is `GET`)",
    compile(pats) {
      const out: Uint8Array[] = [];
      for (const p of pats) {
        const b = hexBytes(p);
        if (typeof b === "string") return { pat: p, why: b };
        out.push(b);
      }
      return new MatchBin(out);
    },
  },
  "found": {
    types: T_BOOL | T_INT | T_STR | T_IP | T_BIN,
    patterns: false,
    doc: "The fetch gave at least one sample; no pattern",
    compile: () => new MatchFound(),
  },
  "bool": {
    types: T_BOOL | T_INT,
    patterns: false,
    doc: "The boolean (or integer) sample is true (not 0); no pattern",
    compile: () => new MatchBool(),
  },
};

/** True when the method `kind` can test samples of type `type` (SMP_T_*). */
export function aclMatchAccepts(kind: AclMatchKind, type: number): boolean {
  return (ACL_MATCHES[kind].types & (1 << type)) !== 0;
}

/** True when `kind` takes no pattern (`found`, `bool`). */
export function aclMatchNoPattern(kind: AclMatchKind): boolean {
  return !ACL_MATCHES[kind].patterns;
}

/**
 * Compiles the patterns of one expr for the method `kind` (`icase`: the -i
 * flag, for string methods and `reg`). `pats` must be
 * empty for `found`/`bool` and non-empty otherwise (the caller checks and
 * words that error). Returns the matcher, or the first refused pattern and
 * why (bad regex, bad integer or range, bad network).
 *
 * @example
 * ```ts
 * import { aclMatcherNew } from "./acl_match.ts";
 * const m = aclMatcherNew("beg", ["/api"], { icase: false });
 * // m.matchBytes(new TextEncoder().encode("/api/v1"), 0, 7) === true
 * ```
 */
export function aclMatcherNew(
  kind: AclMatchKind,
  pats: readonly string[],
  opts: { icase: boolean },
): AclMatcher | AclBadPat {
  return ACL_MATCHES[kind].compile(pats, opts.icase);
}
