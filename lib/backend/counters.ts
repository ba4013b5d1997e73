/**
 * Traffic counters kept per frontend, backend and server, named as HAProxy's
 * stats fields so operators recognise them. Plain numbers: counting never
 * allocates.
 *
 * @module
 */

import { LatencySet } from "../stats/latency.ts";
import { FreqCtr } from "../stats/freq_ctr.ts";

/** Counters shared by frontends, backends and servers. */
export class Counters {
  /** Latency distributions (queue, connect, response, total). */
  readonly lat: LatencySet = new LatencySet();
  /** Sessions per second (HAProxy's rate) and HTTP requests per second (req_rate). */
  readonly rate: FreqCtr = new FreqCtr();
  readonly reqRate: FreqCtr = new FreqCtr();
  /** Current sessions (streams). */
  scur = 0;
  /** Highest `scur` seen. */
  smax = 0;
  /** Total sessions. */
  stot = 0;
  /** Bytes received from clients. */
  bin = 0;
  /** Bytes sent to clients. */
  bout = 0;
  /** Connection errors towards servers. */
  econ = 0;
  /** Response errors (server failed during the exchange). */
  eresp = 0;
  /** Requests denied by `http-request deny` (HAProxy's dreq). */
  dreq = 0;
  /** Responses denied by `http-response deny` (HAProxy's dresp). */
  dresp = 0;
  /** Connections refused by `tcp-request connection reject` (HAProxy's dcon). */
  deniedConn = 0;
  /** Request errors (client-side errors before the server was reached). */
  ereq = 0;
  /** Connection retries. */
  wretr = 0;
  /** Retries sent to another server (redispatches). */
  wredis = 0;
  /** Longest queue seen. */
  qmax = 0;
  /** Failed health checks. */
  chkfail = 0;
  /** Transitions to DOWN. */
  chkdown = 0;
  /** Streams aborted by the client. */
  cliAbrt = 0;
  /** Streams aborted by the server. */
  srvAbrt = 0;
  /** HTTP requests (frontends), or requests sent (backends, servers). */
  reqTot = 0;
  /** `compression`: body bytes into the compressor, out of it, through `identity`, and responses compressed. */
  compIn = 0;
  compOut = 0;
  compByp = 0;
  compRsp = 0;
  /** HTTP responses by status class: [1xx, 2xx, 3xx, 4xx, 5xx, other]. */
  readonly hrsp: number[] = [0, 0, 0, 0, 0, 0];

  /** Counts an HTTP response status. */
  countStatus(status: number): void {
    const c = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
    this.hrsp[c]++;
  }

  /** Counts a compressed response's bytes (HAProxy counts `identity` as bypassed); `done`: it ended. */
  countComp(algo: string, bytesIn: number, bytesOut: number, done: boolean): void {
    if (algo === "identity") this.compByp += bytesIn;
    else {
      this.compIn += bytesIn;
      this.compOut += bytesOut;
    }
    if (done) this.compRsp++;
  }

  /** Counts a new session at tick `now` (the scheduler's clock, read once per turn). */
  open(now: number): void {
    this.rate.add(now);
    this.stot++;
    if (++this.scur > this.smax) this.smax = this.scur;
  }
}
