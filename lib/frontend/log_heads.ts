/**
 * What the access log keeps of HTTP heads before they leave the buffer
 * (HAProxy's captures): `capture request header` / `capture response
 * header` values, the log-format samples that need a head (taken after the
 * frontend's rules, so that variables they set are seen), and the request's
 * unique id (`unique-id-format`), added as `unique-id-header` when asked.
 * The values go to the transaction's `reqLog`/`resLog` slots, captures
 * first; the log line reads them at the end.
 *
 * @module
 */
import { bytesToStr, eqNoCase } from "../http/h1_chars.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import type { HttpMsg } from "../http/h1_types.ts";
import type { HttpStream, HttpTxn } from "../http/http_txn.ts";
import type { AclCtx, AclFetch, AclSampleSink } from "../rules/acl_types.ts";

/** A `capture ... header NAME len N`. */
export interface HeaderCapture {
  /** Lowercase name. */
  readonly name: Uint8Array;
  /** Most characters kept. */
  readonly len: number;
}

/** What one frontend keeps of its HTTP heads for the log. */
export interface LogHeads {
  readonly reqHdrs: readonly HeaderCapture[];
  readonly resHdrs: readonly HeaderCapture[];
  /** Log-format samples of the request head (slots after the captures). */
  readonly reqFetches: readonly AclFetch[];
  /** Log-format samples of the response head. */
  readonly resFetches: readonly AclFetch[];
  /** Makes a request's unique id from its head (`ctx`), or null when there is no `unique-id-format`. */
  readonly uniqueId: ((strm: HttpStream, ctx: AclCtx) => string) | null;
  /** Header the unique id is sent to the server in, or null. */
  readonly uniqueIdHeader: string | null;
}

/** Keeps the last sample a fetch yields, as text (HAProxy converts a header fetch's last occurrence). */
class LastSample implements AclSampleSink {
  v: string | null = null;
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    this.v = bytesToStr(a, pos, len);
    return false;
  }
  matchInt(n: number): boolean {
    this.v = String(n);
    return false;
  }
}

const LAST = new LastSample();

/** The text of `fetch`'s last sample in `ctx`, or null when it yields none. */
export function sampleText(fetch: AclFetch, ctx: AclCtx): string | null {
  LAST.v = null;
  fetch.exec(ctx, LAST);
  return LAST.v;
}

/** The whole value of the last header called `name`, cut to `len` characters; null when absent. */
function lastHeader(ctx: AclCtx, c: HeaderCapture): string | null {
  const msg: HttpMsg = ctx.msg, a = ctx.a, base = ctx.base, h = msg.hdrs;
  for (let k = (msg.nHdrs - 1) * 4; k >= 0; k -= 4) {
    if (!eqNoCase(a, base + h[k], h[k + 1], c.name)) continue;
    return bytesToStr(a, base + h[k + 2], Math.min(h[k + 3], c.len));
  }
  return null;
}

/** The slots of a transaction for `n` values (kept across its requests). */
function slots(list: (string | null)[] | null, n: number): (string | null)[] {
  return list !== null && list.length === n ? list : new Array<string | null>(n).fill(null);
}

/**
 * A request head arrived (`ctx` holds it and the connection), before the
 * frontend's rules: its captures, then its unique id (the header added to
 * `rw`, and `ctx.uniqueId` set for the `unique-id` fetch).
 */
export function logRequestHead(
  h: LogHeads,
  strm: HttpStream,
  ctx: AclCtx,
  rw: RewriteOptions,
): void {
  const txn = strm.txn!;
  const n = h.reqHdrs.length + h.reqFetches.length;
  if (n > 0) {
    const s = txn.reqLog = slots(txn.reqLog, n);
    for (let i = 0; i < h.reqHdrs.length; i++) s[i] = lastHeader(ctx, h.reqHdrs[i]);
  }
  ctx.uniqueId = null;
  if (h.uniqueId !== null) {
    const id = txn.uniqueId = h.uniqueId(strm, ctx);
    ctx.uniqueId = id;
    if (h.uniqueIdHeader !== null) (rw.add ??= []).push([h.uniqueIdHeader, id]);
  }
}

/** The frontend's request rules have run on the head in `ctx`: the log's request samples. */
export function logRequestSamples(h: LogHeads, txn: HttpTxn, ctx: AclCtx): void {
  const f = h.reqFetches;
  if (f.length === 0) return;
  const s = txn.reqLog!, k = h.reqHdrs.length;
  for (let i = 0; i < f.length; i++) s[k + i] = sampleText(f[i], ctx);
}

/** A response head (`ctx`) after the frontend's response rules: its captures and the log's response samples. */
export function logResponseHead(h: LogHeads, txn: HttpTxn, ctx: AclCtx): void {
  const k = h.resHdrs.length, f = h.resFetches;
  if (k + f.length === 0) return;
  const s = txn.resLog = slots(txn.resLog, k + f.length);
  for (let i = 0; i < k; i++) s[i] = lastHeader(ctx, h.resHdrs[i]);
  for (let i = 0; i < f.length; i++) s[k + i] = sampleText(f[i], ctx);
}
