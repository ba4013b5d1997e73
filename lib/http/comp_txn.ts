/**
 * HTTP compression in a transaction: what the HTTP analyser calls on the
 * request head (choose the algorithm, `compression offload`), on the
 * response head (the conditions, then the header changes HAProxy makes:
 * Content-Encoding, Content-Length out, chunked, a strong ETag made weak,
 * `Vary: Accept-Encoding`), and the body (comp_body.ts).
 *
 * @module
 */
import type { CompAlgoName } from "./comp_algo.ts";
import { compToken } from "./comp_algo.ts";
import { CompStream } from "./comp_body.ts";
import {
  compAgentOk,
  type CompOptions,
  type CompResponseFacts,
  compResponseOk,
  compSelect,
  compSettings,
} from "./comp_negotiate.ts";
import { lc } from "./h1_chars.ts";
import type { RewriteOptions } from "./h1_rewrite.ts";
import type { HttpMsg } from "./h1_types.ts";

const H_ACCEPT_ENCODING = lc("accept-encoding");
const H_CONTENT_LENGTH = lc("content-length");
const H_ETAG = lc("etag");

/** Compression state of one transaction. */
export class CompTxn {
  readonly algo: CompAlgoName;
  /** Content-Type prefixes in force (the backend's, else the frontend's). */
  readonly types: readonly string[];
  /** The body being compressed, once the response head said so. */
  body: CompStream | null = null;

  constructor(algo: CompAlgoName, types: readonly string[]) {
    this.algo = algo;
    this.types = types;
  }

  /** Releases the compression state. */
  close(): void {
    this.body?.close();
  }
}

/**
 * On a request head routed to its backend: the algorithm the response may
 * use (null: none), and with `compression offload` the request's
 * Accept-Encoding dropped so the server does not compress.
 */
export function compRequest(
  fe: CompOptions | null,
  be: CompOptions | null,
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  rw: RewriteOptions,
): CompTxn | null {
  const s = compSettings(fe, be);
  if (s === null || s.algos.length === 0) return null;
  // HAProxy: old agents get no compression at all, not even identity.
  if (!compAgentOk(msg, a, base)) return null;
  const negotiated = compSelect(s, msg, a, base);
  // HAProxy removes it only when the client's header chose an algorithm,
  // not for the implicit identity.
  if (s.offload && negotiated !== null) rw.drop!.push(H_ACCEPT_ENCODING);
  const algo = negotiated ?? (s.algos.includes("identity") ? "identity" : null);
  return algo === null ? null : new CompTxn(algo, s.types);
}

/**
 * On a final response head: when it may be compressed, starts the body's
 * compression and puts the header changes into `rw`; returns whether it
 * did. `chunked` and `len` give the server's framing.
 */
export function compResponse(
  ct: CompTxn,
  facts: CompResponseFacts,
  chunked: boolean,
  len: number,
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  rw: RewriteOptions,
): boolean {
  const ok = compResponseOk(
    { algos: [ct.algo], types: ct.types, offload: false },
    facts,
    msg,
    a,
    base,
  );
  if (ok === null) return false;
  if (ct.algo !== "identity") rw.add!.push(["Content-Encoding", compToken(ct.algo)]);
  if (!chunked) {
    rw.drop!.push(H_CONTENT_LENGTH);
    rw.add!.push(["Transfer-Encoding", "chunked"]);
  }
  if (ok.etag !== null && ok.etag[0] === '"') {
    rw.drop!.push(H_ETAG);
    rw.add!.push(["ETag", "W/" + ok.etag]);
  }
  rw.add!.push(["Vary", "Accept-Encoding"]);
  ct.body = new CompStream(ct.algo, chunked, len);
  return true;
}
