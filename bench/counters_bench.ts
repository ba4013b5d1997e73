/**
 * What stats cost per HTTP request: the counting the frontend does when a
 * transaction ends (Frontend.txnEnd / #recordLatency) and the backend and
 * server do when a request is assigned — request and status counters and
 * rates on the frontend, backend and server, and four latency histograms
 * on each (12 records). The histograms are always on, so the bench compares
 * this with the same loop without counting; divide by BATCH for ns per
 * request and compare with the time a request takes through sluice (25 µs
 * at 40 000 req/s on one core).
 *
 *     deno bench bench/counters_bench.ts
 */
import { Counters } from "../lib/backend/counters.ts";
import { mulberry32 } from "../tests/helpers/bytes.ts";

const BATCH = 1024;

/** Per request: queue, connect, response and total ms, and a status. */
const r = mulberry32(7); // the same timings every run
const Q = new Float64Array(BATCH), C = new Float64Array(BATCH);
const R = new Float64Array(BATCH), T = new Float64Array(BATCH);
const S = new Int32Array(BATCH);
for (let i = 0; i < BATCH; i++) {
  Q[i] = r() < 0.9 ? 0 : r() * 5;
  C[i] = r() < 0.8 ? 0 : r() * 2;
  R[i] = -Math.log(1 - r()) * 3;
  T[i] = Q[i] + C[i] + R[i] + r();
  S[i] = r() < 0.98 ? 200 : 503;
}

const fe = new Counters(), be = new Counters(), srv = new Counters();
const sink = new Float64Array(1);
let now = 0;

Deno.bench({ name: `no counting: loop over ${BATCH} requests`, baseline: true }, () => {
  let s = 0;
  for (let i = 0; i < BATCH; i++) s += Q[i] + C[i] + R[i] + T[i] + S[i];
  sink[0] += s;
});

Deno.bench({ name: `full per-request counting x${BATCH} (fe + be + server)`, n: 20000 }, () => {
  now += 1;
  for (let i = 0; i < BATCH; i++) {
    // Assignment: a session on the backend and the server.
    be.open(now);
    srv.open(now);
    // End of the transaction.
    fe.reqTot++;
    fe.reqRate.add(now);
    fe.countStatus(S[i]);
    be.countStatus(S[i]);
    srv.countStatus(S[i]);
    srv.reqTot++;
    be.reqTot++;
    fe.lat.record(Q[i], C[i], R[i], T[i]);
    be.lat.record(Q[i], C[i], R[i], T[i]);
    srv.lat.record(Q[i], C[i], R[i], T[i]);
    be.scur--;
    srv.scur--;
  }
});
