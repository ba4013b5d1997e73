/**
 * The HTTP transaction of a stream: both messages being parsed, the body
 * states, where each side is (RQ_*, RS_*), and what the log line needs. One
 * object per stream, reset between keep-alive requests.
 *
 * @module
 */
import type { State } from "../core/state.ts";
import { BodyState } from "./h1_body.ts";
import { bytesToStr } from "./h1_chars.ts";
import { H1_MF_RESP, HttpMsg } from "./h1_types.ts";
import type { RewriteOptions } from "./h1_rewrite.ts";
import type { Reply } from "./http_reply.ts";
import type { CacheTxn } from "./cache_txn.ts";
import type { Stream } from "../stream/stream.ts";
import type { CompTxn } from "./comp_txn.ts";

/** The request line of a request that could not be parsed. */
const BADREQ = new TextEncoder().encode("<BADREQ>");

/**
 * How a request hook (or rule) ended: go on with the request, answer it
 * (deny: logged PR, else LR), or fail (500, logged).
 */
export type HookOutcome =
  | { kind: "continue" }
  | ({ readonly kind: "reply" } & Reply)
  | { kind: "error"; message: string };

/** Where the request side of a transaction is: one of the RQ_* constants. */
export type RqState = State<"rq">;
/** Where the response side of a transaction is: one of the RS_* constants. */
export type RsState = State<"rs">;

/** Waiting for a request head. */
export const RQ_WAIT = 0 as RqState;
/** Forwarding the request body. */
export const RQ_BODY = 1 as RqState;
/** The request is forwarded; waiting for the response to end. */
export const RQ_DONE = 2 as RqState;
/** Upgraded: bytes flow both ways unparsed. */
export const RQ_TUNNEL = 3 as RqState;
/** An error was answered: client input is read and dropped until it closes. */
export const RQ_DRAIN = 4 as RqState;
/** No more requests on this connection: waiting for it to close. */
export const RQ_CLOSING = 5 as RqState;
/** Waiting for an asynchronous onRequest hook to settle. */
export const RQ_HOOK = 6 as RqState;
/** `http-request tarpit`: holding the request until `timeout tarpit`, then answering. */
export const RQ_TARPIT = 7 as RqState;

/** No request yet. */
export const RS_IDLE = 0 as RsState;
/** Waiting for the response head. */
export const RS_WAIT = 1 as RsState;
/** Forwarding the response body. */
export const RS_BODY = 2 as RsState;
/** The response is forwarded. */
export const RS_DONE = 3 as RsState;
/** Upgraded. */
export const RS_TUNNEL = 4 as RsState;
/** Sending a response sluice generated. */
export const RS_REPLY = 5 as RsState;
/** Waiting for an asynchronous onResponse hook to settle (the head waits in the buffer). */
export const RS_HOOK = 6 as RsState;

/** The client keeps the connection open after this transaction. */
export const TX_CLI_KAL = 1 << 0;
/** The server connection may be reused after this transaction. */
export const TX_SRV_KAL = 1 << 1;
/** The request asked for an upgrade (Upgrade + Connection: upgrade). */
export const TX_UPGRADE_REQ = 1 << 2;
/** The request method is HEAD (the response has no body). */
export const TX_HEAD = 1 << 3;
/** This transaction was logged already. */
export const TX_LOGGED = 1 << 4;
/** The client sent HTTP/1.0. */
export const TX_CLI_10 = 1 << 5;
/** The response is delimited by the server closing: close the client after. */
export const TX_RES_CLOSE = 1 << 6;
/** The request was already sent again on a fresh connection once. */
export const TX_RETRIED = 1 << 7;
/** The client sent a valid persistence cookie (cookie insert/prefix). */
export const TX_PERSIST_VALID = 1 << 8;
/** `option http-server-close` or `httpclose`: the server connection closes after this response. */
export const TX_SRV_CLOSE = 1 << 9;
/** `option http-buffer-request`: the body is being buffered before the server is chosen. */
export const TX_WAIT_BODY = 1 << 10;
/** Not logged (a `monitor-uri` request). */
export const TX_NOLOG = 1 << 11;

/** Requests started by this process (HAProxy's global request counter). */
let reqCount = 0;

/** The next request number (`%rt`), for a TCP stream's log line. */
export function reqCountNext(): number {
  return ++reqCount;
}

/** One stream's HTTP state. */
export class HttpTxn {
  rq: RqState = RQ_WAIT;
  rs: RsState = RS_IDLE;
  /** TX_* bits. */
  flags = 0;
  readonly req: HttpMsg;
  readonly res: HttpMsg;
  readonly reqBody: BodyState = new BodyState();
  readonly resBody: BodyState = new BodyState();
  /** Requests started on this connection (this one included). */
  count = 0;
  /** Status sent to the client (-1 until known). */
  status = -1;
  /**
   * The request line, for the log: `reqLine[0, reqLineLen)` ("<BADREQ>" when
   * unparsable). Bytes, copied from the head; the storage is kept across the
   * requests of the connection.
   */
  reqLine: Uint8Array = BADREQ;
  reqLineLen = 0;
  /** Tick the wait for this request started (accept or end of the previous one). */
  tIdle = 0;
  /** Tick the first byte of this request arrived (-1 until then). */
  tStart = -1;
  /** Tick the request head was complete. */
  tHead = -1;
  /** Tick the response head was complete. */
  tResHead = -1;
  /** Channel counters when the transaction started, for per-request byte counts. */
  reqTotal0 = 0;
  resFwd0 = 0;
  /**
   * A copy of the request sent on a reused server connection, kept until
   * the response starts so that it can be sent again on a fresh connection
   * if the server had closed the idle one (only for body-less idempotent
   * requests).
   */
  retryHead: Uint8Array | null = null;
  /** Storage of `retryHead`, kept across requests of the connection. */
  retryBuf: Uint8Array | null = null;
  /** The rewrite of the request head being prepared (kept while a hook runs). */
  rw: RewriteOptions | null = null;
  /** A response head held for an onResponse hook: its body framing and whether it upgrades. */
  resKind = 0;
  resUpgrade = false;
  /** What is left to send of a generated response larger than the buffer, or null. */
  replyRest: Uint8Array | null = null;
  /** `compression`: the algorithm chosen for this transaction and its body's state, or null. */
  comp: CompTxn | null = null;
  /** Variables `http-request set-var` set for this request (`http-response` conditions read them). */
  vars: Map<string, string> | null = null;
  /** The request as an onResponse hook sees it (kept only when one is configured). */
  hookReq: { method: string; path: string } | null = null;
  /** The answer a tarpit holds until its delay ends, or null. */
  tarpit: Reply | null = null;
  /** The HTTP cache's state for this request (`cache-use`), or null. */
  cache: CacheTxn | null = null;
  /** What an asynchronous request hook settled with (`undefined` while it runs). */
  hookResult: HookOutcome | undefined = undefined;
  /** Termination state of this transaction, when it ended on its own. */
  termCause = 0;
  termPhase = 0;
  /** This request's number, process-wide (the log's `%rt`). */
  uid = 0;
  /** Its unique id (`unique-id-format`), null when none was made. */
  uniqueId: string | null = null;
  /**
   * What the log keeps of the request and response heads, by slot (null
   * when not found): `capture request header` values then request-time
   * log-format samples in `reqLog`, the response's in `resLog`. Null when
   * the frontend keeps nothing.
   */
  reqLog: (string | null)[] | null = null;
  resLog: (string | null)[] | null = null;

  /** Keeps `len` bytes of `src` from `pos` as the request line. */
  setReqLine(src: Uint8Array, pos: number, len: number): void {
    let line = this.reqLine;
    if (line.length < len || line === BADREQ) {
      line = this.reqLine = new Uint8Array(Math.max(len, 128));
    }
    line.set(src.subarray(pos, pos + len));
    this.reqLineLen = len;
  }

  /** The request line is "<BADREQ>" (nothing parsable came). */
  setBadReq(): void {
    this.reqLine = BADREQ;
    this.reqLineLen = BADREQ.length;
  }

  /** The request line as text (Latin-1), for JSON logs. */
  reqLineText(): string {
    return bytesToStr(this.reqLine, 0, this.reqLineLen);
  }

  constructor(maxHdrs: number) {
    this.req = new HttpMsg(maxHdrs);
    this.res = new HttpMsg(maxHdrs);
    this.res.flags |= H1_MF_RESP;
  }

  /** Prepares for the next request on the same connection. */
  next(now: number, reqTotal: number, resFwd: number): void {
    this.rq = RQ_WAIT;
    this.rs = RS_IDLE;
    this.flags = 0;
    this.req.reset();
    this.res.reset();
    this.status = -1;
    this.reqLineLen = 0;
    this.tIdle = now;
    this.tStart = this.tHead = this.tResHead = -1;
    this.reqTotal0 = reqTotal;
    this.resFwd0 = resFwd;
    this.termCause = this.termPhase = 0;
    this.retryHead = null;
    this.rw = null;
    this.hookResult = undefined;
    this.hookReq = null;
    this.vars = null;
    this.replyRest = null;
    this.comp?.close();
    this.comp = null;
    this.tarpit = null;
    this.cache = null;
    this.uid = ++reqCount;
    this.uniqueId = null;
    this.reqLog?.fill(null);
    this.resLog?.fill(null);
  }
}

/** A stream the HTTP analyser runs on: its `txn` is the HTTP transaction (set by `init()`). */
export type HttpStream = Stream<HttpTxn>;
