/**
 * Sample fetches on the connection and the request's context (HAProxy's
 * smp_fetch_src, ssl_fc, var, always_true): addresses and ports, TLS, the
 * SNI, variables set by `http-request set-var`, constants. The values are
 * strings or numbers in the context; strings are copied into a scratch
 * buffer so that matchers see bytes, like every other sample.
 *
 * @module
 */
import {
  type AclCtx,
  type AclFetch,
  type AclSampleSink,
  SMP_T_BOOL,
  SMP_T_INT,
  SMP_T_IP,
  SMP_T_STR,
} from "./acl_types.ts";

/** Scratch bytes for samples held as strings in the context (src, sni); grows on demand. */
let STR = new Uint8Array(256);

/** Copies `s` (Latin-1; higher code units keep their low byte) into STR; returns its length. */
function strScratch(s: string): number {
  const n = s.length;
  if (n > STR.length) STR = new Uint8Array(Math.max(n, STR.length * 2));
  for (let i = 0; i < n; i++) STR[i] = s.charCodeAt(i);
  return n;
}

class FetchSrc implements AclFetch {
  readonly type = SMP_T_IP;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const n = strScratch(ctx.src);
    return n > 0 && m.matchBytes(STR, 0, n);
  }
}

/** `src_port` / `dst_port`: a port of the client connection. */
class FetchPort implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string, readonly dst: boolean) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const p = this.dst ? ctx.dstPort : ctx.srcPort;
    return p !== undefined && p > 0 && m.matchInt(p);
  }
}

/** `dst`: the address the client connected to. */
class FetchDst implements AclFetch {
  readonly type = SMP_T_IP;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const n = strScratch(ctx.dst ?? "");
    return n > 0 && m.matchBytes(STR, 0, n);
  }
}

/** `ssl_fc`: the client connection is TLS. */
class FetchSslFc implements AclFetch {
  readonly type = SMP_T_BOOL;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchInt(ctx.tls === true ? 1 : 0);
  }
}

class FetchSni implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const sni = ctx.sni;
    if (sni === null) return false;
    const n = strScratch(sni); // may replace STR: read it after
    return m.matchBytes(STR, 0, n);
  }
}

/** `unique-id`: the request's id made by `unique-id-format`; none without one. */
class FetchUniqueId implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const id = ctx.uniqueId;
    if (id === null || id === undefined) return false;
    const n = strScratch(id); // may replace STR: read it after
    return m.matchBytes(STR, 0, n);
  }
}

/** `var(txn.name)`: a variable set by an earlier `http-request set-var` of this request. */
class FetchVar implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string, readonly name: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const v = ctx.vars?.get(this.name);
    if (v === undefined) return false;
    const n = strScratch(v); // may replace STR: read it after
    return m.matchBytes(STR, 0, n);
  }
}

class FetchBool implements AclFetch {
  readonly type = SMP_T_BOOL;
  constructor(readonly kw: string, readonly value: boolean) {}
  exec(_ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchInt(this.value ? 1 : 0);
  }
}

const HEX = new TextEncoder().encode("0123456789abcdef");
/** The random bytes and the text of the last uuid(). */
const UUID_RAW = new Uint8Array(16);
const UUID_TXT = new Uint8Array(36);

/** `uuid()`: a new random RFC 4122 version 4 UUID, in lowercase, for each sample. */
class FetchUuid implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(_ctx: AclCtx, m: AclSampleSink): boolean {
    const r = crypto.getRandomValues(UUID_RAW);
    r[6] = (r[6] & 0x0f) | 0x40; // version 4
    r[8] = (r[8] & 0x3f) | 0x80; // variant 10xx (RFC 4122)
    let o = 0;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) UUID_TXT[o++] = 0x2d;
      UUID_TXT[o++] = HEX[r[i] >> 4];
      UUID_TXT[o++] = HEX[r[i] & 15];
    }
    return m.matchBytes(UUID_TXT, 0, 36);
  }
}

/** `uuid([4])`: only version 4 exists, as in HAProxy 2.6. */
export function fetchUuidNew(word: string, args: readonly string[]): AclFetch | string {
  if (args.length > 1 || (args.length === 1 && args[0] !== "4")) {
    return `unsupported UUID version in "${word}" (only 4 is supported)`;
  }
  return new FetchUuid(word);
}

/** Base fetches, which the keywords below name with a default method. */
/** `src`. */
export function fetchSrcNew(word: string): AclFetch {
  return new FetchSrc(word);
}

/** `src_port`. */
export function fetchSrcPortNew(word: string): AclFetch {
  return new FetchPort(word, false);
}

/** `dst`. */
export function fetchDstNew(word: string): AclFetch {
  return new FetchDst(word);
}

/** `dst_port`. */
export function fetchDstPortNew(word: string): AclFetch {
  return new FetchPort(word, true);
}

/** `ssl_fc`. */
export function fetchSslFcNew(word: string): AclFetch {
  return new FetchSslFc(word);
}

/** `req.ssl_sni`, `ssl_fc_sni`. */
export function fetchSniNew(word: string): AclFetch {
  return new FetchSni(word);
}

/** `unique-id`. */
export function fetchUniqueIdNew(word: string): AclFetch {
  return new FetchUniqueId(word);
}

/** `always_true`. */
export function fetchTrueNew(word: string): AclFetch {
  return new FetchBool(word, true);
}

/** `always_false`. */
export function fetchFalseNew(word: string): AclFetch {
  return new FetchBool(word, false);
}

/** `var(txn.NAME)`. */
export function fetchVarNew(word: string, args: readonly string[]): AclFetch | string {
  const name = args[0] ?? "";
  if (args.length !== 1 || !/^(txn|req)\.[A-Za-z0-9_.]+$/.test(name)) {
    return `expected var(txn.NAME) in "${word}"`;
  }
  // txn and req scopes are the same here: one request.
  return new FetchVar(word, name.replace(/^req\./, "txn."));
}
