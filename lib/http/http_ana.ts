/**
 * The HTTP/1 analyser: turns a stream into a reverse-proxied HTTP exchange.
 *
 * Per transaction: wait for a complete request head (within `timeout
 * http-request`), reject anything the strict parser refuses with the right
 * status, rewrite the head (hop-by-hop headers out, X-Forwarded-For in), ask
 * for a server connection, forward the body by its framing, wait for the
 * response head (502 when invalid, 504 when late), forward it and its body,
 * then either keep both connections for the next request (the server one
 * goes back to the idle list) or close. Requests are handled one at a time,
 * so pipelined requests are answered in order. A 101 answer to an upgrade
 * request turns the stream into a tunnel.
 *
 * @module
 */
import { type Channel, chnErase, chnForward, chnShutwNow } from "../buf/channel.ts";
import {
  CF_AUTO_CLOSE,
  CF_READ_NOEXP,
  CF_READ_TIMEOUT,
  CF_SHUTR,
  CF_SHUTW,
  CF_WRITE_TIMEOUT,
  CHN_INFINITE_FORWARD,
} from "../buf/channel_types.ts";
import { TICK_ETERNITY, tickAdd } from "../core/time.ts";
import { scClose, scShutr } from "../stconn/stconn.ts";
import { SC_FL_ERR, SC_ST_CLO, SC_ST_EST, SC_ST_INI, SC_ST_REQ } from "../stconn/sc_types.ts";
import {
  SF_ERR_CLICL,
  SF_ERR_CLITO,
  SF_ERR_INTERNAL,
  SF_ERR_LOCAL,
  SF_ERR_NONE,
  SF_ERR_PRXCOND,
  SF_ERR_SRVCL,
  SF_ERR_SRVTO,
  SF_FINST_D,
  SF_FINST_H,
  SF_FINST_NONE,
  SF_FINST_R,
  SF_FINST_T,
  SF_FIRST_REQ,
  SF_NO_REUSE,
  type StreamAnalyser,
} from "../stream/stream_types.ts";
import {
  BODY_CHUNK_SIZE,
  BODY_CLEN,
  BODY_CLOSE,
  BODY_DONE,
  BODY_NONE,
  bodyForward,
} from "./h1_body.ts";
import { eqNoCase, lc } from "./h1_chars.ts";
import { h1ParseHead } from "./h1_parser.ts";
import { h1Rewrite, type RewriteOptions, X_FORWARDED_PROTO } from "./h1_rewrite.ts";
import {
  H1_MF_CHNK,
  H1_MF_CLEN,
  H1_MF_CONN_CLOSE,
  H1_MF_CONN_KAL,
  H1_MF_CONN_UPG,
  H1_MF_EXPECT_100,
  H1_MF_UPGRADE,
  H1_MF_VER_11,
  type H1Limits,
  HTTP_METH_DELETE,
  HTTP_METH_GET,
  HTTP_METH_HEAD,
  HTTP_METH_OPTIONS,
  HTTP_METH_PUT,
  HTTP_METH_TRACE,
  HttpMsg,
} from "./h1_types.ts";
import type { Replies, Reply } from "./http_reply.ts";
import {
  type HookOutcome,
  type HttpStream,
  HttpTxn,
  RQ_BODY,
  RQ_CLOSING,
  RQ_DONE,
  RQ_DRAIN,
  RQ_HOOK,
  RQ_TARPIT,
  RQ_TUNNEL,
  RQ_WAIT,
  RS_BODY,
  RS_DONE,
  RS_HOOK,
  RS_IDLE,
  RS_REPLY,
  RS_TUNNEL,
  RS_WAIT,
  TX_CLI_10,
  TX_CLI_KAL,
  TX_HEAD,
  TX_LOGGED,
  TX_NOLOG,
  TX_PERSIST_VALID,
  TX_RES_CLOSE,
  TX_RETRIED,
  TX_SRV_CLOSE,
  TX_SRV_KAL,
  TX_UPGRADE_REQ,
  TX_WAIT_BODY,
} from "./http_txn.ts";
import { monitorUriMatch } from "./http_monitor.ts";
import { compRequest, compResponse } from "./comp_txn.ts";
import { compReserve } from "./comp_body.ts";
import type { CompOptions } from "./comp_negotiate.ts";
import { cacheHitHead, cacheTap, cacheTapEnd, cacheTapStart } from "./cache_txn.ts";

/** How long input is read and dropped after an error reply, so the reply is not lost to a reset. */
export const LINGER_MS = 1000;

/**
 * HTTP connection modes (HAProxy's PR_O_HTTP_KAL/SCL/CLO), weakest first:
 * keep-alive on both sides; `option http-server-close` closes the server
 * connection after each response; `option httpclose` closes both. The
 * stronger of the frontend's and the backend's applies to a transaction.
 */
export const HTTP_KAL = 0;
/** `option http-server-close`. */
export const HTTP_SCL = 1;
/** `option httpclose`. */
export const HTTP_CLO = 2;

/** `option forwardfor [except NET] [header NAME] [if-none]` of a frontend or backend. */
export interface ForwardFor {
  /** The header to add, as sent (`X-Forwarded-For`). */
  readonly header: string;
  /** Its name in lowercase bytes (for `ifNone`). */
  readonly lname: Uint8Array;
  /** True for a client address of the `except` network (no header for it), or null. */
  readonly except: ((ip: string) => boolean) | null;
  /** Only add the header when the request has none (`if-none`). */
  readonly ifNone: boolean;
}

/** HTTP settings a backend adds to those of the frontend, per transaction. */
export interface HttpBackendOptions {
  /** HTTP_KAL, HTTP_SCL or HTTP_CLO. */
  readonly connMode: number;
  /** `option forwardfor` of the backend, or null. */
  readonly forwardFor: ForwardFor | null;
  /** `option http-buffer-request`. */
  readonly bufferRequest: boolean;
  /** `option abortonclose`: a client that closes while queued or connecting is dropped. */
  readonly abortOnClose: boolean;
  /** `compression ...` of the backend (its settings win over the frontend's), or null. */
  readonly compression?: CompOptions | null;
}

const H_EXPECT = lc("expect");
const CONTINUE_100 = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** HTTP settings of a frontend. */
export interface HttpOptions {
  /** `timeout http-request` (0: the client timeout applies). */
  httpRequestTimeout: number;
  /** `timeout http-keep-alive` (0: http-request, then client timeout). */
  keepAliveTimeout: number;
  /** Bytes kept free for head rewrites (HAProxy's maxrewrite). */
  maxRewrite: number;
  /**
   * The buffer size heads must fit in (with maxRewrite free): `bufsize`,
   * also when a channel holds a large buffer for a bulk transfer.
   */
  bufsize: number;
  /** Parser limits (maxHead is bufsize - maxRewrite). */
  maxHdrs: number;
  maxBody: number;
  /** `option forwardfor`: add X-Forwarded-For (or its own header), or null. */
  forwardFor: ForwardFor | null;
  /** HTTP_KAL, HTTP_SCL or HTTP_CLO (`option http-keep-alive|http-server-close|httpclose`). */
  connMode: number;
  /** `option http-buffer-request`: a request body is buffered before the server connection. */
  bufferRequest: boolean;
  /** `monitor-uri`: requests for it get 200 at once, unlogged; null for none. */
  monitorUri: Uint8Array | null;
  /** `timeout tarpit` (ms) for the frontend's `http-request tarpit` rules. */
  tarpitTimeout: number;
  /** Set X-Forwarded-Proto (the client's one is replaced). */
  forwardedProto: boolean;
  /** Add an RFC 7239 Forwarded header. */
  forwarded: boolean;
  /** Generated responses. */
  replies: Replies;
  /** Requests are logged (the request line is kept for the log). */
  log: boolean;
  /** `compression ...` of the frontend, or null. */
  compression?: CompOptions | null;
}

/** Hooks the analyser calls on the layers above (logs, counters, server connections). */
export interface HttpHooks {
  /** A transaction ended (answered, failed, or the connection closed): log and count it. */
  txnEnd(strm: HttpStream, txn: HttpTxn): void;
  /**
   * The transaction is over for the server side: give the connection back
   * (idle list when `reusable`) or close it, and free the server slot.
   * `retry`: not over, the request goes again on a new connection.
   */
  serverDone(strm: HttpStream, reusable: boolean, now: number, retry?: boolean): void;
  /**
   * A request head is parsed, before it is rewritten: the backend may take
   * its load-balancing key and persistence cookie from it and add header
   * changes to `rw`. Returns true when the client sent a valid persistence
   * cookie.
   */
  requestHead(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): boolean;
  /**
   * The frontend's `http-request` rules and `use_backend` routing, run on a
   * parsed request head before the backend sees it: header changes go to
   * `rw`; a rule that answers (deny, return, redirect) returns the response
   * and whether it is a denial.
   */
  requestRules(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): Reply | null;
  /**
   * The frontend's TypeScript `onRequest` hook, if any (null when none is
   * configured: no cost). It may settle at once (an outcome) or later (a
   * promise); header and path changes go to `rw`, routing to the stream.
   */
  requestHook(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): HookOutcome | Promise<HookOutcome> | null;
  /** True when an `onResponse` hook will see this stream's responses. */
  wantsResponseHook(strm: HttpStream): boolean;
  /** The HTTP settings of the backend the request was routed to (null: none of its own). */
  backendHttp(strm: HttpStream): HttpBackendOptions | null;
  /**
   * The frontend's TypeScript `onResponse` hook on a final response head
   * (header changes to `view.rw`, which the caller owns until it settles).
   */
  responseHook(strm: HttpStream, view: ResponseHeadView): HookOutcome | Promise<HookOutcome>;
  /** An asynchronous hook did not settle in time (the client gets 500). */
  hookTimedOut(strm: HttpStream, which: "onRequest" | "onResponse"): void;
  /**
   * The frontend's `http-response` rules on a final response head: header
   * changes to `head.rw`; a rule that answers (deny, return, redirect)
   * returns the response to send instead, and whether it is a denial.
   */
  responseRules(
    strm: HttpStream,
    head: ResponseHeadView,
  ): Reply | null;
  /**
   * A final response head is parsed (status > 0), or the server gave no
   * valid response (status 0): passive health, and header changes to `rw`
   * (persistence cookie) when there is a head.
   */
  responseHead(strm: HttpStream, status: number, head: ResponseHeadView | null, now: number): void;
}

/** A parsed response head as the backend sees it (valid during the call only). */
export interface ResponseHeadView {
  msg: HttpMsg;
  /** Buffer area and head offset the message offsets refer to. */
  a: Uint8Array;
  base: number;
  /** Header changes to apply (add to `drop`/`add`). */
  rw: RewriteOptions;
  /** The client sent a valid persistence cookie. */
  persist: boolean;
}

const H_FORWARDED = lc("forwarded");

/** The HTTP analyser of one frontend (state lives in `strm.txn`). */
export class HttpAnalyser implements StreamAnalyser<HttpTxn> {
  readonly opts: HttpOptions;
  readonly #hooks: HttpHooks;
  readonly #resRw: RewriteOptions = { upgrade: false, connection: null, drop: [], add: [] };
  readonly #resView: ResponseHeadView;

  constructor(opts: HttpOptions, hooks: HttpHooks) {
    this.opts = opts;
    this.#hooks = hooks;
    this.#resView = {
      msg: new HttpMsg(1),
      a: new Uint8Array(0),
      base: 0,
      rw: this.#resRw,
      persist: false,
    };
  }

  /** Sets a new stream up for HTTP. */
  init(strm: HttpStream, now: number): void {
    const txn = new HttpTxn(this.opts.maxHdrs);
    txn.next(now, 0, 0);
    strm.txn = txn;
    strm.req.flags &= ~CF_AUTO_CLOSE;
    strm.res.flags &= ~CF_AUTO_CLOSE;
    // Both channels keep room for their head's rewrite from the start: a
    // server may fill the response buffer before the analyser first sees
    // it (compression and http-response rules make heads longer).
    strm.req.buf.reserve = strm.res.buf.reserve = this.opts.maxRewrite;
    strm.anaExp = tickAdd(now, this.opts.httpRequestTimeout);
  }

  process(strm: HttpStream, now: number): void {
    const txn = strm.txn!;
    // Each step may unblock the next one; a few passes are always enough.
    for (let pass = 0; pass < 4; pass++) {
      let progress = false;
      switch (txn.rq) {
        case RQ_WAIT:
          progress = this.#waitRequest(strm, txn, now);
          break;
        case RQ_BODY:
          progress = this.#requestBody(strm, txn, now);
          break;
        case RQ_DRAIN:
          this.#drain(strm, now);
          break;
        case RQ_CLOSING:
          this.#closing(strm, now);
          break;
        case RQ_DONE:
          progress = this.#abortOnClose(strm, txn, now);
          break;
        case RQ_TARPIT:
          progress = this.#tarpit(strm, txn, now);
          break;
        case RQ_HOOK:
          if (txn.hookResult !== undefined) {
            strm.anaExp = TICK_ETERNITY;
            progress = this.#afterHook(strm, txn, txn.hookResult, now);
          } else if (strm.scf.flags & SC_FL_ERR) {
            // The client's connection failed while its hook ran.
            strm.setTerm(SF_ERR_CLICL, SF_FINST_R);
            this.#finishClient(strm, txn, now);
            progress = true;
          } else if (strm.anaExp <= now) {
            this.#hooks.hookTimedOut(strm, "onRequest");
            progress = this.#afterHook(strm, txn, { kind: "error", message: "timeout" }, now);
          }
          break;
      }
      switch (txn.rs) {
        case RS_REPLY:
          if (txn.replyRest !== null) progress = this.#replyMore(strm, txn, now) || progress;
          break;
        case RS_HOOK:
          if (txn.hookResult !== undefined) {
            progress = this.#afterResponseHook(strm, txn, txn.hookResult, now) || progress;
          } else if (strm.scf.flags & SC_FL_ERR) {
            strm.setTerm(SF_ERR_CLICL, SF_FINST_H);
            this.#abort(strm, txn, now);
            progress = true;
          } else if (strm.anaExp <= now) {
            this.#hooks.hookTimedOut(strm, "onResponse");
            progress =
              this.#afterResponseHook(strm, txn, { kind: "error", message: "timeout" }, now) ||
              progress;
          }
          break;
        case RS_WAIT:
          progress = this.#waitResponse(strm, txn, now) || progress;
          break;
        case RS_BODY:
          progress = this.#responseBody(strm, txn, now) || progress;
          break;
      }
      if (txn.rq === RQ_DONE && txn.rs === RS_DONE) {
        this.#endTxn(strm, txn, now);
        progress = true;
      }
      if (!progress) break;
    }
    // The whole request is in: the client's read timeout no longer applies
    // (queue and server timeouts do), as in HAProxy.
    const req = strm.req;
    if (txn.rq === RQ_DONE || txn.rq === RQ_HOOK || txn.rq === RQ_TARPIT) {
      req.flags = (req.flags | CF_READ_NOEXP) & ~CF_READ_TIMEOUT;
      req.rex = TICK_ETERNITY;
    } else req.flags &= ~CF_READ_NOEXP;
    // The same on the server side while a response hook holds the head.
    const res = strm.res;
    if (txn.rs === RS_HOOK) {
      res.flags = (res.flags | CF_READ_NOEXP) & ~CF_READ_TIMEOUT;
      res.rex = TICK_ETERNITY;
    } else res.flags &= ~CF_READ_NOEXP;
  }

  connectFailed(strm: HttpStream, now: number): void {
    const txn = strm.txn!;
    // The backend set the termination state (SC or sC); answer 503.
    this.#reply(strm, txn, 503, -1, now);
  }

  reused(strm: HttpStream): void {
    const txn = strm.txn!;
    const m = txn.req.meth;
    // Only a body-less idempotent request can safely be sent twice.
    const idempotent = m === HTTP_METH_GET || m === HTTP_METH_HEAD || m === HTTP_METH_OPTIONS ||
      m === HTTP_METH_TRACE || m === HTTP_METH_PUT || m === HTTP_METH_DELETE;
    const f = txn.req.flags;
    if (idempotent && !(f & (H1_MF_CLEN | H1_MF_CHNK)) && !(txn.flags & TX_RETRIED)) {
      const buf = strm.req.buf;
      if (txn.retryBuf === null || txn.retryBuf.length < buf.out) {
        txn.retryBuf = new Uint8Array(Math.max(buf.out, 1024));
      }
      txn.retryHead = txn.retryBuf.subarray(0, buf.copyOut(txn.retryBuf));
    }
  }

  end(strm: HttpStream, now: number): void {
    const txn = strm.txn!;
    cacheTapEnd(txn.cache);
    txn.comp?.close();
    if (txn.flags & TX_LOGGED) return;
    // Nothing to log for a connection that closed between requests.
    if (txn.tStart < 0 && txn.rq === RQ_WAIT) return;
    if (txn.rq === RQ_CLOSING) return;
    this.#log(strm, txn, now);
  }

  // -- request side --------------------------------------------------------

  #waitRequest(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const req = strm.req;
    const buf = req.buf;
    if (buf.out > 0 || buf.sndPending > 0) return false;
    // A pipelined request waits until the previous response has left, so
    // an error answer to it can never cut that response.
    const rb = strm.res.buf;
    if (rb.out > 0 || rb.sndPending > 0) return false;
    // RFC 9112 §2.2: ignore empty lines before a request line.
    while (buf.in > 0 && (buf.inByte(0) === 0x0d || buf.inByte(0) === 0x0a)) {
      if (buf.inByte(0) === 0x0d && buf.in > 1 && buf.inByte(1) !== 0x0a) break;
      dropIn(buf, 1);
    }
    if (buf.in === 0) {
      if ((req.flags & CF_SHUTR) && txn.count === 0) {
        // The client closed before its first request: HAProxy logs it as a
        // bad request (400, CR), unless `option dontlognull` (the logger's
        // choice).
        txn.setBadReq();
        strm.setTerm(SF_ERR_CLICL, SF_FINST_R);
        txn.status = 400;
        this.#finishClient(strm, txn, now);
        return true;
      }
      if (req.flags & CF_SHUTR) {
        // The client closed between requests: a normal end, not logged.
        this.#closeQuietly(strm, txn, now);
        return true;
      }
      if (strm.anaExp <= now || (req.flags & CF_READ_TIMEOUT)) {
        if (txn.count > 0) this.#closeQuietly(strm, txn, now);
        else {
          strm.setTerm(SF_ERR_CLITO, SF_FINST_R);
          this.#reply(strm, txn, 408, SF_ERR_CLITO, now);
        }
        return true;
      }
      if (txn.count > 0 && this.opts.keepAliveTimeout > 0) {
        strm.anaExp = tickAdd(txn.tIdle, this.opts.keepAliveTimeout);
      }
      return false;
    }
    if (txn.tStart < 0) {
      txn.tStart = now;
      if (txn.count > 0) strm.anaExp = tickAdd(now, this.opts.httpRequestTimeout);
    }
    if (buf.head + buf.in > buf.size) buf.realign();
    const lim: H1Limits = {
      maxHead: this.opts.bufsize - this.opts.maxRewrite,
      maxHdrs: this.opts.maxHdrs,
      maxBody: this.opts.maxBody,
    };
    const msg = txn.req;
    const r = h1ParseHead(msg, buf.area, buf.head, buf.in, lim);
    if (r === 0) {
      if (req.flags & CF_SHUTR) {
        // The client left in the middle of its request.
        txn.setBadReq();
        strm.setTerm(SF_ERR_CLICL, SF_FINST_R);
        txn.status = 400;
        this.#finishClient(strm, txn, now);
        return true;
      }
      if (strm.anaExp <= now || (req.flags & CF_READ_TIMEOUT)) {
        txn.setBadReq();
        strm.setTerm(SF_ERR_CLITO, SF_FINST_R);
        this.#reply(strm, txn, 408, SF_ERR_CLITO, now);
        return true;
      }
      return false;
    }
    if (r < 0) {
      txn.setBadReq();
      strm.setTerm(SF_ERR_PRXCOND, SF_FINST_R);
      this.#reply(strm, txn, msg.errCode, SF_ERR_PRXCOND, now);
      return true;
    }
    return this.#gotRequest(strm, txn, now);
  }

  #gotRequest(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const req = strm.req, buf = req.buf, msg = txn.req;
    const o = this.opts;
    txn.count++;
    txn.tHead = now;
    strm.flags &= ~SF_NO_REUSE;
    if (txn.count === 1) strm.flags |= SF_FIRST_REQ;
    else strm.flags &= ~SF_FIRST_REQ;
    strm.anaExp = TICK_ETERNITY;
    req.flags &= ~CF_READ_TIMEOUT;
    if (o.log) txn.setReqLine(buf.area, buf.head, msg.startLineEnd - 1);
    const f = msg.flags;
    if (o.monitorUri !== null && monitorUriMatch(msg, buf.area, buf.head, o.monitorUri)) {
      // HAProxy's monitor-uri: answered before any rule, never forwarded
      // nor logged (it is counted).
      txn.flags |= TX_NOLOG;
      if (msg.meth === HTTP_METH_HEAD) txn.flags |= TX_HEAD;
      strm.setTerm(SF_ERR_LOCAL, SF_FINST_R);
      this.#reply(strm, txn, 200, SF_ERR_LOCAL, now);
      return true;
    }
    if (msg.meth === HTTP_METH_HEAD) txn.flags |= TX_HEAD;
    if (!(f & H1_MF_VER_11)) txn.flags |= TX_CLI_10;
    const kal = (f & H1_MF_VER_11) ? !(f & H1_MF_CONN_CLOSE) : (f & H1_MF_CONN_KAL) !== 0;
    if (kal) txn.flags |= TX_CLI_KAL;
    const upgrade = (f & H1_MF_VER_11) !== 0 && (f & H1_MF_UPGRADE) !== 0 &&
      (f & H1_MF_CONN_UPG) !== 0;
    if (upgrade) txn.flags |= TX_UPGRADE_REQ;
    // Forwarding headers. The client's X-Forwarded-Proto and Forwarded are
    // replaced rather than trusted.
    const add: [string, string][] = [];
    const drop: Uint8Array[] = [];
    const ip = strm.cliAddr;
    if (o.forwardedProto) {
      add.push(["X-Forwarded-Proto", strm.cliTls ? "https" : "http"]);
      drop.push(X_FORWARDED_PROTO);
    }
    if (o.forwarded && strm.cliPort !== 0) {
      const node = ip.includes(":") ? `"[${ip}]"` : ip;
      add.push(["Forwarded", `for=${node};proto=${strm.cliTls ? "https" : "http"}`]);
      drop.push(H_FORWARDED);
    }
    const rw: RewriteOptions = {
      upgrade,
      // Ask HTTP/1.0 servers to keep the connection (HTTP/1.1 does by default).
      connection: (f & H1_MF_VER_11) ? null : "keep-alive",
      drop,
      add,
    };
    txn.rw = rw;
    const answer = this.#hooks.requestRules(strm, msg, buf.area, buf.head, rw);
    if (answer !== null) return this.#afterHook(strm, txn, { kind: "reply", ...answer }, now);
    const hooked = this.#hooks.requestHook(strm, msg, buf.area, buf.head, rw);
    if (hooked === null) return this.#forwardRequest(strm, txn, now);
    if (!(hooked instanceof Promise)) return this.#afterHook(strm, txn, hooked, now);
    // Asynchronous hook: the head waits in the buffer, untouched, until it
    // settles; then the stream is woken and goes on from #afterHook.
    txn.rq = RQ_HOOK;
    // Bounded like a request head: a hook that never settles gets 500.
    strm.anaExp = tickAdd(now, this.opts.httpRequestTimeout || strm.fe.clientTimeout);
    const settle = (r: HookOutcome) => {
      if (strm.txn !== txn || txn.rq !== RQ_HOOK) return;
      txn.hookResult = r;
      strm.wake();
    };
    hooked.then(settle, () => settle({ kind: "error", message: "hook failed" }));
    return false;
  }

  /** A hook or rule decided: answer, fail, or forward the request. */
  #afterHook(strm: HttpStream, txn: HttpTxn, r: HookOutcome, now: number): boolean {
    txn.hookResult = undefined;
    if (r.kind === "reply" && r.tarpit !== undefined) {
      // http-request tarpit: hold the client, then answer (HAProxy's
      // http_process_tarpit); the server is never contacted.
      txn.rq = RQ_TARPIT;
      txn.tarpit = r;
      strm.anaExp = now + r.tarpit;
      return true;
    }
    if (r.kind === "reply") {
      // Denied (PR) or answered locally (LR), like HAProxy's http-request
      // deny / return / redirect.
      const cause = r.deny ? SF_ERR_PRXCOND : SF_ERR_LOCAL;
      strm.setTerm(cause, SF_FINST_R);
      this.#reply(strm, txn, r.status, cause, now, r.bytes);
      return true;
    }
    if (r.kind === "error") {
      // A hook that threw fails this request only.
      strm.setTerm(SF_ERR_INTERNAL, SF_FINST_R);
      this.#reply(strm, txn, 500, SF_ERR_INTERNAL, now);
      return true;
    }
    return this.#forwardRequest(strm, txn, now);
  }

  /**
   * The request goes on: backend's view (persistence, key), the connection
   * mode and forwarding header of the frontend and backend, rewrite,
   * forward, body (buffered first with `option http-buffer-request`).
   */
  #forwardRequest(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    if (txn.cache?.hit != null) return this.#serveCached(strm, txn, now);
    const req = strm.req, buf = req.buf, msg = txn.req;
    const rw = txn.rw!;
    txn.rw = null;
    const f = msg.flags;
    const o = this.opts, be = this.#hooks.backendHttp(strm);
    if (this.#hooks.requestHead(strm, msg, buf.area, buf.head, rw)) txn.flags |= TX_PERSIST_VALID;
    this.#forwardFor(strm, msg, buf.area, buf.head, rw, be);
    if (o.compression || be?.compression) {
      txn.comp = compRequest(
        o.compression ?? null,
        be?.compression ?? null,
        msg,
        buf.area,
        buf.head,
        rw,
      );
    }
    // The stronger connection mode of the frontend and the backend wins
    // (HAProxy's matrix: keep-alive < server-close < close).
    const mode = be !== null && be.connMode > o.connMode ? be.connMode : o.connMode;
    if (mode !== HTTP_KAL) {
      txn.flags |= TX_SRV_CLOSE;
      if (!rw.upgrade) rw.connection = "close";
      if (mode === HTTP_CLO) txn.flags &= ~TX_CLI_KAL;
    }
    const kind = (f & H1_MF_CHNK) ? BODY_CHUNK_SIZE : (f & H1_MF_CLEN) ? BODY_CLEN : BODY_NONE;
    const buffer = kind !== BODY_NONE && (o.bufferRequest || (be?.bufferRequest ?? false)) &&
      (kind !== BODY_CLEN || msg.bodyLen > 0);
    if (buffer && (f & H1_MF_EXPECT_100) && (f & H1_MF_VER_11)) {
      // The body is wanted before any server is contacted: answer the
      // client's Expect ourselves, as HAProxy does, and do not pass it on.
      const res = strm.res;
      res.buf.putIn(CONTINUE_100);
      chnForward(res, CONTINUE_100.length);
      rw.drop!.push(H_EXPECT);
    }
    const head = h1Rewrite(msg, buf.area, buf.head, rw);
    buf.reserve = 0;
    if (!buf.replaceInHead(msg.headLen, head, head.length)) {
      strm.setTerm(SF_ERR_INTERNAL, SF_FINST_R);
      this.#reply(strm, txn, 500, SF_ERR_INTERNAL, now);
      return true;
    }
    chnForward(req, head.length);
    txn.reqBody.start(req, kind, msg.bodyLen);
    txn.rq = txn.reqBody.st === BODY_DONE ? RQ_DONE : RQ_BODY;
    txn.rs = RS_WAIT;
    if (buffer && txn.rq === RQ_BODY) {
      // Bounded like a request head (HAProxy's `timeout http-request`).
      txn.flags |= TX_WAIT_BODY;
      strm.anaExp = tickAdd(now, o.httpRequestTimeout || strm.fe.clientTimeout);
      return true;
    }
    const scb = strm.scb;
    if (scb.state === SC_ST_INI) scb.state = SC_ST_REQ;
    return true;
  }

  /**
   * `option forwardfor` of the frontend and of the backend: the header is
   * added when either asks, named as the backend says when it asks;
   * `if-none` only when both that ask say so; no header for a client in
   * either's `except` network (HAProxy's http_process_request()).
   */
  #forwardFor(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
    be: HttpBackendOptions | null,
  ): void {
    const ff = this.opts.forwardFor, bf = be?.forwardFor ?? null;
    if ((ff === null && bf === null) || strm.cliPort === 0) return;
    const ip = strm.cliAddr;
    if (ff?.except?.(ip) || bf?.except?.(ip)) return;
    const hdr = bf ?? ff!;
    if (
      (ff === null || ff.ifNone) && (bf === null || bf.ifNone) && hasHeader(msg, a, base, rw, hdr)
    ) {
      return;
    }
    // First of the added headers, where sluice always put it.
    rw.add!.unshift([hdr.header, ip]);
  }

  /** With `option http-buffer-request`: the body is in, or the buffer is full: go connect. */
  #bodyBuffered(strm: HttpStream, txn: HttpTxn): void {
    txn.flags &= ~TX_WAIT_BODY;
    strm.anaExp = TICK_ETERNITY;
    const scb = strm.scb;
    if (scb.state === SC_ST_INI) scb.state = SC_ST_REQ;
  }

  /**
   * `option abortonclose`: a client that closed while its request waits in
   * a queue or for its connection is dropped (CQ, CC), as HAProxy does;
   * without it the request is served (the client may only have shut its
   * sending side).
   */
  #abortOnClose(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const st = strm.scb.state;
    if (!(strm.req.flags & CF_SHUTR) || st < SC_ST_REQ || st >= SC_ST_EST) return false;
    if (!(this.#hooks.backendHttp(strm)?.abortOnClose ?? false)) return false;
    strm.setTerm(SF_ERR_CLICL);
    this.#abort(strm, txn, now);
    return true;
  }

  /** `http-request tarpit`: drops what the client sends until the delay ends, then answers. */
  #tarpit(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const req = strm.req;
    if (req.buf.in > 0) dropIn(req.buf, req.buf.in);
    req.flags &= ~CF_READ_TIMEOUT;
    if (strm.scf.flags & SC_FL_ERR) {
      strm.setTerm(SF_ERR_CLICL, SF_FINST_T);
      this.#finishClient(strm, txn, now);
      return true;
    }
    if (strm.anaExp > now) return false;
    const r = txn.tarpit!;
    txn.tarpit = null;
    strm.setTerm(SF_ERR_PRXCOND, SF_FINST_T);
    this.#reply(strm, txn, r.status, SF_ERR_PRXCOND, now, r.bytes);
    return true;
  }

  #requestBody(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const req = strm.req;
    const r = bodyForward(req, txn.reqBody, this.opts.maxBody, 400);
    if (txn.flags & TX_WAIT_BODY) {
      const buf = req.buf;
      if (r !== 0 || (req.flags & CF_SHUTR) || buf.data >= buf.size - this.opts.maxRewrite) {
        // Complete, full (HAProxy then goes on with what it has), or the
        // client closed: the server side starts; errors are handled below.
        this.#bodyBuffered(strm, txn);
      } else if (strm.anaExp <= now) {
        strm.setTerm(SF_ERR_CLITO, SF_FINST_D);
        this.#reply(strm, txn, 408, SF_ERR_CLITO, now);
        return true;
      }
    }
    if (r === 1) {
      txn.rq = RQ_DONE;
      return true;
    }
    if (r < 0) {
      strm.setTerm(SF_ERR_PRXCOND, SF_FINST_D);
      if (txn.rs === RS_WAIT && strm.res.buf.out === 0) {
        this.#reply(strm, txn, txn.reqBody.errCode, SF_ERR_PRXCOND, now);
      } else this.#abort(strm, txn, now);
      return true;
    }
    if ((req.flags & CF_SHUTR) && req.buf.in === 0) {
      // The client closed before its body was complete.
      strm.setTerm(SF_ERR_CLICL, SF_FINST_D);
      this.#abort(strm, txn, now);
      return true;
    }
    return false;
  }

  // -- response side -------------------------------------------------------

  #waitResponse(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const scb = strm.scb;
    if (scb.state !== SC_ST_EST) return false;
    const res = strm.res, buf = res.buf;
    if (buf.out > 0 || buf.sndPending > 0) return false; // an interim response is leaving
    buf.reserve = this.opts.maxRewrite;
    const silent = buf.in === 0 && ((scb.flags & SC_FL_ERR) || (res.flags & CF_SHUTR));
    if (silent && txn.retryHead !== null) {
      // The reused idle connection was closed by the server as we used it:
      // send the request again on a fresh connection.
      this.#retry(strm, txn, now);
      return true;
    }
    if (scb.flags & SC_FL_ERR) {
      strm.setTerm(SF_ERR_SRVCL, SF_FINST_H);
      this.#badResponse(strm, txn, 502, SF_ERR_SRVCL, now);
      return true;
    }
    if (res.flags & CF_READ_TIMEOUT) {
      strm.setTerm(SF_ERR_SRVTO, SF_FINST_H);
      this.#badResponse(strm, txn, 504, SF_ERR_SRVTO, now);
      return true;
    }
    if (buf.in === 0) {
      if (res.flags & CF_SHUTR) {
        strm.setTerm(SF_ERR_SRVCL, SF_FINST_H);
        this.#badResponse(strm, txn, 502, SF_ERR_SRVCL, now);
        return true;
      }
      return false;
    }
    if (buf.head + buf.in > buf.size) buf.realign();
    const msg = txn.res;
    const lim: H1Limits = {
      maxHead: this.opts.bufsize - this.opts.maxRewrite,
      maxHdrs: this.opts.maxHdrs,
      maxBody: 0,
    };
    const r = h1ParseHead(msg, buf.area, buf.head, buf.in, lim);
    if (r === 0) {
      if (res.flags & CF_SHUTR) {
        strm.setTerm(SF_ERR_SRVCL, SF_FINST_H);
        this.#badResponse(strm, txn, 502, SF_ERR_SRVCL, now);
        return true;
      }
      return false;
    }
    if (r < 0) {
      strm.setTerm(SF_ERR_PRXCOND, SF_FINST_H);
      this.#badResponse(strm, txn, 502, SF_ERR_PRXCOND, now);
      return true;
    }
    return this.#gotResponse(strm, txn, now);
  }

  #gotResponse(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const res = strm.res, buf = res.buf, msg = txn.res;
    const status = msg.status;
    const f = msg.flags;
    if (status < 200 && status !== 101) {
      // Interim response (100 Continue, 103 Early Hints): forward it as is
      // and wait for the final one.
      chnForward(res, msg.headLen);
      msg.reset();
      return true;
    }
    const upgrade = status === 101;
    if (upgrade && !(txn.flags & TX_UPGRADE_REQ)) {
      strm.setTerm(SF_ERR_PRXCOND, SF_FINST_H);
      this.#badResponse(strm, txn, 502, SF_ERR_PRXCOND, now);
      return true;
    }
    txn.status = status;
    txn.tResHead = now;
    res.flags &= ~CF_READ_TIMEOUT;
    let kind: number;
    if (upgrade || (txn.flags & TX_HEAD) || status === 204 || status === 304) kind = BODY_NONE;
    else if (f & H1_MF_CHNK) kind = BODY_CHUNK_SIZE;
    else if (f & H1_MF_CLEN) kind = BODY_CLEN;
    else kind = BODY_CLOSE;
    const srvKal = kind !== BODY_CLOSE && !(txn.flags & TX_SRV_CLOSE) &&
      ((f & H1_MF_VER_11) ? !(f & H1_MF_CONN_CLOSE) : (f & H1_MF_CONN_KAL) !== 0);
    if (srvKal) txn.flags |= TX_SRV_KAL;
    if (kind === BODY_CLOSE) txn.flags |= TX_RES_CLOSE;
    // The client keeps its connection unless it or the framing says no.
    if ((txn.flags & TX_RES_CLOSE) || (strm.req.flags & CF_SHUTR) || strm.fe.stopping) {
      txn.flags &= ~TX_CLI_KAL;
    }
    const cliKal = (txn.flags & TX_CLI_KAL) !== 0;
    // One response head at a time per analyser: reuse the rewrite options
    // and the hook's view instead of allocating them per response (a hook
    // may hold them across an await: it gets its own).
    const hooked = this.#hooks.wantsResponseHook(strm);
    const rw: RewriteOptions = hooked
      ? { upgrade: false, connection: null, drop: [], add: [] }
      : this.#resRw;
    rw.upgrade = upgrade;
    rw.connection = upgrade
      ? null
      : !cliKal
      ? "close"
      : (txn.flags & TX_CLI_10)
      ? "keep-alive"
      : null;
    rw.drop!.length = 0;
    rw.add!.length = 0;
    const view = this.#resView;
    view.msg = msg;
    view.a = buf.area;
    view.base = buf.head;
    view.rw = rw;
    view.persist = (txn.flags & TX_PERSIST_VALID) !== 0;
    this.#hooks.responseHead(strm, status, view, now);
    if (txn.comp !== null && !upgrade) this.#compHead(txn, kind, buf.area, buf.head, rw);
    const answer = this.#hooks.responseRules(strm, view);
    if (answer !== null) {
      // Denied (PH) or replaced (LH): the server's response is dropped with
      // its connection, as HAProxy's http-response deny / return.
      const cause = answer.deny ? SF_ERR_PRXCOND : SF_ERR_LOCAL;
      strm.setTerm(cause, SF_FINST_H);
      this.#reply(strm, txn, answer.status, cause, now, answer.bytes);
      return true;
    }
    txn.resKind = kind;
    txn.resUpgrade = upgrade;
    if (!hooked) return this.#forwardResponse(strm, txn, rw, now);
    txn.rw = rw;
    const r = this.#hooks.responseHook(strm, view);
    view.rw = this.#resRw;
    if (!(r instanceof Promise)) return this.#afterResponseHook(strm, txn, r, now);
    txn.rs = RS_HOOK;
    strm.anaExp = tickAdd(now, strm.be.serverTimeout || this.opts.httpRequestTimeout);
    const settle = (x: HookOutcome) => {
      if (strm.txn !== txn || txn.rs !== RS_HOOK) return;
      txn.hookResult = x;
      strm.wake();
    };
    r.then(settle, () => settle({ kind: "error", message: "hook failed" }));
    return false;
  }

  /** The onResponse hook settled: forward the head with its edits, or answer 500. */
  #afterResponseHook(strm: HttpStream, txn: HttpTxn, r: HookOutcome, now: number): boolean {
    txn.hookResult = undefined;
    strm.anaExp = TICK_ETERNITY;
    const rw = txn.rw!;
    txn.rw = null;
    if (r.kind !== "continue") {
      strm.setTerm(SF_ERR_INTERNAL, SF_FINST_H);
      this.#reply(strm, txn, 500, SF_ERR_INTERNAL, now);
      return true;
    }
    return this.#forwardResponse(strm, txn, rw, now);
  }

  /** Rewrites and forwards the response head, then its body by its framing. */
  #forwardResponse(strm: HttpStream, txn: HttpTxn, rw: RewriteOptions, now: number): boolean {
    const res = strm.res, buf = res.buf, msg = txn.res;
    const kind = txn.resKind, upgrade = txn.resUpgrade;
    const head = h1Rewrite(msg, buf.area, buf.head, rw);
    buf.reserve = 0;
    if (!buf.replaceInHead(msg.headLen, head, head.length)) {
      strm.setTerm(SF_ERR_INTERNAL, SF_FINST_H);
      this.#reply(strm, txn, 500, SF_ERR_INTERNAL, now);
      return true;
    }
    chnForward(res, head.length);
    if (upgrade) {
      this.#tunnel(strm, txn);
      return true;
    }
    if (txn.comp?.body) {
      // The body goes through the compressor instead of being forwarded.
      // The reserve is that of a normal buffer, also when the stream gives
      // the channel a large one (it stays safe when the area changes).
      res.buf.reserve = compReserve(this.opts.bufsize);
      txn.rs = RS_BODY;
      return true;
    }
    cacheTapStart(txn.cache, res);
    txn.resBody.start(res, kind, msg.bodyLen);
    txn.rs = txn.resBody.st === BODY_DONE ? RS_DONE : RS_BODY;
    cacheTap(txn.cache, res, txn.rs === RS_DONE, now);
    return true;
  }

  /** `compression`: the response is compressed when HAProxy's conditions hold (comp_txn.ts). */
  #compHead(txn: HttpTxn, kind: number, a: Uint8Array, base: number, rw: RewriteOptions): void {
    const msg = txn.res, f = msg.flags;
    const chunked = kind === BODY_CHUNK_SIZE;
    const facts = {
      http11: (f & H1_MF_VER_11) !== 0 && (txn.req.flags & H1_MF_VER_11) !== 0,
      head: (txn.flags & TX_HEAD) !== 0,
      status: msg.status,
      body: chunked || (kind === BODY_CLEN && msg.bodyLen > 0),
    };
    compResponse(txn.comp!, facts, chunked, msg.bodyLen, msg, a, base, rw);
  }

  /** The compressed body: what arrived goes out compressed; the end of the input ends it. */
  #compBody(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const res = strm.res, body = txn.comp!.body!;
    const r = body.process(res);
    if (r === 1) {
      // The next response's head may arrive while this one's output is
      // still leaving: keep room for its rewrite, which the compression
      // headers make longer.
      res.buf.reserve = this.opts.maxRewrite;
      txn.rs = RS_DONE;
      return true;
    }
    if (r < 0 && res.buf.sndPending === 0 && res.fwd - txn.resFwd0 === res.buf.out) {
      // Not one byte has left yet: a clean 502, as for a forwarded body.
      strm.setTerm(SF_ERR_PRXCOND, SF_FINST_D);
      chnErase(res);
      this.#badResponse(strm, txn, 502, SF_ERR_PRXCOND, now);
      return true;
    }
    if (r < 0 || (r === 0 && (res.flags & CF_SHUTR)) || (strm.scb.flags & SC_FL_ERR)) {
      // A malformed body, or the server left before its end: the client
      // cannot get the rest.
      strm.setTerm(r < 0 ? SF_ERR_PRXCOND : SF_ERR_SRVCL, SF_FINST_D);
      this.#abort(strm, txn, now);
      return true;
    }
    return false;
  }

  #responseBody(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    if (txn.comp?.body) return this.#compBody(strm, txn, now);
    const res = strm.res;
    const r = bodyForward(res, txn.resBody, 0, 502);
    cacheTap(txn.cache, res, r === 1, now);
    if (r === 1) {
      txn.rs = RS_DONE;
      return true;
    }
    if (r < 0 && res.buf.sndPending === 0 && res.fwd - txn.resFwd0 === res.buf.out) {
      // Invalid body and not one byte of the response has left yet: the
      // client can still get a clean 502 instead of a cut response.
      strm.setTerm(SF_ERR_PRXCOND, SF_FINST_D);
      chnErase(res);
      this.#badResponse(strm, txn, 502, SF_ERR_PRXCOND, now);
      return true;
    }
    if (r < 0) {
      strm.setTerm(SF_ERR_SRVCL, SF_FINST_D);
      this.#abort(strm, txn, now);
      return true;
    }
    if ((res.flags & CF_SHUTR) && res.buf.in === 0) {
      if (txn.resBody.st === BODY_CLOSE) {
        // The server's close ends this response.
        txn.resBody.st = BODY_DONE;
        txn.rs = RS_DONE;
        return true;
      }
      // Closed in the middle of the body: the client cannot get the rest.
      strm.setTerm(SF_ERR_SRVCL, SF_FINST_D);
      this.#abort(strm, txn, now);
      return true;
    }
    if (strm.scb.flags & SC_FL_ERR) {
      strm.setTerm(SF_ERR_SRVCL, SF_FINST_D);
      this.#abort(strm, txn, now);
      return true;
    }
    return false;
  }

  // -- transitions ---------------------------------------------------------

  /** Both messages went through: log, release the server side, next request or close. */
  #endTxn(strm: HttpStream, txn: HttpTxn, now: number): void {
    const req = strm.req, res = strm.res;
    if (req.buf.out > 0 || req.buf.sndPending > 0) return; // the request is still leaving
    const reusable = (txn.flags & TX_SRV_KAL) !== 0 && strm.scb.state === SC_ST_EST &&
      !(strm.scb.flags & SC_FL_ERR) && req.buf.out === 0 && req.buf.sndPending === 0 &&
      res.buf.in === 0 && !(res.flags & CF_SHUTR);
    this.#log(strm, txn, now);
    this.#hooks.serverDone(strm, reusable, now);
    if (txn.flags & TX_CLI_KAL) {
      txn.next(now, req.total, res.fwd);
      req.buf.reserve = res.buf.reserve = this.opts.maxRewrite;
      strm.anaExp = tickAdd(now, this.opts.keepAliveTimeout || this.opts.httpRequestTimeout);
    } else {
      txn.rq = RQ_CLOSING;
      txn.rs = RS_IDLE;
      chnShutwNow(res);
    }
  }

  /** Sends the kept request again on a new server connection (see `reused`). */
  #retry(strm: HttpStream, txn: HttpTxn, now: number): void {
    const head = txn.retryHead!;
    txn.retryHead = null;
    txn.flags |= TX_RETRIED;
    // The retry goes back to the same server first (persistence, hashing),
    // like HAProxy's: keep what the request chose.
    const key = strm.lbKey, target = strm.target, stick = strm.stickTo;
    this.#hooks.serverDone(strm, false, now, true);
    strm.lbKey = key;
    strm.stickTo = stick ?? target;
    const req = strm.req, buf = req.buf;
    // Whatever of the old send is left goes; pipelined input stays behind.
    buf.sndCommit(buf.out);
    if (!buf.replaceInHead(0, head, head.length)) {
      strm.setTerm(SF_ERR_INTERNAL, SF_FINST_H);
      this.#reply(strm, txn, 500, SF_ERR_INTERNAL, now);
      return;
    }
    chnForward(req, head.length);
    strm.flags |= SF_NO_REUSE;
    strm.scb.connRetries = 0;
    strm.scb.state = SC_ST_REQ;
  }

  /** Tunnel after 101: bytes flow both ways, half-closes propagate, tunnel timeout. */
  #tunnel(strm: HttpStream, txn: HttpTxn): void {
    const req = strm.req, res = strm.res;
    txn.rq = RQ_TUNNEL;
    txn.rs = RS_TUNNEL;
    chnForward(req, CHN_INFINITE_FORWARD);
    chnForward(res, CHN_INFINITE_FORWARD);
    req.flags |= CF_AUTO_CLOSE;
    res.flags |= CF_AUTO_CLOSE;
    req.buf.reserve = res.buf.reserve = 0;
    const t = strm.be.tunnelTimeout;
    if (t > 0) {
      req.rto =
        req.wto =
        res.rto =
        res.wto =
          t;
      req.rex =
        req.wex =
        res.rex =
        res.wex =
          TICK_ETERNITY;
    }
  }

  /**
   * Answers `status` with a generated response and closes: the server side
   * at once, the client after the response (reading and dropping what it
   * still sends, for a moment, so the response is not lost to a reset).
   */
  #reply(
    strm: HttpStream,
    txn: HttpTxn,
    status: number,
    cause: number,
    now: number,
    bytes: Uint8Array = this.opts.replies.get(status),
  ): void {
    const res = strm.res, req = strm.req;
    txn.status = status;
    if (cause >= 0 && strm.termCause === SF_ERR_NONE) strm.setTerm(cause);
    if (res.buf.out > 0 || res.buf.sndPending > 0) {
      // Part of a response already left: no room for an error, just close.
      this.#abort(strm, txn, now);
      return;
    }
    chnErase(res);
    res.toForward = 0;
    res.buf.reserve = 0;
    res.flags &= ~(CF_READ_TIMEOUT | CF_WRITE_TIMEOUT);
    txn.rs = RS_REPLY;
    txn.rq = RQ_DRAIN;
    req.flags &= ~CF_READ_TIMEOUT;
    req.toForward = 0;
    req.buf.reserve = 0;
    strm.anaExp = now + LINGER_MS;
    // A response to HEAD has no body (RFC 9110 §9.3.2); Content-Length stays.
    txn.replyRest = txn.flags & TX_HEAD ? headOf(bytes) : bytes;
    // Logged once all of it is in the buffer: at once for one that fits,
    // before the server side is reset (the line shows its retries and timers).
    this.#replyMore(strm, txn, now);
    this.#closeServer(strm, now);
  }

  /**
   * Puts what fits of the generated response into the client's buffer; a
   * response larger than the buffer (metrics) goes on as the client reads.
   * The client side is shut once all of it is in.
   */
  #replyMore(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const res = strm.res, rest = txn.replyRest!;
    if (res.flags & CF_SHUTW) {
      txn.replyRest = null; // the client is gone (end() logs)
      return false;
    }
    const n = res.buf.putIn(rest);
    chnForward(res, n);
    if (n < rest.length) {
      txn.replyRest = rest.subarray(n);
      return n > 0;
    }
    txn.replyRest = null;
    if (txn.cache?.serving) {
      // A cache hit ends like a forwarded response (keep-alive), logged as
      // HAProxy logs its cache applet (LR--); the termination state is
      // this transaction's only.
      this.#log(strm, txn, now);
      strm.termCause = SF_ERR_NONE;
      strm.termPhase = SF_FINST_NONE;
      txn.rs = RS_DONE;
      return true;
    }
    chnShutwNow(res);
    this.#log(strm, txn, now);
    return true;
  }

  /**
   * `http-request cache-use` found the response: it is sent from the cache
   * (HAProxy's cache applet) and the server side is never started; the
   * connection stays open as after a forwarded response.
   */
  #serveCached(strm: HttpStream, txn: HttpTxn, now: number): boolean {
    const req = strm.req, res = strm.res, c = txn.cache!;
    txn.rw = null;
    dropIn(req.buf, txn.req.headLen);
    req.buf.reserve = 0;
    const be = this.#hooks.backendHttp(strm);
    const mode = be !== null && be.connMode > this.opts.connMode ? be.connMode : this.opts.connMode;
    if (mode === HTTP_CLO || (req.flags & CF_SHUTR) || strm.fe.stopping) txn.flags &= ~TX_CLI_KAL;
    const connection = !(txn.flags & TX_CLI_KAL)
      ? "close"
      : (txn.flags & TX_CLI_10)
      ? "keep-alive"
      : null;
    txn.status = c.notModified ? 304 : 200;
    txn.tResHead = now;
    // The applet "connects" at once: HAProxy logs 0/0/0/0/0 timers.
    strm.tConnStart = strm.tConnEnd = now;
    strm.setTerm(SF_ERR_LOCAL, SF_FINST_R);
    txn.rq = RQ_DONE;
    res.buf.reserve = 0;
    const e = c.hit!;
    c.hit = null;
    c.serving = true;
    // The http-response rules see the stored head, as HAProxy's do a hit.
    const a = cacheHitHead(e, now, c.notModified), msg = txn.res;
    const lim = { maxHead: a.length, maxHdrs: this.opts.maxHdrs, maxBody: 0 };
    if (h1ParseHead(msg, a, 0, a.length, lim) <= 0) {
      c.serving = false;
      strm.setTerm(SF_ERR_INTERNAL, SF_FINST_R);
      this.#reply(strm, txn, 500, SF_ERR_INTERNAL, now);
      return true;
    }
    const rw = this.#resRw;
    rw.upgrade = false;
    rw.connection = connection;
    rw.drop!.length = rw.add!.length = 0;
    const view = this.#resView;
    view.msg = msg;
    view.a = a;
    view.base = 0;
    view.rw = rw;
    view.persist = false;
    const answer = this.#hooks.responseRules(strm, view);
    if (answer !== null) {
      c.serving = false;
      const cause = answer.deny ? SF_ERR_PRXCOND : SF_ERR_LOCAL;
      strm.termCause = SF_ERR_NONE;
      strm.setTerm(cause, SF_FINST_H);
      this.#reply(strm, txn, answer.status, cause, now, answer.bytes);
      return true;
    }
    const head = h1Rewrite(msg, a, 0, rw);
    const body = (txn.flags & TX_HEAD) || c.notModified ? 0 : e.body.length;
    const out = new Uint8Array(head.length + body);
    out.set(head);
    if (body > 0) out.set(e.body, head.length);
    txn.rs = RS_REPLY;
    txn.replyRest = out;
    this.#replyMore(strm, txn, now);
    return true;
  }

  /** No valid response from the server: tell passive health, answer 502/504. */
  #badResponse(strm: HttpStream, txn: HttpTxn, status: number, cause: number, now: number): void {
    this.#hooks.responseHead(strm, 0, null, now);
    this.#reply(strm, txn, status, cause, now);
  }

  /** Stops everything at once (errors after the response started). */
  #abort(strm: HttpStream, txn: HttpTxn, now: number): void {
    this.#log(strm, txn, now);
    strm.abort(strm.termCause === SF_ERR_NONE ? SF_ERR_INTERNAL : strm.termCause);
    // Over: a later pass must not see the erased channels as a finished
    // exchange (that would hand the server side back as if it had ended
    // well, losing the abort from the backend's counters).
    txn.rq = RQ_CLOSING;
    txn.rs = RS_IDLE;
  }

  /** After an error reply: drop client input until it closes or the linger ends. */
  #drain(strm: HttpStream, now: number): void {
    const req = strm.req, scf = strm.scf;
    if (req.buf.in > 0) dropIn(req.buf, req.buf.in);
    if ((req.flags & CF_SHUTR) || strm.anaExp <= now) {
      strm.anaExp = TICK_ETERNITY;
      if (strm.res.flags & CF_SHUTW) scClose(scf);
      else if (!(req.flags & CF_SHUTR)) scShutr(scf);
    }
    req.flags &= ~CF_READ_TIMEOUT;
  }

  /** After the last response: wait for it to leave, then close (the client may still talk). */
  #closing(strm: HttpStream, now: number): void {
    const req = strm.req;
    if (req.buf.in > 0) dropIn(req.buf, req.buf.in);
    if (strm.res.flags & CF_SHUTW) {
      if (strm.anaExp === TICK_ETERNITY) strm.anaExp = now + LINGER_MS;
      if ((req.flags & CF_SHUTR) || strm.anaExp <= now) scClose(strm.scf);
    }
    req.flags &= ~CF_READ_TIMEOUT;
  }

  /** The client closed between requests or the keep-alive timeout passed. */
  #closeQuietly(strm: HttpStream, txn: HttpTxn, _now: number): void {
    txn.flags |= TX_LOGGED;
    txn.rq = RQ_CLOSING;
    strm.anaExp = TICK_ETERNITY;
    scClose(strm.scf);
    if (strm.scb.state !== SC_ST_INI && strm.scb.state < SC_ST_CLO) scClose(strm.scb);
  }

  /** The client left mid-request: log and close both sides. */
  #finishClient(strm: HttpStream, txn: HttpTxn, now: number): void {
    this.#log(strm, txn, now);
    strm.abort(strm.termCause);
  }

  #closeServer(strm: HttpStream, now: number): void {
    const scb = strm.scb;
    if (scb.state !== SC_ST_INI) this.#hooks.serverDone(strm, false, now);
  }

  #log(strm: HttpStream, txn: HttpTxn, _now: number): void {
    if (txn.flags & TX_LOGGED) return;
    txn.flags |= TX_LOGGED;
    txn.termCause = strm.termCause;
    txn.termPhase = strm.termPhase;
    this.#hooks.txnEnd(strm, txn);
  }
}

/** The head of a complete generated response (up to its empty line). */
function headOf(bytes: Uint8Array): Uint8Array {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i] === 0x0a && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a) {
      return bytes.subarray(0, i + 1);
    }
  }
  return bytes;
}

/**
 * True when the request has header `ff.lname` and no rule removed it, or a
 * rule or hook added one (for `option forwardfor if-none`).
 */
function hasHeader(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  rw: RewriteOptions,
  ff: ForwardFor,
): boolean {
  const lname = ff.lname, name = ff.header.toLowerCase();
  if (rw.add!.some(([k]) => k.toLowerCase() === name)) return true;
  if (rw.drop!.some((d) => d.length === lname.length && d.every((c, i) => c === lname[i]))) {
    return false;
  }
  const h = msg.hdrs;
  for (let k = 0; k < msg.nHdrs * 4; k += 4) {
    if (eqNoCase(a, base + h[k], h[k + 1], lname)) return true;
  }
  return false;
}

/** Drops `n` input bytes at the start of the input (no output may be pending). */
function dropIn(buf: Channel["buf"], n: number): void {
  buf.in -= n;
  buf.head += n;
  if (buf.head >= buf.size) buf.head -= buf.size;
  if (buf.in === 0 && buf.out === 0) buf.head = 0;
}
