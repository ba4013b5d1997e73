/**
 * A backend: servers, the algorithm choosing among them, the queues, and the
 * back side of every stream sent to it: assign a server (sticky one first,
 * then the algorithm over the active servers, or over the backup servers
 * when no active one is up), queue when every candidate is full, connect,
 * retry on failure (on the same server, or on another one when
 * redispatching), and give up with the right termination state.
 *
 * Server state changes (checks, passive observation, admin actions, weight
 * changes) go through `setOpState`, `setAdmin` and `setWeight`, which log
 * the transition, tell the algorithm, move queued streams, and drain the
 * queues into freed capacity at once.
 *
 * @module
 */
import { sharedAdd, type SharedCount, sharedGet, sharedRaise } from "../core/shared_count.ts";
import { TICK_ETERNITY, tickAdd } from "../core/time.ts";
import { Connection } from "../conn/connection.ts";
import { CO_ER_TLS, CO_FL_ERROR } from "../conn/conn_types.ts";
import { ppHeaderV1, ppHeaderV2 } from "../conn/proxy_proto.ts";
import { hashAddr } from "../lb/hash.ts";
import { createLb } from "../lb/lb_algos.ts";
import type { LbShared } from "../lb/lb_types.ts";
import type { LbAlgo, LbSpec } from "../lb/lb_types.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { TASK_WOKEN_MSG } from "../sched/task_types.ts";
import {
  SC_ET_CONN_ERR,
  SC_ET_CONN_NOSRV,
  SC_ET_CONN_RES,
  SC_ET_CONN_TO,
  SC_ET_QUEUE_TO,
  SC_ST_ASS,
  SC_ST_CER,
  SC_ST_CLO,
  SC_ST_CON,
  SC_ST_EST,
  SC_ST_QUE,
  SC_ST_REQ,
} from "../stconn/sc_types.ts";
import type { Stream } from "../stream/stream.ts";
import {
  SF_BE_ASSIGNED,
  SF_ERR_CLICL,
  SF_ERR_CLITO,
  SF_ERR_RESOURCE,
  SF_ERR_SRVCL,
  SF_ERR_SRVTO,
  SF_FIRST_REQ,
  SF_NO_REUSE,
  SF_REDISP,
  SF_SRV_REUSED,
  SF_SRV_SLOT,
  type StreamBackend,
} from "../stream/stream_types.ts";
import type { FrontendHooks } from "./hook_types.ts";
import { lc } from "../http/h1_chars.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import type { HttpBackendOptions, ResponseHeadView } from "../http/http_ana.ts";
import type { HttpMsg } from "../http/h1_types.ts";
import { Counters } from "./counters.ts";
import {
  CookiePersist,
  type CookieSpec,
  hdrKey,
  PERSIST_VALID,
  uriKey,
  urlParamKey,
} from "./persist.ts";
import { type IdleConns, idleNoteUse, type IdleOwner } from "./idle_conns.ts";
import { Pend, PendQueue } from "./queue.ts";
import { Ramp } from "./ramp.ts";
import { type Server, SRV_ADMIN_MAINT, SRV_ADMIN_NAMES } from "./server.ts";
import { StickTable } from "./stick_table.ts";
import type { LimitEvents } from "../core/limit_events.ts";
import type { AclCtx, AclFetch } from "../rules/acl_types.ts";
import { sampleText } from "../rules/act_template.ts";
import { tlsNameOf } from "../conn/tls_client.ts";
import type { HttpRule } from "../rules/http_rules.ts";

/** Backend timeouts in ms (0: none). */
export interface BackendTimeouts {
  connect: number;
  server: number;
  tunnel: number;
  queue: number;
  /** `timeout tarpit` for the backend's `http-request tarpit` rules (default: connect). */
  tarpit?: number;
}

/** Compiled HTTP rules of a backend. */
export interface BackendRulesRt {
  /** Run after the frontend's request rules and routing. */
  readonly httpRequest: readonly HttpRule<AclCtx>[];
  /** Run before the frontend's response rules. */
  readonly httpResponse: readonly HttpRule<AclCtx>[];
}

/** How a backend is set up. */
export interface BackendOptions {
  timeouts: BackendTimeouts;
  /** With worker threads: the balancing state shared with the other threads (active, backup groups). */
  lbShared?: { active: LbShared; backup: LbShared } | null;
  /** Connection attempts after the first one. */
  retries: number;
  /** Retry on another server: every Nth retry (N > 0), the last one (-1), never (0). */
  redispatch?: number;
  /** Load-balancing algorithm. Default roundrobin. */
  balance?: LbSpec;
  /** Source stickiness table, or none. */
  stickSource?: { size: number; expire: number } | null;
  /** Cookie persistence (HTTP), or none. */
  cookie?: CookieSpec | null;
  /** Which requests may take an idle server connection (HTTP). Default "safe". */
  httpReuse?: HttpReuse;
  /**
   * Backend load (streams) at which servers with `minconn` reach their
   * `maxconn` (HAProxy's `fullconn`). Default: 1 (they are at their maxconn).
   */
  fullconn?: number;
  /** Where server state changes are reported (one line each). */
  events?: (line: string, level: "notice" | "warning" | "alert") => void;
}

/** The PROXY header telling a server who the stream's client is (UNKNOWN/LOCAL for unix clients). */
function proxyHeaderOf(strm: Stream, version: 1 | 2): Uint8Array {
  const src = strm.feAddr === "" ? null : { addr: strm.cliAddr, port: strm.cliPort };
  const dst = strm.feAddr === "" ? null : { addr: strm.feAddr, port: strm.fePort };
  return version === 1 ? ppHeaderV1(src, dst) : ppHeaderV2(src, dst);
}

/** A server's state as the control thread publishes it to worker threads. */
export interface ServerStateView {
  /** Operational state (health checks). */
  up: boolean;
  /** SRV_ADMIN_* state. */
  admin: number;
  /** Weight set at run time (`uweight`). */
  weight: number;
  /** maxconn set at run time (`maxconnCfg`). */
  maxconn: number;
}

/**
 * HAProxy's `http-reuse`: which requests may go over an idle server
 * connection. "never": only the next requests of the client that opened it
 * (private); "safe": any but a client connection's first request, which
 * gets a new one so that a client can retry it; "aggressive": a first
 * request too, over a connection already reused once; "always": any.
 */
export type HttpReuse = "never" | "safe" | "aggressive" | "always";

/** A client's own idle server connection (`http-reuse never`). */
class PrivatePool implements IdleOwner {
  readonly idle: Connection[] = [];
  readonly idleSince: number[] = [];
  readonly poolMaxConn = 1;
  readonly poolPurgeDelay = -1;
  readonly poolLowConn = 0;
  readonly curLocal = 0;
  maxUsed = 0;
  estNeed = 0;
  purgeAt = TICK_ETERNITY;
  constructor(readonly srv: Server) {}
}

/** What assigning a server did. */
const ASSIGNED = 0, QUEUED = 1, NO_SERVER = 2, FULL = 3;

/** A backend at run time. */
export class Backend implements StreamBackend {
  readonly name: string;
  /** Every server, in configuration order. */
  readonly servers: readonly Server[];
  /** Active servers and the algorithm over them. */
  readonly active: readonly Server[];
  readonly lb: LbAlgo;
  /** Backup servers and the algorithm over them. */
  readonly backups: readonly Server[];
  readonly lbBackup: LbAlgo;
  readonly timeouts: BackendTimeouts;
  readonly retries: number;
  readonly redispatch: number;
  readonly counters: Counters = new Counters();
  /** Streams any server may take, waiting for a slot. */
  readonly queue: PendQueue = new PendQueue();
  /** Source stickiness, or null. */
  readonly stick: StickTable<Server> | null;
  /** Cookie persistence, or null. */
  readonly persist: CookiePersist | null;
  /** Where limits reached are reported (rate-limited), or null. */
  limitEvents: LimitEvents | null = null;
  /** With worker threads: a slot of `srv` was freed here while streams of other threads wait for it. */
  onSlotFree: ((be: Backend, srv: Server) => void) | null = null;
  /** With worker threads (the control thread): a server's state or weight changed, to publish. */
  onServerChange: ((be: Backend, srv: Server, reason?: string) => void) | null = null;
  /** With worker threads: a client address learnt for `srv` (source stickiness), for the other threads. */
  onStickLearn: ((be: Backend, key: string, srv: Server) => void) | null = null;
  /** With worker threads: every thread's streams in this backend (the load dynamic limits follow). */
  sharedScur: SharedCount | null = null;
  /** With worker threads: the most of them at once (smax). */
  sharedPeak: SharedCount | null = null;
  /** Log server state changes (worker threads leave it to the control thread). */
  logStates = true;
  /** Applying a state published by the control thread: it logged and counted it already. */
  #quiet = false;
  /** TypeScript hooks of this backend (HTTP), or null. */
  hooks: FrontendHooks | null = null;
  /** Idle server connections for reuse (HTTP), or null. */
  idle: IdleConns | null = null;
  /** The distinct `sni EXPR` of the servers (Server.sniIdx points here); set by the instance. */
  sniFetches: readonly AclFetch[] = [];
  /** HTTP settings applied to the requests routed here (null: the frontend's alone). */
  http: HttpBackendOptions | null = null;
  /** `http-request` / `http-response` rules of the backend, or null. */
  rules: BackendRulesRt | null = null;
  readonly httpReuse: HttpReuse;
  readonly fullconn: number;
  /** Servers whose limit follows the load (`minconn` below `maxconn`). */
  #dynamic: Server[] = [];
  /** `http-reuse never`: each client stream's own idle connection. */
  readonly #private = new Map<Stream, PrivatePool>();
  /** Active and backup servers currently able to take new traffic. */
  activeUp = 0;
  backupUp = 0;
  readonly #sched: Scheduler;
  readonly #ramp: Ramp;
  readonly #events: (line: string, level: "notice" | "warning" | "alert") => void;
  /** `uri` balancing, the lowercase header name for `hdr(name)` (and `use_domain_only`), the parameter for `url_param`. */
  readonly #keyUri: boolean;
  readonly #keyHdr: Uint8Array | null;
  readonly #keyDomain: boolean;
  readonly #keyParam: Uint8Array | null;

  constructor(
    sched: Scheduler,
    name: string,
    servers: readonly Server[],
    opts: BackendOptions,
  ) {
    this.#sched = sched;
    this.name = name;
    this.servers = servers;
    this.active = servers.filter((s) => !s.backup);
    this.backups = servers.filter((s) => s.backup);
    const spec = opts.balance ?? { algo: "roundrobin" };
    this.lb = createLb(spec, this.active, opts.lbShared?.active ?? null);
    this.lbBackup = createLb(spec, this.backups, opts.lbShared?.backup ?? null);
    this.timeouts = opts.timeouts;
    this.retries = opts.retries;
    this.redispatch = opts.redispatch ?? -1;
    this.httpReuse = opts.httpReuse ?? "safe";
    this.fullconn = opts.fullconn ?? 1;
    this.#dynamic = servers.filter((s) => s.dynamicLimit);
    this.#retune();
    this.stick = opts.stickSource
      ? new StickTable(opts.stickSource.size, opts.stickSource.expire)
      : null;
    this.persist = opts.cookie ? new CookiePersist(opts.cookie, servers) : null;
    this.#keyUri = spec.algo === "uri";
    this.#keyHdr = spec.algo === "hdr" ? lc(spec.hdr ?? "host") : null;
    this.#keyDomain = spec.domainOnly === true;
    this.#keyParam = spec.algo === "url_param" ? new TextEncoder().encode(spec.param ?? "") : null;
    this.#events = opts.events ?? (() => {});
    this.#ramp = new Ramp(sched, (srv, now) => this.#weightMoved(srv, now));
    this.#recount();
  }

  get serverTimeout(): number {
    return this.timeouts.server;
  }

  get tunnelTimeout(): number {
    return this.timeouts.tunnel;
  }

  processBack(strm: Stream, now: number): void {
    // Each handler moves the state forward and says whether the new state
    // needs handling in this same run: a stream passes here a few times at
    // most (REQ → ASS → CON, or CER → REQ → ASS → CON on a retry).
    for (;;) {
      let again: boolean;
      switch (strm.scb.state) {
        case SC_ST_REQ:
          again = this.#handleReq(strm, now);
          break;
        case SC_ST_QUE:
          again = this.#handleQue(strm, now);
          break;
        case SC_ST_ASS:
          again = this.#handleAss(strm, now);
          break;
        case SC_ST_CON:
          again = this.#handleCon(strm, now);
          break;
        case SC_ST_CER:
          again = this.#handleCer(strm, now);
          break;
        default:
          return;
      }
      if (!again) return;
    }
  }

  /**
   * REQ (HAProxy's `back_handle_st_req()`): a server is wanted. Assigns one
   * (then reuses an idle connection or goes to ASS), queues the stream (QUE),
   * or gives up: no server up ("SC", 503) or every queue full ("RC", 503).
   */
  #handleReq(strm: Stream, now: number): boolean {
    const sc = strm.scb;
    if (!(strm.flags & SF_BE_ASSIGNED)) {
      strm.flags |= SF_BE_ASSIGNED;
      this.counters.open(now);
      if (this.sharedScur !== null) {
        sharedAdd(this.sharedScur, 1);
        if (this.sharedPeak !== null) sharedRaise(this.sharedPeak, sharedGet(this.sharedScur));
      }
      if (this.#dynamic.length > 0) this.#retune();
    }
    const r = this.#assign(strm, now);
    if (r === ASSIGNED) return !this.#reuseOrConnect(strm, now);
    if (r === QUEUED) {
      sc.state = SC_ST_QUE;
      strm.tQueue = now;
      sc.exp = tickAdd(now, this.timeouts.queue);
      return false;
    }
    sc.errType = r === NO_SERVER ? SC_ET_CONN_NOSRV : SC_ET_CONN_RES;
    strm.setTerm(r === NO_SERVER ? SF_ERR_SRVCL : SF_ERR_RESOURCE);
    sc.state = SC_ST_CLO;
    return false;
  }

  /**
   * QUE: waiting for a server slot. `#dequeue` gives one (then on as after an
   * assignment) or `timeout queue` strikes first ("sQ").
   */
  #handleQue(strm: Stream, now: number): boolean {
    const sc = strm.scb;
    if (strm.pend === null) {
      // #dequeue gave us a slot.
      strm.tDequeue = now;
      sc.exp = TICK_ETERNITY;
      return !this.#reuseOrConnect(strm, now);
    }
    if (sc.exp > now) return false;
    this.#unqueue(strm);
    sc.errType = SC_ET_QUEUE_TO;
    strm.setTerm(SF_ERR_SRVTO); // "sQ"
    sc.state = SC_ST_CLO;
    return false;
  }

  /** ASS: a server is assigned; starts the connection (CON) with its layers. */
  #handleAss(strm: Stream, now: number): boolean {
    const sc = strm.scb;
    const srv = strm.target as Server;
    if (strm.tConnStart < 0) strm.tConnStart = now;
    const conn = new Connection(this.#sched, srv.xprt, srv.hs);
    if (srv.sendProxy !== 0) conn.ppOut = proxyHeaderOf(strm, srv.sendProxy);
    if (srv.sniIdx >= 0) conn.tlsName = this.#sniFor(strm, srv);
    conn.owner = strm;
    sc.conn = conn;
    sc.state = SC_ST_CON;
    sc.exp = tickAdd(now, this.timeouts.connect);
    srv.xprt.connect(conn, srv.addr);
    return false;
  }

  /** CON (HAProxy's `back_handle_st_con()`): established (EST), failed or timed out (CER), or still waiting. */
  #handleCon(strm: Stream, now: number): boolean {
    const sc = strm.scb;
    const conn = sc.conn!;
    if (conn.flags & CO_FL_ERROR) {
      sc.errType = SC_ET_CONN_ERR;
      sc.state = SC_ST_CER;
      return true;
    }
    if (conn.isReady()) {
      sc.state = SC_ST_EST;
      sc.exp = TICK_ETERNITY;
      this.#established(strm, now);
      return false;
    }
    if (sc.exp > now) return false;
    sc.errType = SC_ET_CONN_TO;
    sc.state = SC_ST_CER;
    return true;
  }

  /**
   * CER (HAProxy's `back_handle_st_cer()`): the attempt failed. Counts it,
   * then retries (REQ) on the same server or, as `redispatch` says, another
   * one, or gives up after `retries` ("sC" on a timeout, else "SC").
   */
  #handleCer(strm: Stream, now: number): boolean {
    const sc = strm.scb;
    const srv = strm.target as Server;
    const failed = sc.conn!;
    if (failed.errCode === CO_ER_TLS) {
      const line = srv.tlsFails.note(`${this.name}/${srv.name}`, failed.errMsg, now);
      if (line !== null) this.#events(line, "warning");
    }
    failed.close();
    sc.conn = null;
    sc.exp = TICK_ETERNITY;
    this.counters.econ++;
    srv.counters.econ++;
    this.releaseServer(strm);
    this.observe(
      srv,
      false,
      sc.errType === SC_ET_CONN_TO ? "Layer4 timeout" : "Layer4 connection problem",
      now,
    );
    if (sc.connRetries >= this.retries) {
      strm.setTerm(sc.errType === SC_ET_CONN_TO ? SF_ERR_SRVTO : SF_ERR_SRVCL);
      sc.state = SC_ST_CLO;
      return false;
    }
    sc.connRetries++;
    const rd = this.redispatch;
    // A server that went down or into maintenance is never retried.
    if (
      !srv.stickyUp() || (rd > 0 && sc.connRetries % rd === 0) ||
      (rd < 0 && sc.connRetries === this.retries)
    ) {
      strm.avoid = srv;
      strm.stickTo = null;
      strm.flags |= SF_REDISP;
      // Like HAProxy: a retry counts as a redispatch or a retry, not both.
      this.counters.wredis++;
      srv.counters.wredis++;
    } else {
      strm.stickTo = srv;
      this.counters.wretr++;
      srv.counters.wretr++;
    }
    sc.state = SC_ST_REQ;
    return true;
  }

  /**
   * Live-traffic result on `srv` for passive health (`observe`): a success
   * clears the error run; `errorLimit` errors in a row act as configured.
   */
  observe(srv: Server, ok: boolean, why: string, now: number): void {
    const o = srv.observe;
    if (o === null) return;
    if (ok) {
      srv.consecErrors = 0;
      return;
    }
    if (++srv.consecErrors < o.errorLimit) return;
    srv.consecErrors = 0;
    const reason = `${why} (${o.errorLimit} consecutive errors on live traffic)`;
    this.onObserveLimit?.(srv, o.onError, reason, now);
  }

  /** Set by the owner of the health checks: acts on an observe error limit. */
  onObserveLimit: ((srv: Server, action: string, reason: string, now: number) => void) | null =
    null;

  /** HTTP: a response status (0: none or invalid) seen on `strm`'s server, for observe layer7. */
  observeHttp(strm: Stream, status: number, now: number): void {
    const srv = strm.target as Server | null;
    if (srv === null || srv.observe === null || !srv.observe.layer7) return;
    const bad = status === 0 || (status >= 500 && status !== 501 && status !== 505);
    this.observe(
      srv,
      !bad,
      status === 0 ? "Layer7 invalid response" : `Layer7 status ${status}`,
      now,
    );
  }

  /**
   * HTTP request head, before rewriting: the load-balancing key (uri, url_param, hdr)
   * and the persistence cookie. Returns true for a valid persistence cookie.
   */
  requestHead(
    strm: Stream,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): boolean {
    if (this.#keyUri) strm.lbKey = uriKey(msg, a, base);
    else if (this.#keyHdr !== null) {
      strm.lbKey = hdrKey(msg, a, base, this.#keyHdr, this.#keyDomain);
    } else if (this.#keyParam !== null) strm.lbKey = urlParamKey(msg, a, base, this.#keyParam);
    return this.persist !== null && this.persist.request(strm, msg, a, base, rw) === PERSIST_VALID;
  }

  /** HTTP response head (status 0: none or invalid): passive health and persistence cookie. */
  responseHead(
    strm: Stream,
    status: number,
    head: ResponseHeadView | null,
    now: number,
  ): void {
    this.observeHttp(strm, status, now);
    const srv = strm.target as Server | null;
    if (status === 0) {
      // No valid response (invalid, server closed or timed out: 502/504):
      // a response error, as HAProxy's eresp. Aborts during the body are
      // counted when the stream ends.
      this.counters.eresp++;
      if (srv !== null) srv.counters.eresp++;
      return;
    }
    if (head === null || this.persist === null || srv === null) return;
    const valid = head.persist && strm.stickTo === srv;
    this.persist.response(srv, valid, head.msg, head.a, head.base, head.rw);
  }

  /**
   * The server side of a transaction is over (HTTP): the connection goes to
   * the idle list when `reusable` and still healthy, otherwise it is closed;
   * the server slot is freed and the stream's server side starts afresh.
   * The backend session ends with it, as in HAProxy, where each request of
   * a keep-alive connection is a session of its backend (scur counts
   * requests in progress, stot requests) — unless it is a `retry` of the
   * same request.
   */
  detach(strm: Stream, reusable: boolean, now: number, retry = false): void {
    const sc = strm.scb;
    const conn = sc.conn;
    const srv = strm.target as Server | null;
    if (conn !== null) {
      // A connection that began with this client's PROXY header is its own.
      if (
        reusable && srv !== null && this.idle !== null && sc.state === SC_ST_EST &&
        srv.stickyUp() && srv.sendProxy === 0
      ) {
        this.idle.put(this.httpReuse === "never" ? this.#privatePool(strm, srv) : srv, conn, now);
      } else conn.close();
    }
    this.#unqueue(strm);
    if (strm.flags & SF_BE_ASSIGNED) {
      this.#countBytes(strm);
      if (!retry) {
        strm.flags &= ~SF_BE_ASSIGNED;
        this.counters.scur--;
        if (this.sharedScur !== null) sharedAdd(this.sharedScur, -1);
        if (this.#dynamic.length > 0) this.#retune();
      }
    }
    this.releaseServer(strm);
    strm.resetBack();
  }

  /**
   * Adds the bytes the stream moved since it was last counted to this
   * backend and its server: per transaction in HTTP (the server changes
   * between requests), at the end in TCP.
   */
  #countBytes(strm: Stream): void {
    const din = strm.req.total - strm.countedIn, dout = strm.res.fwd - strm.countedOut;
    strm.countedIn = strm.req.total;
    strm.countedOut = strm.res.fwd;
    this.counters.bin += din;
    this.counters.bout += dout;
    const srv = strm.target as Server | null;
    if (srv !== null) {
      srv.counters.bin += din;
      srv.counters.bout += dout;
    }
  }

  streamEnd(strm: Stream): void {
    this.#unqueue(strm);
    const own = this.#private.get(strm);
    if (own !== undefined) {
      this.#private.delete(strm);
      this.idle!.closeOwner(own);
    }
    if (!(strm.flags & SF_BE_ASSIGNED)) return;
    strm.flags &= ~SF_BE_ASSIGNED;
    const c = this.counters;
    c.scur--;
    if (this.#dynamic.length > 0) this.#retune();
    this.#countBytes(strm);
    const srv = strm.target as Server | null;
    if (srv !== null) {
      const cause = strm.termCause;
      if (cause === SF_ERR_CLICL || cause === SF_ERR_CLITO) {
        c.cliAbrt++;
        srv.counters.cliAbrt++;
      } else if (
        (cause === SF_ERR_SRVCL || cause === SF_ERR_SRVTO) &&
        strm.tConnEnd >= 0
      ) {
        c.srvAbrt++;
        srv.counters.srvAbrt++;
        c.eresp++;
        srv.counters.eresp++;
      }
      this.releaseServer(strm);
    }
  }

  /** The stream goes to another backend for its next request: uncount it here. */
  leave(strm: Stream): void {
    this.#unqueue(strm);
    if (strm.flags & SF_BE_ASSIGNED) this.#countBytes(strm);
    this.releaseServer(strm);
    if (!(strm.flags & SF_BE_ASSIGNED)) return;
    strm.flags &= ~SF_BE_ASSIGNED;
    this.counters.scur--;
    if (this.sharedScur !== null) sharedAdd(this.sharedScur, -1);
    if (this.#dynamic.length > 0) this.#retune();
  }

  /** Frees the stream's slot on its server, once, and gives it to a waiting stream. */
  releaseServer(strm: Stream): void {
    if (!(strm.flags & SF_SRV_SLOT)) return;
    strm.flags &= ~SF_SRV_SLOT;
    const srv = strm.target as Server;
    srv.dropSlot();
    srv.counters.scur--;
    (srv.backup ? this.lbBackup : this.lb).dropConn(srv);
    if (srv.queue.length > 0 || this.queue.length > 0) this.#dequeue(srv);
    else if (srv.queue.othersWaiting() > 0 || this.queue.othersWaiting() > 0) {
      this.onSlotFree?.(this, srv);
    }
  }

  /**
   * With worker threads: another thread freed a slot of `srv` while streams
   * of this thread wait for it; the oldest take it if it is still free.
   */
  slotFreed(srv: Server): void {
    if (this.#dynamic.length > 0) this.#retune();
    if (srv.queue.length > 0 || this.queue.length > 0) this.#dequeue(srv);
  }

  // -- server state ----------------------------------------------------------

  /**
   * Operational state from checks or passive observation. `reason` says why
   * ("Layer7 wrong status", ...). Returns true when the state changed.
   */
  setOpState(srv: Server, up: boolean, reason: string, now: number): boolean {
    if (srv.opUp === up) return false;
    srv.opUp = up;
    srv.lastChange = now;
    if (!up) srv.downSince = now;
    else if (srv.downSince >= 0) {
      srv.downMs += now - srv.downSince;
      srv.downSince = -1;
    }
    this.#stateChanged(srv, now);
    if (up) {
      this.#log(srv, `is UP, reason: ${reason}.`, "notice");
    } else if (!this.#quiet && this.logStates) {
      this.counters.chkdown++;
      srv.counters.chkdown++;
      this.#log(srv, `is DOWN, reason: ${reason}.`, "warning");
    }
    this.onServerChange?.(this, srv, reason);
    return true;
  }

  /**
   * With worker threads: takes a server's state as the control thread
   * publishes it (its health checks, runtime API changes), without logging
   * or counting it again.
   */
  applyState(srv: Server, st: ServerStateView, now: number): void {
    this.#quiet = true;
    try {
      this.setOpState(srv, st.up, "", now);
      this.setAdmin(srv, st.admin, now);
      if (st.weight !== srv.uweight) this.setWeight(srv, st.weight, now);
      if (st.maxconn !== srv.maxconnCfg) this.setMaxconn(srv, st.maxconn);
    } finally {
      this.#quiet = false;
    }
  }

  /** Admin state: SRV_ADMIN_READY, SRV_ADMIN_DRAIN or SRV_ADMIN_MAINT. */
  setAdmin(srv: Server, admin: number, now: number): void {
    if (srv.admin === admin) return;
    const before = srv.admin;
    srv.admin = admin;
    // Only maintenance restarts slowstart (drain <-> ready does not).
    if (before === SRV_ADMIN_MAINT || admin === SRV_ADMIN_MAINT) srv.lastChange = now;
    this.#stateChanged(srv, now);
    this.onServerChange?.(this, srv);
    const name = SRV_ADMIN_NAMES[admin];
    this.#log(
      srv,
      admin === SRV_ADMIN_MAINT
        ? "is going DOWN for maintenance."
        : before === SRV_ADMIN_MAINT
        ? `is leaving maintenance (now ${name}).`
        : `is now in ${name} state.`,
      admin === SRV_ADMIN_MAINT ? "warning" : "notice",
    );
  }

  /** Weight at run time (0 to 256). */
  setWeight(srv: Server, weight: number, now: number): void {
    srv.uweight = weight;
    srv.rampWeight(now);
    this.#weightMoved(srv, now);
    if (srv.effWeight < srv.uweight) this.#ramp.add(srv, now);
    this.onServerChange?.(this, srv);
  }

  /**
   * maxconn at run time (0: none): a raise gives waiting streams the new
   * slots at once. A static limit stays static (minconn follows), a dynamic
   * one keeps its minconn, as HAProxy's `set maxconn server`.
   */
  setMaxconn(srv: Server, maxconn: number): void {
    if (srv.minconn === srv.maxconnCfg) srv.minconn = maxconn;
    srv.maxconnCfg = maxconn;
    if (srv.minconn > maxconn && maxconn > 0) srv.minconn = maxconn;
    srv.maxconn = srv.limitFor(this.#beconn(), this.fullconn);
    this.#dynamic = this.servers.filter((s) => s.dynamicLimit);
    (srv.backup ? this.lbBackup : this.lb).update(srv);
    this.#dequeueAll();
    this.onServerChange?.(this, srv);
  }

  /**
   * The backend's load changed: servers with a dynamic limit get the one for
   * it (HAProxy computes it on each check; here it changes only with the
   * load), and a raised limit serves waiting streams.
   */
  #retune(): void {
    const beconn = this.#beconn();
    let raised = false;
    for (const s of this.#dynamic) {
      const m = s.limitFor(beconn, this.fullconn);
      if (m === s.maxconn) continue;
      if (m > s.maxconn) {
        raised = true;
        // Other threads' streams may wait for the new slots.
        if (s.queue.othersWaiting() > 0 || this.queue.othersWaiting() > 0) {
          this.onSlotFree?.(this, s);
        }
      }
      s.maxconn = m;
      (s.backup ? this.lbBackup : this.lb).update(s);
    }
    if (raised) this.#dequeueAll();
  }

  /** The backend's streams: every thread's with worker threads. */
  #beconn(): number {
    return this.sharedScur === null ? this.counters.scur : sharedGet(this.sharedScur);
  }

  /** Stops the slowstart task (instance shutdown). */
  stop(): void {
    this.#ramp.stop();
  }

  // -- internals -------------------------------------------------------------

  #log(srv: Server, what: string, level: "notice" | "warning" | "alert"): void {
    if (this.#quiet || !this.logStates) return;
    const q = srv.queue.length + this.queue.length;
    this.#events(
      `Server ${this.name}/${srv.name} ${what} ${this.activeUp} active and ${this.backupUp} backup servers ${
        level === "notice" ? "online" : "left"
      }. ${srv.cur} sessions active, ${q} remaining in queue.`,
      level,
    );
    if (this.activeUp === 0 && this.backupUp === 0 && level !== "notice") {
      this.#events(`backend ${this.name} has no server available!`, "alert");
    }
  }

  #stateChanged(srv: Server, now: number): void {
    srv.rampWeight(now);
    (srv.backup ? this.lbBackup : this.lb).update(srv);
    this.#recount();
    if (!srv.stickyUp()) {
      // No reuse of connections to a server that is down or in maintenance.
      this.idle?.closeOwner(srv);
      // Streams waiting for this very server may go to any other one.
      for (let p = srv.queue.shift(); p !== null; p = srv.queue.shift()) {
        p.strm.stickTo = null;
        this.queue.insertBySince(p);
      }
    } else if (srv.effWeight < srv.uweight) this.#ramp.add(srv, now);
    this.#dequeueAll();
  }

  #weightMoved(srv: Server, _now: number): void {
    (srv.backup ? this.lbBackup : this.lb).update(srv);
    this.#recount();
    this.#dequeueAll();
  }

  #recount(): void {
    let a = 0, b = 0;
    for (const s of this.active) if (s.lbUp()) a++;
    for (const s of this.backups) if (s.lbUp()) b++;
    this.activeUp = a;
    this.backupUp = b;
  }

  /** Picks a server for `strm`: persistence first, then the algorithm. */
  #assign(strm: Stream, now: number): number {
    const avoid = strm.avoid as Server | null;
    let sticky = strm.stickTo as Server | null;
    if (sticky === null && this.stick !== null) sticky = this.stick.get(strm.cliAddr, now);
    if (sticky !== null && sticky !== avoid && sticky.stickyUp()) {
      if (sticky.queue.length === 0 && sticky.takeSlot()) return this.#take(strm, sticky, now);
      if (sticky.queueRoom()) return this.#enqueue(strm, sticky, now);
      // Its queue is full: let the algorithm choose, like HAProxy.
    }
    const lb = this.activeUp > 0 ? this.lb : this.backupUp > 0 ? this.lbBackup : null;
    if (lb === null) return NO_SERVER;
    let key = 0;
    if (lb.hashed) {
      // No key (header or parameter absent): -1, round robin as HAProxy.
      key = strm.lbKey >= 0 ? strm.lbKey : this.lb.name === "source" ? hashAddr(strm.cliAddr) : -1;
    }
    const srv = lb.pick(key, avoid) as Server | null;
    if (srv === null) {
      // Every candidate is full: wait in the backend queue.
      if (this.#backendQueueRoom()) return this.#enqueue(strm, null, now);
      this.limitEvents?.report(
        `queue:${this.name}`,
        `backend ${this.name}: queue full (${this.queue.length} waiting), answering 503`,
      );
      return FULL;
    }
    if (srv.queue.length === 0 && srv.takeSlot()) return this.#take(strm, srv, now);
    if (srv.queueRoom()) return this.#enqueue(strm, srv, now);
    this.limitEvents?.report(
      `queue:${this.name}/${srv.name}`,
      `server ${this.name}/${srv.name}: queue full (maxqueue ${srv.maxqueue}), answering 503`,
    );
    return FULL;
  }

  /** The backend queue is bounded by the servers' queues: if every server has a maxqueue, their sum. */
  #backendQueueRoom(): boolean {
    let room = 0;
    for (const s of this.servers) {
      if (s.maxqueue === 0) return true;
      room += s.maxqueue;
    }
    return this.queue.total < room;
  }

  /** Assigns `srv`, whose slot the caller took (`takeSlot()`), to `strm`. */
  #take(strm: Stream, srv: Server, now: number): number {
    strm.target = srv;
    strm.flags |= SF_SRV_SLOT;
    idleNoteUse(srv, srv.curLocal);
    srv.counters.open(now);
    (srv.backup ? this.lbBackup : this.lb).takeConn(srv);
    return ASSIGNED;
  }

  /** Queues `strm` on `srv`'s queue, or the backend's (`srv` null). */
  #enqueue(strm: Stream, srv: Server | null, now: number): number {
    const q = srv === null ? this.queue : srv.queue;
    const c = srv === null ? this.counters : srv.counters;
    const p = new Pend(strm, now);
    if (q === this.queue) strm.beQueuePos = q.length;
    else strm.srvQueuePos = q.length;
    q.push(p);
    strm.pend = p;
    if (q.length > c.qmax) c.qmax = q.length;
    // With worker threads, a slot may have been freed by another thread
    // between the full server seen and the queueing, when that thread saw
    // no waiter to tell: now that the waiter counts, look again.
    if (q.shared !== null) {
      if (srv === null) this.#dequeueAll();
      else this.#dequeue(srv);
    }
    return QUEUED;
  }

  #unqueue(strm: Stream): void {
    strm.pend?.leave();
    strm.pend = null;
  }

  /** Gives free slots of `srv` to the oldest waiting streams (its own queue or the backend's). */
  #dequeue(srv: Server): void {
    // Backend-queue streams go to servers of the group in use only.
    const serving = srv.lbUp() && (!srv.backup || this.activeUp === 0);
    while (srv.hasSlot()) {
      let p = srv.stickyUp() ? srv.queue.peek() : null;
      const b = serving ? this.queue.peek() : null;
      if (p === null || (b !== null && b.since < p.since)) p = b;
      if (p === null || !srv.takeSlot()) return;
      p.queue!.remove(p);
      const strm = p.strm;
      strm.pend = null;
      this.#take(strm, srv, this.#sched.now);
      this.#sched.wakeup(strm, TASK_WOKEN_MSG);
    }
  }

  #dequeueAll(): void {
    if (this.queue.length === 0 && !this.servers.some((s) => s.queue.length > 0)) return;
    for (const s of this.servers) {
      if (s.hasSlot()) this.#dequeue(s);
    }
  }

  /** After assignment: take an idle connection to the server, or go connect. Returns true when established. */
  #reuseOrConnect(strm: Stream, now: number): boolean {
    const sc = strm.scb;
    const srv = strm.target as Server;
    const idle = strm.flags & SF_NO_REUSE ? null : this.#takeIdle(strm, srv);
    if (idle !== null) {
      strm.flags |= SF_SRV_REUSED;
      // A kept-alive connection to this server: no connect needed.
      idle.owner = strm;
      sc.conn = idle;
      sc.state = SC_ST_EST;
      strm.tConnStart = now;
      this.#established(strm, now);
      return true;
    }
    sc.state = SC_ST_ASS;
    return false;
  }

  /** An idle connection to `srv` that `http-reuse` lets this request take, or null. */
  #takeIdle(strm: Stream, srv: Server): Connection | null {
    const pool = this.idle;
    if (pool === null) return null;
    switch (this.httpReuse) {
      case "never": {
        const own = this.#private.get(strm);
        if (own === undefined) return null;
        if (own.srv === srv) return pool.take(own, false, this.#sniFor(strm, srv));
        // The next request went to another server: its old one is no use.
        this.#private.delete(strm);
        pool.closeOwner(own);
        return null;
      }
      case "safe":
        return strm.flags & SF_FIRST_REQ ? null : pool.take(srv, false, this.#sniFor(strm, srv));
      case "aggressive":
        return pool.take(srv, (strm.flags & SF_FIRST_REQ) !== 0, this.#sniFor(strm, srv));
      case "always":
        return pool.take(srv, false, this.#sniFor(strm, srv));
    }
  }

  /**
   * HTTP: evaluates the servers' `sni EXPR` on the request in `ctx` (the
   * names new connections send, and idle ones must have been made with).
   */
  requestSni(strm: Stream, ctx: AclCtx): void {
    strm.srvSnis = this.sniFetches.map((f) => tlsNameOf(sampleText(f, ctx)));
  }

  /** The SNI a connection to `srv` must have for `strm`: null when the server's own name. */
  #sniFor(strm: Stream, srv: Server): string | null {
    return srv.sniIdx < 0 ? null : strm.srvSnis?.[srv.sniIdx] ?? "";
  }

  /** The stream's private pool for `srv` (a new one when it had one for another server). */
  #privatePool(strm: Stream, srv: Server): PrivatePool {
    let own = this.#private.get(strm);
    if (own !== undefined && own.srv !== srv) {
      this.idle!.closeOwner(own);
      own = undefined;
    }
    if (own === undefined) {
      own = new PrivatePool(srv);
      this.#private.set(strm, own);
    }
    return own;
  }

  #established(strm: Stream, now: number): void {
    const srv = strm.target as Server;
    if (srv.observe !== null && !srv.observe.layer7) srv.consecErrors = 0;
    const st = this.stick;
    if (st === null) return;
    if (this.onStickLearn !== null && st.get(strm.cliAddr, now) !== srv) {
      this.onStickLearn(this, strm.cliAddr, srv);
    }
    st.set(strm.cliAddr, srv, now);
  }
}
