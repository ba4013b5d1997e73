/**
 * A frontend: listeners, the connection limit they share, and what happens to
 * an accepted connection (`tcp-request connection` rules, then a stream: a
 * TCP relay, to the default backend or, after `tcp-request content` rules,
 * to the one `use_backend` picks (tcp_inspect.ts), or HTTP transactions each routed by the
 * `http-request` rules, `use_backend` and the `onRequest` hooks) and to a
 * stream or HTTP transaction that ends (counters, latency, log line,
 * listener slot). `http-response` rules and `onResponse` hooks see each
 * response head; answering rules and services reply from here.
 *
 * @module
 */
import { frontendHit } from "../http/cache_txn.ts";
import type { Address } from "../core/addr_types.ts";
import type { SharedCount } from "../core/shared_count.ts";
import { Connection } from "../conn/connection.ts";
import { FFI_SOCK } from "../conn/ffi_sock.ts";
import { RAW_SOCK } from "../conn/raw_sock.ts";
import { RING_SOCK, RingAccepted } from "../conn/ring_sock.ts";
import { TLS_SOCK, tlsAcceptLayer } from "../conn/tls_sock.ts";
import { tlsFailLine, tlsInfoOf } from "../conn/tls_bind.ts";
import { CO_ER_TLS } from "../conn/conn_types.ts";
import { proxyAcceptLayer } from "../conn/proxy_sock.ts";
import {
  type AcceptedSock,
  ConnLimit,
  type IoMode,
  Listener,
  type ListenerTls,
} from "../listener/listener.ts";
import { Stream, type StreamEnv } from "../stream/stream.ts";
import type { StreamFrontend } from "../stream/stream_types.ts";
import {
  HttpAnalyser,
  type HttpBackendOptions,
  type HttpHooks,
  type HttpOptions,
} from "../http/http_ana.ts";
import {
  type HookOutcome,
  type HttpStream,
  type HttpTxn,
  RS_DONE,
  TX_NOLOG,
} from "../http/http_txn.ts";
import { bytesToStr } from "../http/h1_chars.ts";
import type { FrontendHooks } from "../backend/hook_types.ts";
import { type HookHost, runRequestHook, runResponseHook, safeText } from "./hooks.ts";
import type { LimitEvents } from "../core/limit_events.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import type { ResponseHeadView } from "../http/http_ana.ts";
import type { Reply } from "../http/http_reply.ts";
import { HttpMsg } from "../http/h1_types.ts";
import type { AclCtx } from "../rules/acl_types.ts";
import { buildReply } from "../rules/act_reply.ts";
import { useBackendPick, type UseBackendRt } from "./use_backend.ts";
import type { RuleAnswer, Service } from "../rules/http_act_types.ts";
import { type HttpRule, type RuleCond, runHttpRules } from "../rules/http_rules.ts";
import type { Backend } from "../backend/backend.ts";
import type { Server } from "../backend/server.ts";
import { Counters } from "../backend/counters.ts";
import { TcpInspect, type TcpInspectHost, type TcpRoutingRt } from "./tcp_inspect.ts";
import type { AclContent } from "../rules/acl_types.ts";
import { type LogHeads, logRequestHead, logRequestSamples, logResponseHead } from "./log_heads.ts";

/** Receives every ended stream of a frontend, to write its log line. */
export type StreamLogger = (strm: HttpStream, fe: Frontend) => void;

/** A compiled `tcp-request connection accept|reject [cond]` rule. */
export interface TcpConnRule {
  accept: boolean;
  cond: RuleCond<AclCtx> | null;
}

/** The server name the client asked for in its TLS handshake, or null. */
function sniOf(strm: HttpStream): string | null {
  const conn = strm.scf.conn;
  if (conn?.sock == null && conn?.app != null) {
    // A TLS worker did the handshake (tls-isolation): its facts have the name.
    return tlsInfoOf(conn.app)?.sni || null;
  }
  const sock = conn?.sock as { servername?: string | false } | null | undefined;
  return typeof sock?.servername === "string" && sock.servername !== "" ? sock.servername : null;
}

/** A hook outcome meaning "go on". */
const CONTINUE: HookOutcome = { kind: "continue" };

/** `f` on the outcome of `r`, at once or when it settles. */
function thenHook(
  r: HookOutcome | Promise<HookOutcome>,
  f: (o: HookOutcome) => HookOutcome | Promise<HookOutcome>,
): HookOutcome | Promise<HookOutcome> {
  return r instanceof Promise ? r.then(f) : f(r);
}

/** The message connection rules see: none (only `src` has a value). */
const EMPTY_MSG = new HttpMsg(1);

/** Compiled HTTP rules of a frontend. */
export interface FrontendRulesRt {
  readonly httpRequest: readonly HttpRule<AclCtx>[];
  /** Header actions, deny, return and redirect, with conditions on the response. */
  readonly httpResponse: readonly HttpRule<AclCtx>[];
  readonly useBackends: readonly UseBackendRt[];
}

/** Frontend settings. */
export interface FrontendOptions {
  /** `timeout client` in ms (0: none). */
  clientTimeout: number;
  /** Maximum concurrent connections, 0 for none. */
  maxconn: number;
  /** HTTP settings for an HTTP frontend, null for TCP. */
  http: HttpOptions | null;
  /** How plain TCP listeners move bytes (default "node"; see ffi_sock.ts). */
  io?: IoMode;
  /** With worker threads: the process-wide count of this frontend's connections (its maxconn holds across threads). */
  sharedConns?: SharedCount | null;
  /** With worker threads: the most of them at once (smax). */
  sharedPeak?: SharedCount | null;
  /** With worker threads: listeners bind with SO_REUSEPORT, one socket per thread. */
  reusePort?: boolean;
}

/** The largest response a hook's `respond()` may give (8 MiB). */
export const MAX_HOOK_REPLY = 8 << 20;

/** The answer to `use-service` for a service this process does not provide. */
const SERVICE_UNAVAILABLE = buildReply(503, [], "service not available\n");

/** A frontend at run time. */
export class Frontend implements StreamFrontend, HttpHooks, TcpInspectHost {
  readonly name: string;
  /** The HTTP analyser, null in TCP mode. */
  readonly http: HttpAnalyser | null;
  readonly backend: Backend;
  readonly clientTimeout: number;
  /** I/O mode of its plain TCP listeners. */
  readonly io: IoMode;
  /** The frontend's maxconn, shared by its listeners. */
  readonly limit: ConnLimit;
  readonly listeners: Listener[] = [];
  readonly counters: Counters = new Counters();
  /** Live streams, for graceful stop and `show sess`. */
  readonly streams: Set<HttpStream> = new Set();
  /** Log writer, or null for no access log. */
  logger: StreamLogger | null = null;
  /** What the log keeps of HTTP heads (captures, samples, unique id), or null. */
  logHeads: LogHeads | null = null;
  /** Numbers of `capture request header` and `capture response header` (the log's `{...}`). */
  logCaptures: [number, number] = [0, 0];
  /** Stopping gracefully: responses close their connection (HAProxy's soft-stop). */
  stopping = false;
  /** HTTP rules and routing, or null. */
  rules: FrontendRulesRt | null = null;
  /** `tcp-request connection` rules, or null. */
  connRules: readonly TcpConnRule[] | null = null;
  /** TCP mode: `tcp-request content` rules and `use_backend` routing, or null (straight to the backend). */
  tcp: TcpRoutingRt | null = null;
  /** TypeScript hooks, or null. */
  hooks: FrontendHooks | null = null;
  /** True when some backend this frontend can use has hooks. */
  backendHooks = false;
  /** Backends hooks may route to, by name (set by the instance). */
  backendsByName: ReadonlyMap<string, Backend> = new Map();
  /** What `http-request use-service NAME` answers with (set by the instance). */
  services: Partial<Record<Service, () => Uint8Array>> = {};
  /** Where limits reached are reported (rate-limited), or null. */
  limitEvents: LimitEvents | null = null;
  /** Where hook failures and other events are reported. */
  events: (line: string, level: "notice" | "warning" | "alert") => void = () => {};
  readonly #hookHost: HookHost;
  /** Rule evaluation context, reused (evaluation is synchronous). */
  readonly #ctx: AclCtx = {
    msg: new HttpMsg(1),
    a: new Uint8Array(0),
    base: 0,
    src: "",
    sni: null,
  };
  readonly #env: StreamEnv;
  readonly #processLimit: ConnLimit;
  readonly #reusePort: boolean;

  constructor(
    env: StreamEnv,
    name: string,
    backend: Backend,
    opts: FrontendOptions,
    processLimit: ConnLimit,
  ) {
    this.#env = env;
    this.name = name;
    this.backend = backend;
    this.#hookHost = {
      name,
      backend: (n) => this.backendsByName.get(n),
      // Answers larger than a buffer are streamed; this bound only
      // catches a runaway body.
      maxReply: MAX_HOOK_REPLY,
    };
    this.clientTimeout = opts.clientTimeout;
    this.io = opts.io ?? "node";
    this.limit = new ConnLimit(opts.maxconn, opts.sharedConns ?? null, opts.sharedPeak ?? null);
    this.#reusePort = opts.reusePort ?? false;
    this.#processLimit = processLimit;
    this.http = opts.http ? new HttpAnalyser(opts.http, this) : null;
  }

  /** Adds the bytes moved since the stream was last counted (each HTTP transaction, the end). */
  #countBytes(strm: HttpStream): void {
    const c = this.counters;
    c.bin += strm.req.total - strm.feCountedIn;
    c.bout += strm.res.fwd - strm.feCountedOut;
    strm.feCountedIn = strm.req.total;
    strm.feCountedOut = strm.res.fwd;
  }

  /** HTTP: a transaction ended; count and log it. */
  txnEnd(strm: HttpStream, txn: HttpTxn): void {
    this.#countBytes(strm);
    const c = this.counters;
    if (txn.tHead >= 0) {
      this.#recordLatency(strm, txn);
      c.reqTot++;
      c.reqRate.add(this.#env.sched.now);
    } else if (txn.status >= 400) c.ereq++;
    if (txn.status > 0) c.countStatus(txn.status);
    const be = strm.be as Backend;
    if ((txn.tResHead >= 0 || txn.status >= 500) && !frontendHit(txn.cache)) {
      be.counters.countStatus(txn.status);
      const srv = strm.target as Server | null;
      if (srv !== null) {
        srv.counters.countStatus(txn.status);
        srv.counters.reqTot++;
      }
      be.counters.reqTot++;
    }
    const comp = txn.comp?.body;
    if (comp) {
      const done = txn.rs === RS_DONE;
      c.countComp(comp.algo, comp.bytesIn, comp.bytesOut, done);
      be.counters.countComp(comp.algo, comp.bytesIn, comp.bytesOut, done);
    }
    if (!(txn.flags & TX_NOLOG)) this.logger?.(strm, this);
  }

  /** HTTP: the server side of a transaction is over. */
  serverDone(strm: HttpStream, reusable: boolean, now: number, retry = false): void {
    (strm.be as Backend).detach(strm, reusable, now, retry);
  }

  /** Records a request's timers (as the log computes them) in the frontend, backend and server. */
  #recordLatency(strm: HttpStream, txn: HttpTxn): void {
    const now = this.#env.sched.now;
    const start = txn.tStart >= 0 ? txn.tStart : txn.tIdle;
    const sent = Math.max(txn.tHead, strm.tConnEnd);
    const queue = strm.tQueue < 0 ? -1 : (strm.tDequeue < 0 ? now : strm.tDequeue) - strm.tQueue;
    const connect = strm.tConnEnd < 0 || strm.tConnStart < 0 ? -1 : strm.tConnEnd - strm.tConnStart;
    const response = txn.tResHead < 0 || strm.tConnEnd < 0 ? -1 : txn.tResHead - sent;
    const total = now - start;
    this.counters.lat.record(queue, connect, response, total);
    (strm.be as Backend).counters.lat.record(queue, connect, response, total);
    (strm.target as Server | null)?.counters.lat.record(queue, connect, response, total);
  }

  /** Records a TCP session's timers (queue, connect, total). */
  #recordTcpLatency(strm: HttpStream): void {
    const end = strm.tEnd;
    const queue = strm.tQueue < 0 ? -1 : (strm.tDequeue < 0 ? end : strm.tDequeue) - strm.tQueue;
    const connect = strm.tConnEnd < 0 || strm.tConnStart < 0 ? -1 : strm.tConnEnd - strm.tConnStart;
    const total = end - strm.tAccept;
    this.counters.lat.record(queue, connect, -1, total);
    (strm.be as Backend).counters.lat.record(queue, connect, -1, total);
    (strm.target as Server | null)?.counters.lat.record(queue, connect, -1, total);
  }

  /** `tcp-request connection accept|reject`: the first matching rule decides; none matching accepts. */
  #connAccepted(sock: AcceptedSock, li: Listener): boolean {
    const ctx = this.#ctx;
    const tcp = li.addr.kind === "tcp";
    ctx.msg = EMPTY_MSG;
    ctx.src = tcp ? sock.remoteAddress ?? "" : "";
    ctx.srcPort = tcp ? sock.remotePort ?? 0 : 0;
    ctx.dst = tcp ? sock.localAddress ?? "" : "";
    ctx.dstPort = tcp ? sock.localPort ?? 0 : 0;
    ctx.tls = li.certs !== null || li.tls?.isolated === true;
    ctx.tlsSock = null;
    ctx.sni = null;
    ctx.content = null;
    for (const r of this.connRules!) {
      if (r.cond === null || r.cond(ctx)) return r.accept;
    }
    return true;
  }

  /** The client connection's part of the rule context: addresses, ports, TLS. */
  #connCtx(strm: HttpStream): void {
    const ctx = this.#ctx;
    ctx.src = strm.cliAddr;
    ctx.srcPort = strm.cliPort;
    ctx.dst = strm.feAddr;
    ctx.dstPort = strm.fePort;
    ctx.tls = strm.cliTls;
    // A TLS worker's connection (tls-isolation) has its facts on its ring end.
    ctx.tlsSock = strm.cliTls ? (strm.scf.conn?.sock ?? strm.scf.conn?.app) : null;
  }

  /** The rule context for the head `msg` of `strm` (request or response); variables are the caller's. */
  #headCtx(strm: HttpStream, msg: HttpMsg, a: Uint8Array, base: number): AclCtx {
    const ctx = this.#ctx;
    ctx.msg = msg;
    ctx.a = a;
    ctx.base = base;
    this.#connCtx(strm);
    ctx.sni = strm.cliTls ? sniOf(strm) : null;
    ctx.cache = strm.txn;
    return ctx;
  }

  /** TCP: the rule context of a stream whose request bytes are `content`. */
  contentCtx(strm: HttpStream, content: AclContent): AclCtx {
    const ctx = this.#ctx;
    ctx.msg = EMPTY_MSG;
    this.#connCtx(strm);
    ctx.sni = strm.cliTls ? sniOf(strm) : null;
    ctx.vars = null;
    ctx.content = content;
    return ctx;
  }

  /** TCP: a `tcp-request content reject` rule closed the connection (HAProxy's denied_req). */
  denied(_strm: HttpStream): void {
    this.counters.dreq++;
  }

  /**
   * HTTP: `http-request` rules, then `use_backend` routing (the default
   * backend when none matches), then the chosen backend's `http-request`
   * rules, as HAProxy; what the log keeps of the head around them.
   */
  requestRules(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): Reply | null {
    const h = this.logHeads;
    if (h === null) return this.#requestRules(strm, msg, a, base, rw);
    const ctx = this.#headCtx(strm, msg, a, base);
    ctx.vars = null;
    logRequestHead(h, strm, ctx, rw);
    const answer = this.#requestRules(strm, msg, a, base, rw);
    ctx.msg = msg;
    ctx.a = a;
    ctx.base = base;
    ctx.vars = strm.txn!.vars;
    logRequestSamples(h, strm.txn!, ctx);
    ctx.vars = null;
    ctx.uniqueId = null;
    return answer;
  }

  #requestRules(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): Reply | null {
    const r = this.rules;
    if (r === null) {
      // A hook may have routed the previous request elsewhere.
      if (this.hooks !== null || this.backendHooks) strm.switchBackend(this.backend);
      return this.#backendRequestRules(strm, msg, a, base, rw);
    }
    const ctx = this.#headCtx(strm, msg, a, base);
    ctx.vars = null;
    if (this.logHeads === null) ctx.uniqueId = null;
    const v = runHttpRules(r.httpRequest, ctx, rw);
    // Response rules test the variables this request set.
    strm.txn!.vars = ctx.vars;
    if (v !== null) {
      const answer = this.#answer(v);
      if (answer.deny) this.counters.dreq++;
      return answer;
    }
    // Answered by the frontend's cache: no backend, as HAProxy's applet target.
    if (frontendHit(strm.txn!.cache)) return null;
    const be = useBackendPick(r.useBackends, ctx, {
      byName: this.backendsByName,
      dflt: this.backend,
    });
    strm.switchBackend(be);
    return this.#backendRequestRules(strm, msg, a, base, rw);
  }

  /** HTTP: the `http-request` rules of the backend the request is routed to, if any. */
  #backendRequestRules(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): Reply | null {
    const be = strm.be as Backend;
    const rules = be.rules?.httpRequest;
    if (rules === undefined || rules.length === 0) return null;
    const txn = strm.txn!;
    const ctx = this.#headCtx(strm, msg, a, base);
    ctx.vars = txn.vars;
    const v = runHttpRules(rules, ctx, rw);
    txn.vars = ctx.vars;
    ctx.vars = null;
    if (v === null) return null;
    const answer = this.#answer(v, be.timeouts.tarpit ?? be.timeouts.connect);
    if (answer.deny) {
      this.counters.dreq++;
      be.counters.dreq++;
    }
    return answer;
  }

  /**
   * HTTP: the `onRequest` hooks — the frontend's, then those of the backend
   * the request goes to — or null when none is configured.
   */
  requestHook(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): HookOutcome | Promise<HookOutcome> | null {
    const h = this.hooks;
    if (h === null && !this.backendHooks) return null;
    if (h?.onResponse !== undefined || this.backendHooks) {
      const target = bytesToStr(a, base + msg.uriPos, msg.uriLen);
      const q = target.indexOf("?");
      strm.txn!.hookReq = {
        method: bytesToStr(a, base + msg.methPos, msg.methLen),
        path: q < 0 ? target : target.slice(0, q),
      };
    }
    const run = (hook: NonNullable<FrontendHooks["onRequest"]>, who: string) =>
      runRequestHook(
        hook,
        this.#hookHost,
        strm,
        { msg, a, base, rw },
        (err) => this.events(`${who}: onRequest hook failed: ${safeText(err)}`, "warning"),
      );
    // The backend's hook runs once the frontend's has routed the request.
    const backendHook = (): HookOutcome | Promise<HookOutcome> => {
      const be = strm.be as Backend;
      const bh = be.hooks?.onRequest;
      return bh === undefined ? CONTINUE : run(bh, `backend ${be.name}`);
    };
    if (h?.onRequest === undefined) {
      const r = backendHook();
      return r === CONTINUE ? null : r;
    }
    return thenHook(
      run(h.onRequest, `frontend ${this.name}`),
      (o) => o.kind === "continue" ? backendHook() : o,
    );
  }

  /** HTTP: true when an `onResponse` hook (frontend's or backend's) will see this stream's responses. */
  wantsResponseHook(strm: HttpStream): boolean {
    return this.hooks?.onResponse !== undefined ||
      (strm.be as Backend).hooks?.onResponse !== undefined;
  }

  /** HTTP: the `onResponse` hooks — the backend's, then the frontend's (may be async). */
  responseHook(strm: HttpStream, view: ResponseHeadView): HookOutcome | Promise<HookOutcome> {
    // The view is the analyser's, reused: keep what the hooks need now.
    const request = strm.txn!.hookReq ?? { method: "", path: "" };
    const res = { msg: view.msg, a: view.a, base: view.base, rw: view.rw, request };
    const be = strm.be as Backend;
    const run = (hook: NonNullable<FrontendHooks["onResponse"]>, who: string) =>
      runResponseHook(
        hook,
        strm,
        res,
        (err) => this.events(`${who}: onResponse hook failed: ${safeText(err)}`, "warning"),
      );
    const fh = this.hooks?.onResponse;
    const frontendHook = () => fh === undefined ? CONTINUE : run(fh, `frontend ${this.name}`);
    const bh = be.hooks?.onResponse;
    if (bh === undefined) return frontendHook();
    return thenHook(
      run(bh, `backend ${be.name}`),
      (o) => o.kind === "continue" ? frontendHook() : o,
    );
  }

  /** HTTP: the settings of the backend the request goes to (connection mode, forwardfor...). */
  backendHttp(strm: HttpStream): HttpBackendOptions | null {
    return (strm.be as Backend).http;
  }

  /** HTTP: an async onRequest hook did not settle within `timeout http-request`. */
  hookTimedOut(_strm: HttpStream, which: "onRequest" | "onResponse"): void {
    this.events(`frontend ${this.name}: ${which} hook timed out`, "warning");
  }

  /**
   * HTTP: `http-response` rules, the backend's then the frontend's, as
   * HAProxy (header changes, or an answer that replaces the response), then
   * what the log keeps of the head.
   */
  responseRules(
    strm: HttpStream,
    view: ResponseHeadView,
  ): Reply | null {
    const answer = this.#responseRules(strm, view);
    const h = this.logHeads;
    if (h !== null) {
      logResponseHead(h, strm.txn!, this.#responseCtx(strm, view));
      this.#ctx.vars = null;
      this.#ctx.uniqueId = null;
    }
    return answer;
  }

  /** The rule context of a response head: the head, the connection, the request's variables and id. */
  #responseCtx(strm: HttpStream, view: ResponseHeadView): AclCtx {
    const ctx = this.#ctx;
    ctx.msg = view.msg;
    ctx.a = view.a;
    ctx.base = view.base;
    this.#connCtx(strm);
    ctx.sni = strm.cliTls ? sniOf(strm) : null;
    ctx.vars = strm.txn!.vars;
    ctx.uniqueId = strm.txn!.uniqueId;
    ctx.cache = strm.txn;
    return ctx;
  }

  #responseRules(strm: HttpStream, view: ResponseHeadView): Reply | null {
    const fr = this.rules?.httpResponse ?? [];
    const br = frontendHit(strm.txn!.cache) ? [] : (strm.be as Backend).rules?.httpResponse ?? [];
    if (fr.length === 0 && br.length === 0) return null;
    const ctx = this.#responseCtx(strm, view);
    let x = br.length === 0 ? null : runHttpRules(br, ctx, view.rw);
    if (x === null && fr.length > 0) x = runHttpRules(fr, ctx, view.rw);
    ctx.vars = null;
    ctx.uniqueId = null;
    const v = x === null ? null : this.#answer(x);
    if (v?.deny) {
      this.counters.dresp++;
      (strm.be as Backend).counters.dresp++;
      const srv = strm.target as Server | null;
      if (srv !== null) srv.counters.dresp++;
    }
    return v;
  }

  /** The response an answering rule sends (a service makes it now). */
  #answer(a: RuleAnswer, tarpit = this.http?.opts.tarpitTimeout ?? 0): Reply {
    if (a.kind === "reply") return a;
    if (a.kind === "tarpit") return { status: a.status, bytes: a.bytes, deny: true, tarpit };
    const make = this.services[a.name];
    if (make === undefined) return { status: 503, bytes: SERVICE_UNAVAILABLE, deny: false };
    return { status: 200, bytes: make(), deny: false };
  }

  /** HTTP: a request head for the backend (load-balancing key, persistence). */
  requestHead(
    strm: HttpStream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): boolean {
    const be = strm.be as Backend;
    if (be.sniFetches.length > 0) {
      const ctx = this.#headCtx(strm, msg, a, base);
      ctx.vars = strm.txn?.vars ?? null;
      ctx.uniqueId = strm.txn?.uniqueId ?? null;
      be.requestSni(strm, ctx);
    }
    return be.requestHead(strm, msg, a, base, rw);
  }

  /** HTTP: a response head (or none) for the backend (passive health, persistence). */
  responseHead(
    strm: HttpStream,
    status: number,
    head: ResponseHeadView | null,
    now: number,
  ): void {
    (strm.be as Backend).responseHead(strm, status, head, now);
  }

  /** Creates (not binds) a listener of this frontend. */
  addListener(addr: Address, tls: ListenerTls | null, acceptProxy = false): Listener {
    // The kernel backlog follows maxconn, like HAProxy (the OS caps it).
    const backlog = Math.min(Math.max(this.limit.max || 1024, 128), 65535);
    const li = new Listener(addr, tls, [this.limit, this.#processLimit], {
      backlog,
      io: this.io,
      reusePort: this.#reusePort,
      onAccept: this.#onAccept,
      onLimit: (l) =>
        this.limitEvents?.report(
          `maxconn:${this.name}`,
          `frontend ${this.name}: maxconn reached (${this.limit.total} frontend, ${this.#processLimit.total} process connections); new connections wait in the backlog of ${l.boundAddress()}`,
        ),
    });
    li.acceptProxy = acceptProxy;
    this.listeners.push(li);
    return li;
  }

  streamEnd(strm: HttpStream): void {
    const front = strm.scf.conn;
    if (
      strm.txn !== null && strm.cliTls && front !== null && front.errCode === CO_ER_TLS &&
      strm.req.total === 0
    ) {
      // HTTP: a failed TLS handshake has no transaction to log; HAProxy logs
      // it as an embryonic session. (TCP streams log their CR line.)
      const n = this.listeners.indexOf(strm.feCtx as Listener) + 1;
      const who = `${strm.cliAddr}:${strm.cliPort} ${this.name}/${n}`;
      this.events(tlsFailLine(who, front.errMsg), "notice");
    }
    // HTTP streams log each transaction instead (txnEnd).
    if (strm.txn === null) {
      this.logger?.(strm, this);
      this.#recordTcpLatency(strm);
    }
    const c = this.counters;
    c.scur--;
    this.#countBytes(strm);
    this.streams.delete(strm);
    strm.feCtx!.release();
  }

  #onAccept = (sock: AcceptedSock, li: Listener): void => {
    const env = this.#env;
    if (
      this.connRules !== null &&
      !this.#connAccepted(sock, li)
    ) {
      // tcp-request connection reject: closed at once, before any byte is read.
      this.counters.deniedConn++;
      sock.destroy();
      li.release();
      return;
    }
    if (li.acceptHs === undefined) {
      // Made once per listener: PROXY header first, then TLS.
      const tlsHs = li.certs !== null ? tlsAcceptLayer(li.certs, li.tls?.bind) : null;
      li.acceptHs = li.acceptProxy ? proxyAcceptLayer(tlsHs) : tlsHs;
    }
    const isolated = sock instanceof RingAccepted;
    const xprt = li.ffi ? FFI_SOCK : isolated ? RING_SOCK : li.certs !== null ? TLS_SOCK : RAW_SOCK;
    const conn = new Connection(env.sched, xprt, isolated ? null : li.acceptHs);
    const strm = new Stream<HttpTxn>(env, this, this.backend, conn);
    strm.feCtx = li;
    if (li.addr.kind === "tcp") {
      strm.cliAddr = sock.remoteAddress ?? "-";
      strm.cliPort = sock.remotePort ?? 0;
      strm.feAddr = sock.localAddress ?? "";
      strm.fePort = sock.localPort ?? 0;
    } else strm.cliAddr = "unix";
    strm.cliTls = li.certs !== null || isolated;
    if (this.http !== null) {
      strm.ana = this.http;
      this.http.init(strm, strm.tAccept);
    } else if (this.tcp !== null) strm.ana = new TcpInspect(this, this.tcp);
    else strm.setTcpMode();
    conn.attachAccepted(sock);
    this.counters.open(strm.tAccept);
    this.streams.add(strm);
    strm.start();
  };
}
