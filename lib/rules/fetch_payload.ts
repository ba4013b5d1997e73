/**
 * Sample fetches on the raw request bytes of a TCP-mode stream (HAProxy's
 * payload.c, "7.3.5. Fetching samples from buffer contents"): `req.len`,
 * `req.payload()`, `req.payload_lv()`, and the TLS ClientHello ones,
 * `req.ssl_hello_type`, `req.ssl_sni`, `req.ssl_ver` (tls_hello.ts parses).
 *
 * They read `ctx.content`, which only `tcp-request content` rules and TCP
 * `use_backend` have. While the bytes may still grow, a fetch that cannot
 * decide yet sets `content.miss` (HAProxy's SMP_F_MAY_CHANGE) so that the
 * rule waits for more instead of failing; what can never be there (past the
 * buffer's size) fails at once.
 *
 * @module
 */
import {
  type AclBadPat,
  type AclCtx,
  type AclFetch,
  type AclSampleSink,
  SMP_T_BIN,
  SMP_T_INT,
  SMP_T_STR,
} from "./acl_types.ts";
import { TLS_DONE, TLS_NEED, tlsReqVersion } from "./tls_hello.ts";

/** `req.len`: the number of bytes buffered; may grow, so a failed match waits. */
class FetchReqLen implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const c = ctx.content;
    if (c == null) return false;
    if (m.matchInt(c.len)) return true;
    c.miss = true;
    return false;
  }
}

/** `req.payload(off,len)`: `len` bytes at `off`; len 0: everything from `off` (may grow). */
class FetchPayload implements AclFetch {
  readonly type = SMP_T_BIN;
  constructor(readonly kw: string, readonly off: number, readonly size: number) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const c = ctx.content;
    if (c == null) return false;
    const off = this.off, size = this.size;
    if (off + size > c.cap) return false; // never there
    if (off + size > c.len) {
      c.miss = true;
      return false;
    }
    const n = size === 0 ? c.len - off : size;
    if (m.matchBytes(c.a, c.pos + off, n)) return true;
    if (size === 0) c.miss = true;
    return false;
  }
}

/**
 * `req.payload_lv(off1,len[,off2])`: a block whose length is the `len`-byte
 * big-endian integer at `off1`, starting right after it, or at `off2`
 * (absolute, or relative to right after it when written with a sign).
 */
class FetchPayloadLv implements AclFetch {
  readonly type = SMP_T_BIN;
  constructor(
    readonly kw: string,
    readonly off1: number,
    readonly lsize: number,
    /** The block's start: `off2` absolute, or relative to `off1 + lsize`; null: right after. */
    readonly off2: { n: number; rel: boolean } | null,
  ) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const c = ctx.content;
    if (c == null) return false;
    const at = this.off1 + this.lsize;
    if (at > c.len) {
      c.miss = true;
      return false;
    }
    let size = 0;
    for (let i = this.off1; i < at; i++) size = size * 256 + c.a[c.pos + i];
    const o2 = this.off2;
    const start = o2 === null ? at : o2.rel ? at + o2.n : o2.n;
    if (size === 0 || start + size > c.cap) return false; // never there
    if (start + size > c.len) {
      c.miss = true;
      return false;
    }
    return m.matchBytes(c.a, c.pos + start, size);
  }
}

/** `req.ssl_hello_type`: the type of the first TLS handshake message, once whole. */
class FetchSslHelloType implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const c = ctx.content;
    if (c == null) return false;
    const st = c.hello.update(c.a, c.pos, c.len, c.cap);
    if (st === TLS_NEED) c.miss = true;
    return st === TLS_DONE && m.matchInt(c.hello.helloType());
  }
}

/** `req.ssl_sni`: the server name of a whole ClientHello. */
class FetchSslSni implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const c = ctx.content;
    if (c == null) return false;
    const h = c.hello;
    const st = h.update(c.a, c.pos, c.len, c.cap);
    if (st === TLS_NEED) c.miss = true;
    if (st !== TLS_DONE) return false;
    const sni = h.sni();
    return sni !== null && m.matchBytes(h.msg, sni[0], sni[1]);
  }
}

/** `req.ssl_ver`: the SSL/TLS version the client announces (`major << 16 | minor`). */
class FetchSslVer implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const c = ctx.content;
    if (c == null) return false;
    const v = tlsReqVersion(c.a, c.pos, c.len, c.cap);
    if (v === -1) c.miss = true;
    return v >= 0 && m.matchInt(v);
  }
}

/** A non-negative offset or length argument (at most 9 digits: more cannot be in a buffer). */
function offArg(word: string, what: string, text: string | undefined): number | string {
  if (text === undefined || !/^[0-9]{1,9}$/.test(text)) {
    return `expected a non-negative integer as the ${what} in "${word}"`;
  }
  return Number(text);
}

/** `req.len`, `req_len`. */
export function fetchReqLenNew(word: string): AclFetch {
  return new FetchReqLen(word);
}

/** `req.payload(offset,length)`. */
export function fetchPayloadNew(word: string, args: readonly string[]): AclFetch | string {
  if (args.length !== 2) return `expected ${word.replace(/\(.*$/, "")}(offset,length)`;
  const off = offArg(word, "offset", args[0]);
  if (typeof off === "string") return off;
  const size = offArg(word, "length", args[1]);
  if (typeof size === "string") return size;
  return new FetchPayload(word, off, size);
}

/** `req.payload_lv(offset1,length[,offset2])`. */
export function fetchPayloadLvNew(word: string, args: readonly string[]): AclFetch | string {
  if (args.length !== 2 && args.length !== 3) {
    return `expected ${word.replace(/\(.*$/, "")}(offset1,length[,offset2])`;
  }
  const off1 = offArg(word, "offset1", args[0]);
  if (typeof off1 === "string") return off1;
  const lsize = offArg(word, "length", args[1]);
  if (typeof lsize === "string") return lsize;
  // HAProxy accepts any size and keeps the low 32 bits; a length field of
  // more than 4 bytes cannot describe a block that fits in a buffer.
  if (lsize < 1 || lsize > 4) return `the length field must be 1 to 4 bytes in "${word}"`;
  let off2: { n: number; rel: boolean } | null = null;
  if (args.length === 3) {
    const m = /^([+-]?)([0-9]{1,9})$/.exec(args[2]);
    if (m === null) return `expected an integer (with a sign: relative) as offset2 in "${word}"`;
    const n = m[1] === "-" ? -Number(m[2]) : Number(m[2]);
    if (off1 + lsize + n < 0) return `offset2 is too negative in "${word}"`;
    off2 = { n, rel: m[1] !== "" };
  }
  return new FetchPayloadLv(word, off1, lsize, off2);
}

/** `req.ssl_hello_type`, `req_ssl_hello_type`. */
export function fetchSslHelloTypeNew(word: string): AclFetch {
  return new FetchSslHelloType(word);
}

/** `req.ssl_sni`, `req_ssl_sni`. */
export function fetchSslSniNew(word: string): AclFetch {
  return new FetchSslSni(word);
}

/** `req.ssl_ver`, `req_ssl_ver`. */
export function fetchSslVerNew(word: string): AclFetch {
  return new FetchSslVer(word);
}

/** A dotted version `3.1` as `3 << 16 | 1`, or NaN (HAProxy's strl2llrc_dotted()). */
function dotted(text: string): number {
  const m = /^([0-9]{1,5})(?:\.([0-9]{1,5}))?$/.exec(text);
  if (m === null) return NaN;
  const major = Number(m[1]), minor = m[2] === undefined ? 0 : Number(m[2]);
  return major > 65535 || minor > 65535 ? NaN : major * 65536 + minor;
}

/**
 * The patterns of a `req.ssl_ver` ACL without `-m` (HAProxy's
 * pat_parse_dotted_ver()): versions written `MAJOR.MINOR`, ranges `A:B`
 * (or `A-B`, `A:`, `:B`), operators `eq|ge|gt|le|lt V`, turned into the
 * integer patterns the `int` method reads.
 */
export function dottedVersionPats(pats: readonly string[]): string[] | AclBadPat {
  const out: string[] = [];
  for (const p of pats) {
    if (/^(eq|ge|gt|le|lt)$/.test(p)) {
      out.push(p);
      continue;
    }
    const sep = p.search(/[:-]/);
    if (sep < 0) {
      const v = dotted(p);
      if (Number.isNaN(v)) return { pat: p, why: "expected a dotted version such as 3.1" };
      out.push(String(v));
      continue;
    }
    const lo = p.slice(0, sep), hi = p.slice(sep + 1);
    const l = lo === "" ? NaN : dotted(lo), h = hi === "" ? NaN : dotted(hi);
    if (
      (lo === "" && hi === "") || (lo !== "" && Number.isNaN(l)) || (hi !== "" && Number.isNaN(h))
    ) return { pat: p, why: "expected a dotted version range such as 3.1:3.3" };
    if (lo !== "" && hi !== "" && l > h) {
      return { pat: p, why: "the range is empty (lower bound above upper bound)" };
    }
    out.push(`${lo === "" ? "" : l}:${hi === "" ? "" : h}`);
  }
  return out;
}
