/**
 * mergeInstanceStats(): counters, current values, rates and (as an upper
 * bound) maxima sum exactly; latency merges bucket by bucket from latRaw;
 * state fields come from the first part; overrides replace merged values;
 * parts of different configurations throw; Instance.stats({ raw: true }).
 */
import assert from "node:assert/strict";
import { mergeInstanceStats, StatsShapeError } from "../../lib/stats/stats_merge.ts";
import { LatencySet } from "../../lib/stats/latency.ts";
import type {
  BackendStats,
  InstanceStats,
  ProxyStats,
  ServerStats,
} from "../../lib/stats/stats_types.ts";
import { px, srv } from "../helpers/stats_fixture.ts";
import { loadConfig } from "../../lib/cfg/config_load.ts";
import { Instance } from "../../lib/worker/instance.ts";

/** Fields that sum (counters, current values, rates) or add as an upper bound (maxima). */
const PROXY_SUMS = Object.keys(px("x")).filter((k) => k !== "name") as (keyof ProxyStats)[];
const SERVER_SUMS = [...PROXY_SUMS, "qcur", "qmax", "wredis", "chkfail", "chkdown"] as const;
const BACKEND_SUMS = [...PROXY_SUMS, "qcur", "qmax", "wredis"] as const;

/** Every summing field of a row set to a value that tells part `k` and field `f` apart. */
function counters<T extends ProxyStats>(row: T, keys: readonly string[], k: number): T {
  const r = row as unknown as Record<string, number>;
  keys.forEach((key, f) => r[key] = (k + 1) * 1000 + f);
  return row;
}

function backend(
  name: string,
  servers: ServerStats[],
  o: Partial<BackendStats> = {},
): BackendStats {
  return {
    ...px(name),
    status: "UP",
    act: servers.length,
    bck: 0,
    qcur: 0,
    qmax: 0,
    wredis: 0,
    stick_entries: -1,
    servers,
    ...o,
  };
}

/** A snapshot of one thread of the configuration "fe", "api"; backend "be" with s1, s2; "be2" with s3. */
function part(k: number, state: Partial<ServerStats> = {}): InstanceStats {
  const sv = (name: string) => counters(srv(name, state), SERVER_SUMS, k);
  const be = (name: string, s: ServerStats[]) =>
    counters(
      backend(name, s, { status: state.status ?? "UP", act: 2 - k, stick_entries: 7 + k }),
      BACKEND_SUMS,
      k,
    );
  return {
    frontends: [counters(px("fe"), PROXY_SUMS, k), counters(px("api"), PROXY_SUMS, k)],
    backends: [be("be", [sv("s1"), sv("s2")]), be("be2", [sv("s3")])],
    actconn: 10 + k,
    pool: {
      inUse: k,
      free: 2 * k,
      allocated: 3 * k,
      waits: 4 * k,
      waiting: k,
      limit: 100,
      size: 16384,
    },
    largePool: k === 1
      ? null
      : { inUse: 1, free: 1, allocated: 2, waits: 0, waiting: 0, limit: 8, size: 65536 },
    sched: {
      turns: 100 * k,
      runs: 10 * k,
      budgetHits: k,
      crashes: 0,
      queued: k,
      timers: 5,
      breaths: 1,
    },
    idle: { reused: k, expired: 2 * k, parked: 3 * k },
    log: { lines: 10 * k, dropped: k },
  };
}

/** The expected sum over parts 0..n-1 of a field set by counters(). */
function expected(f: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += (k + 1) * 1000 + f;
  return s;
}

Deno.test("mergeInstanceStats sums every counter, current value, rate and maximum exactly", () => {
  const parts = [part(0), part(1), part(2)];
  const m = mergeInstanceStats(parts);
  for (const fe of m.frontends) {
    PROXY_SUMS.forEach((key, f) => assert.equal(fe[key], expected(f, 3), `${fe.name}.${key}`));
  }
  for (const be of m.backends) {
    BACKEND_SUMS.forEach((key, f) => assert.equal(be[key], expected(f, 3), `${be.name}.${key}`));
    for (const s of be.servers) {
      SERVER_SUMS.forEach((key, f) =>
        assert.equal(s[key], expected(f, 3), `${be.name}/${s.name}.${key}`)
      );
    }
  }
  assert.equal(m.actconn, 33);
  assert.deepEqual(m.pool, {
    inUse: 3,
    free: 6,
    allocated: 9,
    waits: 12,
    waiting: 3,
    limit: 300,
    size: 16384,
  });
  assert.deepEqual(m.largePool, {
    inUse: 2,
    free: 2,
    allocated: 4,
    waits: 0,
    waiting: 0,
    limit: 16,
    size: 65536,
  });
  assert.deepEqual(m.sched, {
    turns: 300,
    runs: 30,
    budgetHits: 3,
    crashes: 0,
    queued: 3,
    timers: 15,
    breaths: 3,
  });
  assert.deepEqual(m.idle, { reused: 3, expired: 6, parked: 9 });
  assert.deepEqual(m.log, { lines: 30, dropped: 3 });
  assert.equal(mergeInstanceStats([part(1), part(1)]).largePool, null, "null in every part");
});

Deno.test("mergeInstanceStats takes state fields from the first part and leaves the parts alone", () => {
  const first = part(0, {
    status: "DRAIN",
    weight: 5,
    eweight: 2.5,
    backup: true,
    check_status: "L7OK",
    check_desc: "HTTP status check returned code <200>",
    check_health: 3,
    lastchg: 42,
    downtime: 7,
  });
  const other = part(1, {
    status: "DOWN",
    weight: 1,
    check_status: "L4CON",
    check_health: 0,
    lastchg: 1,
    downtime: 99,
  });
  const before = structuredClone([first, other]);
  const m = mergeInstanceStats([first, other]);
  assert.deepEqual([first, other], before, "parts unchanged");
  const s = m.backends[0].servers[1];
  assert.equal(s.name, "s2");
  assert.deepEqual(
    [
      s.status,
      s.weight,
      s.eweight,
      s.backup,
      s.check_status,
      s.check_desc,
      s.check_health,
      s.lastchg,
      s.downtime,
    ],
    ["DRAIN", 5, 2.5, true, "L7OK", "HTTP status check returned code <200>", 3, 42, 7],
  );
  const be = m.backends[1];
  assert.deepEqual([be.name, be.status, be.act, be.bck, be.stick_entries], [
    "be2",
    "DRAIN",
    2,
    0,
    7,
  ]);
  assert.deepEqual(m.frontends.map((f) => f.name), ["fe", "api"]);
});

Deno.test("mergeInstanceStats merges latency bucket by bucket from latRaw, never averaging", () => {
  const whole = new LatencySet();
  const sets = [new LatencySet(), new LatencySet(), new LatencySet()];
  // Skewed on purpose: one thread slow, two fast; averaged p99s would be far off.
  for (let i = 0; i < 3000; i++) {
    const k = i % 3;
    const ms = k === 0 ? 200 + (i % 50) : 1 + (i % 7) / 8;
    whole.record(0, ms / 4, ms, ms + 1);
    sets[k].record(0, ms / 4, ms, ms + 1);
  }
  const parts = sets.map((set, k) => {
    const p = part(k);
    p.backends[0].servers[0].lat = set.snapshot();
    p.backends[0].servers[0].latRaw = structuredClone(set.raw());
    for (
      const row of [
        ...p.frontends,
        ...p.backends,
        p.backends[0].servers[1],
        ...p.backends[1].servers,
      ]
    ) {
      row.lat = new LatencySet().snapshot();
      row.latRaw = new LatencySet().raw();
    }
    return p;
  });
  const m = mergeInstanceStats(parts);
  const s1 = m.backends[0].servers[0];
  assert.deepEqual(s1.lat, whole.snapshot());
  assert.equal(s1.latRaw, undefined, "latRaw is left out of the result");
  assert.equal(m.frontends[0].lat?.total.count, 0);
  // keepRaw: the result merges again (in two stages) to the same thing.
  const ab = mergeInstanceStats(parts.slice(0, 2), { keepRaw: true });
  assert.ok(ab.backends[0].servers[0].latRaw !== undefined);
  assert.deepEqual(mergeInstanceStats([ab, parts[2]]).backends[0].servers[0].lat, whole.snapshot());
});

Deno.test("mergeInstanceStats refuses to merge latency without latRaw", () => {
  const parts = [part(0), part(1)];
  const set = new LatencySet();
  set.record(1, 1, 1, 1);
  for (const p of parts) p.frontends[1].lat = set.snapshot();
  parts[0].frontends[1].latRaw = set.raw();
  assert.throws(
    () => mergeInstanceStats(parts),
    /latency of "api" exactly: every part needs latRaw/,
  );
  // One part: its lat stays as it is.
  assert.deepEqual(mergeInstanceStats([parts[1]]).frontends[1].lat, set.snapshot());
});

Deno.test("mergeInstanceStats throws on parts of different configurations", () => {
  const renamed = part(1);
  renamed.frontends[1].name = "web";
  assert.throws(
    () => mergeInstanceStats([part(0), renamed]),
    (e) =>
      e instanceof StatsShapeError &&
      /part 1 has frontend "web" at position 1 where part 0 has "api"/.test(e.message),
  );
  const more = part(1);
  more.frontends.push(px("extra"));
  assert.throws(
    () => mergeInstanceStats([part(0), more]),
    /part 1 has 3 frontends where part 0 has 2/,
  );
  const fewer = part(1);
  fewer.backends.pop();
  assert.throws(
    () => mergeInstanceStats([part(0), fewer]),
    /part 1 has 1 backends where part 0 has 2/,
  );
  const swapped = part(2);
  swapped.backends[0].servers.reverse();
  assert.throws(
    () => mergeInstanceStats([part(0), part(1), swapped]),
    /part 2 has server of backend "be" "s2" at position 0/,
  );
  const lost = part(1);
  lost.backends[0].servers.pop();
  assert.throws(() => mergeInstanceStats([part(0), lost]), StatsShapeError);
  assert.throws(() => mergeInstanceStats([]), /no part given/);
});

Deno.test("mergeInstanceStats overrides replace merged values with exact ones", () => {
  const m = mergeInstanceStats([part(0), part(1)], {
    overrides: {
      frontends: { api: { scur: 4, smax: 9 } },
      backends: { be2: { qmax: 3, smax: 8 } },
      servers: { "be/s2": { qcur: 1, qmax: 2, rate_max: 5 } },
      actconn: 6,
    },
  });
  assert.deepEqual([m.frontends[1].scur, m.frontends[1].smax], [4, 9]);
  assert.equal(m.frontends[0].scur, expected(PROXY_SUMS.indexOf("scur"), 2), "others stay summed");
  assert.deepEqual([m.backends[1].qmax, m.backends[1].smax], [3, 8]);
  const s2 = m.backends[0].servers[1];
  assert.deepEqual([s2.qcur, s2.qmax, s2.rate_max], [1, 2, 5]);
  assert.equal(m.backends[0].servers[0].qmax, expected(SERVER_SUMS.indexOf("qmax"), 2));
  assert.equal(m.actconn, 6);
  const bad = (overrides: Parameters<typeof mergeInstanceStats>[1]) => () =>
    mergeInstanceStats([part(0)], overrides);
  assert.throws(
    bad({ overrides: { frontends: { nope: { scur: 1 } } } }),
    /frontend "nope": no such frontend/,
  );
  assert.throws(
    bad({ overrides: { frontends: { fe: { qcur: 1 } } } }),
    /"qcur" of frontend "fe": no such counter/,
  );
  assert.throws(
    bad({ overrides: { servers: { s1: { scur: 1 } } } }),
    /server "s1": expected "backend\/server"/,
  );
  assert.throws(
    bad({ overrides: { servers: { "be/s3": { scur: 1 } } } }),
    /server of backend "be" "s3"/,
  );
  assert.throws(
    bad({ overrides: { frontends: { constructor: { scur: 1 } } } }),
    /no such frontend/,
  );
});

Deno.test("Instance.stats({ raw: true }) puts latRaw beside lat in every row, and only then", async () => {
  const text = [
    "defaults",
    "  mode http",
    "  timeout connect 1s",
    "  timeout client 1s",
    "  timeout server 1s",
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "backend be",
    "  server s1 127.0.0.1:9",
  ].join("\n");
  const { resolved, errors } = loadConfig([{ file: "t.cfg", text }], { env: {} });
  assert.deepEqual(errors, []);
  const inst = new Instance(resolved!);
  try {
    inst.frontends[0].counters.lat.record(1, 2, 3, 4);
    const plain = inst.stats();
    assert.equal(plain.frontends[0].latRaw, undefined);
    assert.equal(plain.backends[0].servers[0].latRaw, undefined);
    const raw = inst.stats({ raw: true });
    const rows = [raw.frontends[0], raw.backends[0], raw.backends[0].servers[0]];
    for (const r of rows) assert.ok(r.latRaw !== undefined && r.lat !== undefined, r.name);
    assert.equal(raw.frontends[0].latRaw!.total.count, 1);
    // Two threads' worth of the same snapshot: exactly twice the samples.
    const m = mergeInstanceStats([raw, structuredClone(raw)]);
    assert.equal(m.frontends[0].lat!.total.count, 2);
    assert.equal(m.frontends[0].lat!.total.max, 4);
  } finally {
    await inst.close();
  }
});
