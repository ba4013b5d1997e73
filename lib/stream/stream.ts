/**
 * The stream: the task that owns both stream interfaces (front = client side,
 * back = server side) and both channels (req: client to server, res: server
 * to client). Each run it pulls I/O results into channel flags, applies
 * timeouts, lets the backend advance the server connection, lets analysers
 * look at the data, propagates half-closes in order, starts the next I/O, and
 * sets its next expiry. When both sides are closed it reports (log line,
 * counters) and, once no I/O references its buffers, gives them back.
 *
 * @module
 */
import type { BufferPool, BufWaiter } from "../core/pool.ts";
import type { Buf } from "../buf/buffer.ts";
import { TICK_ETERNITY, tickAdd, tickFirst, tickNow } from "../core/time.ts";
import { Channel, chnErase, chnForward, chnShutwNow } from "../buf/channel.ts";
import {
  CF_AUTO_CLOSE,
  CF_AUTO_CONNECT,
  CF_MASK_EVENTS,
  CF_READ_TIMEOUT,
  CF_SHUTR,
  CF_SHUTW,
  CF_SHUTW_NOW,
  CF_WRITE_TIMEOUT,
  CHN_INFINITE_FORWARD,
} from "../buf/channel_types.ts";
import type { Connection } from "../conn/connection.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { Task } from "../sched/task.ts";
import { TASK_WOKEN_MSG, TASK_WOKEN_RES } from "../sched/task_types.ts";
import { scClose, scSync, scUpdateRcv, scUpdateSnd, StreamInterface } from "../stconn/stconn.ts";
import {
  SC_FL_ERR,
  SC_ST_DIS,
  SC_ST_EST,
  SC_ST_INI,
  SC_ST_QUE,
  SC_ST_REQ,
} from "../stconn/sc_types.ts";
import {
  SF_ENDED,
  SF_ERR_CHARS,
  SF_ERR_CLICL,
  SF_ERR_CLITO,
  SF_ERR_INTERNAL,
  SF_ERR_KILLED,
  SF_ERR_NONE,
  SF_ERR_RESOURCE,
  SF_ERR_SRVCL,
  SF_ERR_SRVTO,
  SF_FINST_C,
  SF_FINST_CHARS,
  SF_FINST_D,
  SF_FINST_L,
  SF_FINST_NONE,
  SF_FINST_Q,
  SF_FINST_R,
  SF_KILL_REQ,
  SF_REDISP,
  SF_RELEASED,
  SF_SRV_REUSED,
  SF_WAIT_BUF,
  SF_WAS_EST,
  type StreamAnalyser,
  type StreamBackend,
  type StreamFeCtx,
  type StreamFrontend,
  type StreamPend,
} from "./stream_types.ts";

/** What a stream needs from its thread: the scheduler and the buffer pool. */
export interface StreamEnv {
  readonly sched: Scheduler;
  readonly pool: BufferPool;
  /** Larger areas for channels that move bulk data, taken when free (never waited for). */
  readonly largePool?: BufferPool;
  /** Told when a stream is created (e.g. to count live streams). */
  readonly streamNew?: (strm: Stream) => void;
  /** Told when a stream has released everything it held. */
  readonly streamFree?: (strm: Stream) => void;
  /** Told when a stream has to wait for buffers (the pool is exhausted). */
  readonly poolExhausted?: () => void;
}

/** Something the backend assigned this stream to (a server). */
export interface StreamTarget {
  /** Server name, for logs. */
  readonly name: string;
}

/**
 * One client connection and everything it caused. `Txn` is the analyser's
 * per-stream state (`HttpStream` is `Stream<HttpTxn>`); the stream itself
 * never looks into it.
 */
export class Stream<Txn = unknown> extends Task implements BufWaiter {
  /** Buffers needed at once: one per channel. */
  readonly bufNeed = 2;
  /** SF_* bits. */
  flags = 0;
  /** Client to server. */
  readonly req: Channel = new Channel();
  /** Server to client. */
  readonly res: Channel = new Channel();
  /** Client side. */
  readonly scf: StreamInterface;
  /** Server side. */
  readonly scb: StreamInterface;
  /** Where the stream came from. */
  readonly fe: StreamFrontend;
  /** Where the stream goes (HTTP: chosen again for each request by `use_backend` rules). */
  be: StreamBackend;
  /** The server the backend assigned, if any. */
  target: StreamTarget | null = null;
  /** SF_ERR_* cause of the end. */
  termCause = SF_ERR_NONE;
  /** SF_FINST_* phase the end happened in. */
  termPhase = SF_FINST_NONE;
  /** Wall-clock time of the accept (ms since epoch), for the log date. */
  readonly acceptDate: number;
  /** Tick of the accept. */
  readonly tAccept: number;
  /** Tick the stream entered a queue, -1 if never. */
  tQueue = -1;
  /** Tick the stream left the queue, -1 if never. */
  tDequeue = -1;
  /** Tick of the first connect attempt, -1 if none. */
  tConnStart = -1;
  /** Tick the server connection was established, -1 if never. */
  tConnEnd = -1;
  /** Tick of the end. */
  tEnd = -1;
  /** What the frontend releases when the stream ends (the listener's connection slot). */
  feCtx: StreamFeCtx | null = null;
  /** Client address (IP, or "unix"), for logs and rules. */
  cliAddr = "";
  /** Client port (0 for unix sockets). */
  cliPort = 0;
  /** True when the client connection is TLS (for X-Forwarded-Proto). */
  cliTls = false;
  /** Hash of the request's load-balancing key (uri, header), -1 for none. */
  lbKey = -1;
  /** The request's SNI names for servers with `sni EXPR` (one per distinct expression), or null. */
  srvSnis: string[] | null = null;
  /** A server the stream must go to if it can (persistence, retry), or null. */
  stickTo: StreamTarget | null = null;
  /** A server to avoid (it just failed), or null. */
  avoid: StreamTarget | null = null;
  /** The stream's place in a queue (owned by the backend), or null. */
  pend: StreamPend | null = null;
  /** Streams ahead of this one when it entered the server / backend queue (logs). */
  srvQueuePos = 0;
  beQueuePos = 0;
  /** The address and port the client connected to (a PROXY header's destination); "" for unix. */
  feAddr = "";
  fePort = 0;
  /** Bytes from the client and to it already counted in a backend's (and server's) bin/bout. */
  countedIn = 0;
  countedOut = 0;
  /** The same for the frontend's. */
  feCountedIn = 0;
  feCountedOut = 0;
  /** The analyser (HTTP) or null for a plain TCP relay. */
  ana: StreamAnalyser<Txn> | null = null;
  /** The analyser's own deadline (http-request, keep-alive), or eternity. */
  anaExp: number = TICK_ETERNITY;
  /** The analyser's per-stream state (the HTTP transaction), set with `ana`. */
  txn: Txn | null = null;
  readonly #env: StreamEnv;

  constructor(
    env: StreamEnv,
    fe: StreamFrontend,
    be: StreamBackend,
    front: Connection,
  ) {
    super();
    this.#env = env;
    this.fe = fe;
    this.be = be;
    // Outside a turn the scheduler's tick may be stale: read the clock.
    const now = env.sched.now = tickNow();
    this.acceptDate = Date.now();
    this.tAccept = now;
    this.scf = new StreamInterface(this.req, this.res);
    this.scb = new StreamInterface(this.res, this.req);
    front.owner = this;
    this.scf.conn = front;
    this.scf.state = SC_ST_EST;
    const req = this.req, res = this.res;
    req.rto = res.wto = fe.clientTimeout;
    req.wto = res.rto = be.serverTimeout;
    req.flags |= CF_AUTO_CLOSE;
    res.flags |= CF_AUTO_CLOSE;
    env.streamNew?.(this);
  }

  /**
   * Makes the stream a plain TCP relay: connect at once, forward everything
   * both ways. Call once after construction, before `start()`.
   */
  setTcpMode(): void {
    this.req.flags |= CF_AUTO_CONNECT;
    chnForward(this.req, CHN_INFINITE_FORWARD);
    chnForward(this.res, CHN_INFINITE_FORWARD);
  }

  /** Gets the buffers (or queues for them) and schedules the first run. */
  start(): void {
    const sched = this.#env.sched;
    if (!this.#env.pool.acquire(this)) {
      this.#env.poolExhausted?.();
      // No buffer: wait, within the client timeout.
      this.flags |= SF_WAIT_BUF;
      this.expire = tickAdd(sched.now, this.fe.clientTimeout);
      sched.timerUpdate(this);
      return;
    }
    sched.wakeup(this, TASK_WOKEN_RES);
  }

  /** Receives a buffer from the pool (request first, then response). */
  bufGranted(area: Uint8Array): void {
    if (this.req.buf.size === 0) this.req.buf.attach(area);
    else this.res.buf.attach(area);
    if ((this.flags & SF_WAIT_BUF) && this.res.buf.size > 0) {
      this.flags &= ~SF_WAIT_BUF;
      this.expire = TICK_ETERNITY;
      this.#env.sched.wakeup(this, TASK_WOKEN_RES);
    }
  }

  /** Wakes the stream for its next run (something it waits for is ready, e.g. a hook settled). */
  wake(): void {
    this.#env.sched.wakeup(this, TASK_WOKEN_MSG);
  }

  /** Asks the stream to terminate at its next run (logged as killed). */
  kill(): void {
    if (this.flags & SF_ENDED) return;
    this.flags |= SF_KILL_REQ;
    this.#env.sched.wakeup(this, TASK_WOKEN_MSG);
  }

  /**
   * Records why the stream ends, once: the first cause wins, and the phase is
   * derived from how far the server side got (HAProxy's sess_set_term_flags)
   * unless `phase` (SF_FINST_*) is given.
   */
  setTerm(cause: number, phase = -1): void {
    if (this.termCause !== SF_ERR_NONE) return;
    this.termCause = cause;
    if (phase >= 0) {
      this.termPhase = phase;
      return;
    }
    const st = this.scb.state;
    if (st === SC_ST_INI) this.termPhase = SF_FINST_R;
    else if (st === SC_ST_QUE) this.termPhase = SF_FINST_Q;
    else if (!(this.flags & SF_WAS_EST)) this.termPhase = SF_FINST_C;
    else if ((this.res.flags & CF_SHUTR) && this.res.buf.data > 0) {
      this.termPhase = SF_FINST_L;
    } else this.termPhase = SF_FINST_D;
  }

  /**
   * Makes the server side new again after a transaction (HTTP keep-alive):
   * the connection was given back or closed by the backend; the next
   * request starts from INI with fresh server-side channel state.
   */
  resetBack(): void {
    const scb = this.scb, req = this.req, res = this.res;
    scb.state = SC_ST_INI;
    scb.conn = null;
    scb.flags = 0;
    scb.errType = 0;
    scb.exp = TICK_ETERNITY;
    scb.connRetries = 0;
    this.lbKey = -1;
    this.target = this.stickTo = this.avoid = null;
    this.srvQueuePos = this.beQueuePos = 0;
    req.flags &= ~(CF_SHUTW | CF_SHUTW_NOW | CF_WRITE_TIMEOUT);
    res.flags &= ~(CF_SHUTR | CF_READ_TIMEOUT);
    req.wex = res.rex = TICK_ETERNITY;
    res.rto = req.wto = this.be.serverTimeout;
    this.flags &= ~(SF_WAS_EST | SF_SRV_REUSED | SF_REDISP);
    this.tQueue =
      this.tDequeue =
      this.tConnStart =
      this.tConnEnd =
        -1;
  }

  /**
   * Sends the next transaction to another backend (HTTP routing). Only
   * between transactions, while the server side is new (INI): the old
   * backend forgets the stream, the server timeouts come from the new one.
   */
  switchBackend(be: StreamBackend): void {
    if (be === this.be || (this.flags & SF_ENDED)) return;
    this.be.leave(this);
    this.be = be;
    this.res.rto = this.req.wto = be.serverTimeout;
  }

  /** Closes both sides at once with `cause` (SF_ERR_*), dropping data in transit. */
  abort(cause: number): void {
    this.setTerm(cause);
    this.#closeBoth();
  }

  /**
   * `process()` threw: a bug. Report it, close everything, and leave the
   * buffers to the garbage collector, since the task will not run again to
   * wait for in-flight I/O to settle.
   */
  crashed(err: unknown): void {
    console.error("sluice: internal error in stream:", err);
    this.#env.pool.cancel(this);
    this.abort(SF_ERR_INTERNAL);
    this.#end(this.#env.sched.now);
    this.#release();
  }

  process(now: number): void {
    const flags = this.flags;
    if (flags & SF_WAIT_BUF) {
      if (this.expire <= now || (flags & SF_KILL_REQ)) {
        this.#env.pool.cancel(this);
        this.flags &= ~SF_WAIT_BUF;
        this.abort(flags & SF_KILL_REQ ? SF_ERR_KILLED : SF_ERR_RESOURCE);
        this.#end(now);
        this.#release();
      }
      return;
    }
    const req = this.req, res = this.res, scf = this.scf, scb = this.scb;

    // A PROXY header names the real client (accept-proxy): from now on it is.
    const pp = scf.conn?.proxied;
    if (pp != null) {
      scf.conn!.proxied = null;
      if (pp.src !== null && pp.dst !== null) {
        this.cliAddr = pp.src.addr;
        this.cliPort = pp.src.port;
        this.feAddr = pp.dst.addr;
        this.fePort = pp.dst.port;
      }
    }
    scSync(scf, now);
    scSync(scb, now);

    if (req.rex <= now) req.flags |= CF_READ_TIMEOUT;
    if (req.wex <= now) req.flags |= CF_WRITE_TIMEOUT;
    if (res.rex <= now) res.flags |= CF_READ_TIMEOUT;
    if (res.wex <= now) res.flags |= CF_WRITE_TIMEOUT;

    if (flags & SF_KILL_REQ) this.abort(SF_ERR_KILLED);
    else if (this.ana !== null && (this.ana.process(this, now), scf.state >= SC_ST_DIS)) {
      // The analyser finished the client side itself.
    } else if (scf.flags & SC_FL_ERR) this.abort(SF_ERR_CLICL);
    else if ((req.flags & CF_READ_TIMEOUT) || (res.flags & CF_WRITE_TIMEOUT)) {
      this.abort(SF_ERR_CLITO);
    } else if ((scb.flags & SC_FL_ERR) && scb.state === SC_ST_EST) {
      this.abort(SF_ERR_SRVCL);
    } else if ((res.flags & CF_READ_TIMEOUT) || (req.flags & CF_WRITE_TIMEOUT)) {
      this.abort(SF_ERR_SRVTO);
    } else {
      this.#forward(now);
    }

    // Sends first: a layer that sends synchronously (FFI) frees room that
    // the receives can then use, and an emptied buffer can change size.
    scUpdateSnd(scf, now);
    scUpdateSnd(scb, now);
    const large = this.#env.largePool;
    if (large !== undefined) {
      this.#resize(req.buf, large);
      this.#resize(res.buf, large);
    }
    scUpdateRcv(scf, now);
    scUpdateRcv(scb, now);
    req.flags &= ~CF_MASK_EVENTS;
    res.flags &= ~CF_MASK_EVENTS;

    if (
      scf.state >= SC_ST_DIS && (scb.state >= SC_ST_DIS || scb.state === SC_ST_INI)
    ) {
      this.#end(now);
      this.#release();
      return;
    }
    this.expire = tickFirst(
      tickFirst(tickFirst(req.rex, req.wex), tickFirst(res.rex, res.wex)),
      tickFirst(scb.exp, this.anaExp),
    );
  }

  /**
   * Gives an empty buffer a large area while its producer sends in bulk (a
   * 64 KiB body moves in one receive and one send instead of four of each),
   * and its normal one back once it does not. Only an empty buffer with no
   * I/O in flight changes area; when no large area is free, nothing changes.
   */
  #resize(buf: Buf, large: BufferPool): void {
    if (buf.out + buf.in !== 0 || buf.sndPending !== 0 || buf.size === 0) return;
    const pool = this.#env.pool;
    const isLarge = buf.size === large.size;
    // Up when a receive did not fit a normal buffer, down when they are
    // small again; in between, as is (no flapping on mixed sizes).
    if (isLarge ? buf.lastChunk > pool.size >> 2 : buf.lastChunk <= pool.size - buf.reserve) {
      return;
    }
    const area = isLarge ? pool.tryGet() : large.tryGet();
    if (area === null) return;
    this.#poolOf(buf)!.release(buf.detach());
    buf.attach(area);
  }

  /** The pool `buf`'s area comes from, or null when it has none. */
  #poolOf(buf: Buf): BufferPool | null {
    if (buf.size === 0) return null;
    const large = this.#env.largePool;
    return large !== undefined && buf.size === large.size ? large : this.#env.pool;
  }

  /** The normal path: server connection, then half-close propagation. */
  #forward(now: number): void {
    const req = this.req, res = this.res, scf = this.scf, scb = this.scb;
    // Connect once the client side is ready (TLS handshake done), as HAProxy
    // creates the stream only then.
    if (
      scb.state === SC_ST_INI && (req.flags & CF_AUTO_CONNECT) &&
      scf.conn!.isReady()
    ) scb.state = SC_ST_REQ;
    if (scb.state >= SC_ST_REQ && scb.state < SC_ST_EST) {
      this.be.processBack(this, now);
      if (scb.state === SC_ST_EST) {
        this.#backEstablished(now);
        if (this.flags & SF_SRV_REUSED) this.ana?.reused(this);
      } else if (scb.state >= SC_ST_DIS) {
        // The backend gave up (it set the termination state). HTTP answers
        // (503); a TCP client is closed, nothing will ever answer it.
        if (this.ana !== null) {
          this.ana.connectFailed(this, now);
          return;
        }
        scClose(scf);
        chnErase(req);
        chnErase(res);
        return;
      }
    }
    // A producer that shut (EOF) makes its channel shut the consumer once
    // drained (scUpdate does it when the output is empty).
    if (
      (req.flags & (CF_SHUTR | CF_AUTO_CLOSE | CF_SHUTW | CF_SHUTW_NOW)) ===
        (CF_SHUTR | CF_AUTO_CLOSE)
    ) chnShutwNow(req);
    if (
      (res.flags & (CF_SHUTR | CF_AUTO_CLOSE | CF_SHUTW | CF_SHUTW_NOW)) ===
        (CF_SHUTR | CF_AUTO_CLOSE)
    ) chnShutwNow(res);
  }

  /**
   * The server connection is up. A stream without an analyser (TCP mode) is
   * a tunnel from here on, so `timeout tunnel` replaces client and server
   * timeouts, as in HAProxy. An HTTP stream keeps them: its analyser applies
   * the tunnel timeout only once the connection really becomes a tunnel
   * (101 Switching Protocols).
   */
  #backEstablished(now: number): void {
    this.flags |= SF_WAS_EST;
    this.tConnEnd = now;
    const tunnel = this.be.tunnelTimeout;
    if (tunnel > 0 && this.ana === null) {
      const req = this.req, res = this.res;
      req.rto =
        req.wto =
        res.rto =
        res.wto =
          tunnel;
      req.rex =
        req.wex =
        res.rex =
        res.wex =
          TICK_ETERNITY;
    }
  }

  #closeBoth(): void {
    const scf = this.scf, scb = this.scb;
    if (scf.state < SC_ST_DIS) scClose(scf);
    if (scb.state < SC_ST_DIS) scClose(scb);
    chnErase(this.req);
    chnErase(this.res);
  }

  /** Reports the end once: termination state, log, counters. */
  #end(now: number): void {
    if (this.flags & SF_ENDED) return;
    this.flags |= SF_ENDED;
    this.tEnd = now;
    this.expire = TICK_ETERNITY;
    this.ana?.end(this, now);
    // Frontend first: its log line shows the counts including this stream.
    this.fe.streamEnd(this);
    this.be.streamEnd(this);
  }

  /** Gives the buffers back (closing settled any send in flight), then dies. */
  #release(): void {
    if (this.flags & SF_RELEASED) return;
    this.flags |= SF_RELEASED;
    this.#poolOf(this.req.buf)?.release(this.req.buf.detach());
    this.#poolOf(this.res.buf)?.release(this.res.buf.detach());
    this.#env.sched.kill(this);
    this.#env.streamFree?.(this);
  }
}

/** The two-letter termination state of a stream ("--", "cD", "SC", …). */
export function streamTermState(strm: Stream): string {
  return SF_ERR_CHARS[strm.termCause] + SF_FINST_CHARS[strm.termPhase];
}
