/**
 * A backend: servers, the algorithm choosing among them, and the back side of
 * every stream sent to it: assign a server, connect, retry on failure, give
 * up with the right termination state.
 *
 * @module
 */
import { TICK_ETERNITY, tickAdd } from "../core/time.ts";
import { sockConnect } from "../conn/sock.ts";
import { Connection } from "../conn/connection.ts";
import { CO_FL_ERROR } from "../conn/conn_types.ts";
import type { LbAlgo } from "../lb/lb_types.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import {
  SC_ET_CONN_ERR,
  SC_ET_CONN_NOSRV,
  SC_ET_CONN_TO,
  SC_ST_ASS,
  SC_ST_CER,
  SC_ST_CLO,
  SC_ST_CON,
  SC_ST_EST,
  SC_ST_REQ,
} from "../stconn/sc_types.ts";
import type { Stream } from "../stream/stream.ts";
import {
  SF_BE_ASSIGNED,
  SF_ERR_CLICL,
  SF_ERR_CLITO,
  SF_ERR_SRVCL,
  SF_ERR_SRVTO,
  SF_NO_REUSE,
  SF_SRV_REUSED,
  SF_SRV_SLOT,
  type StreamBackend,
} from "../stream/stream_types.ts";
import { Counters } from "./counters.ts";
import type { IdleConns } from "./idle_conns.ts";
import type { Server } from "./server.ts";

/** Backend timeouts in ms (0: none). */
export interface BackendTimeouts {
  connect: number;
  server: number;
  tunnel: number;
  queue: number;
}

/** A backend at run time. */
export class Backend implements StreamBackend {
  readonly name: string;
  readonly servers: readonly Server[];
  readonly lb: LbAlgo;
  readonly timeouts: BackendTimeouts;
  /** Connection attempts after the first one. */
  readonly retries: number;
  readonly counters: Counters = new Counters();
  /** Idle server connections for reuse (HTTP), or null. */
  idle: IdleConns | null = null;
  readonly #sched: Scheduler;

  constructor(
    sched: Scheduler,
    name: string,
    servers: readonly Server[],
    lb: LbAlgo,
    opts: { timeouts: BackendTimeouts; retries: number },
  ) {
    this.#sched = sched;
    this.name = name;
    this.servers = servers;
    this.lb = lb;
    this.timeouts = opts.timeouts;
    this.retries = opts.retries;
  }

  get serverTimeout(): number {
    return this.timeouts.server;
  }

  get tunnelTimeout(): number {
    return this.timeouts.tunnel;
  }

  processBack(strm: Stream, now: number): void {
    const sc = strm.scb;
    // Each pass moves one state forward; a stream never loops here more
    // than a few times per run.
    for (;;) {
      switch (sc.state) {
        case SC_ST_REQ: {
          if (!(strm.flags & SF_BE_ASSIGNED)) {
            strm.flags |= SF_BE_ASSIGNED;
            this.counters.open();
          }
          const srv = this.lb.pick() as Server | null;
          if (srv === null) {
            sc.errType = SC_ET_CONN_NOSRV;
            strm.setTerm(SF_ERR_SRVCL);
            sc.state = SC_ST_CLO;
            return;
          }
          strm.target = srv;
          strm.flags |= SF_SRV_SLOT;
          srv.cur++;
          srv.counters.open();
          this.lb.takeConn(srv);
          const idle = strm.flags & SF_NO_REUSE ? null : this.idle?.take(srv) ?? null;
          if (idle !== null) {
            strm.flags |= SF_SRV_REUSED;
            // A kept-alive connection to this server: no connect needed.
            idle.owner = strm;
            sc.conn = idle;
            sc.state = SC_ST_EST;
            strm.tConnStart = now;
            return;
          }
          sc.state = SC_ST_ASS;
          break;
        }
        case SC_ST_ASS: {
          const srv = strm.target as Server;
          if (strm.tConnStart < 0) strm.tConnStart = now;
          const conn = new Connection(this.#sched, srv.xprt, srv.hs);
          conn.owner = strm;
          sc.conn = conn;
          sc.state = SC_ST_CON;
          sc.exp = tickAdd(now, this.timeouts.connect);
          sockConnect(conn, srv.addr);
          return;
        }
        case SC_ST_CON: {
          const conn = sc.conn!;
          if (conn.flags & CO_FL_ERROR) {
            sc.errType = SC_ET_CONN_ERR;
            sc.state = SC_ST_CER;
          } else if (conn.isReady()) {
            sc.state = SC_ST_EST;
            sc.exp = TICK_ETERNITY;
            return;
          } else if (sc.exp <= now) {
            sc.errType = SC_ET_CONN_TO;
            sc.state = SC_ST_CER;
          } else return;
          break;
        }
        case SC_ST_CER: {
          const srv = strm.target as Server;
          sc.conn!.close();
          sc.conn = null;
          sc.exp = TICK_ETERNITY;
          this.counters.econ++;
          srv.counters.econ++;
          this.releaseServer(strm);
          if (sc.connRetries < this.retries) {
            sc.connRetries++;
            this.counters.wretr++;
            srv.counters.wretr++;
            sc.state = SC_ST_REQ;
            break;
          }
          strm.setTerm(sc.errType === SC_ET_CONN_TO ? SF_ERR_SRVTO : SF_ERR_SRVCL);
          sc.state = SC_ST_CLO;
          return;
        }
        default:
          return;
      }
    }
  }

  /**
   * The server side of a transaction is over (HTTP): the connection goes to
   * the idle list when `reusable` and still healthy, otherwise it is closed;
   * the server slot is freed and the stream's server side starts afresh.
   */
  detach(strm: Stream, reusable: boolean, now: number): void {
    const sc = strm.scb;
    const conn = sc.conn;
    const srv = strm.target as Server | null;
    if (conn !== null) {
      if (reusable && srv !== null && this.idle !== null && sc.state === SC_ST_EST) {
        this.idle.put(srv, conn, now);
      } else conn.close();
    }
    this.releaseServer(strm);
    strm.resetBack();
  }

  streamEnd(strm: Stream): void {
    if (!(strm.flags & SF_BE_ASSIGNED)) return;
    const c = this.counters;
    c.scur--;
    c.bin += strm.req.total;
    c.bout += strm.res.total;
    const srv = strm.target as Server | null;
    if (srv !== null) {
      srv.counters.bin += strm.req.total;
      srv.counters.bout += strm.res.total;
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

  /** Frees the stream's slot on its server, once; `target` stays for the log. */
  releaseServer(strm: Stream): void {
    if (!(strm.flags & SF_SRV_SLOT)) return;
    strm.flags &= ~SF_SRV_SLOT;
    const srv = strm.target as Server;
    srv.cur--;
    srv.counters.scur--;
    this.lb.dropConn(srv);
  }
}
