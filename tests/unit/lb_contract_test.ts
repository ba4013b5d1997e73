/**
 * The LbAlgo contract, run against every algorithm in LB_ALGOS (see the
 * module doc of lib/lb/lb_types.ts). Balanced algorithms pick among servers
 * that are up and not full; hashed ones (source, uri, hdr) map a key to a
 * server that is up, full or not. Keys are hashes of distinct strings, so
 * the hashed algorithms see a spread of keys; `random` gets a seeded RNG so
 * every run draws the same numbers.
 *
 * Distribution: weights 1,2,3,4, 100k picks, 20 streams held at a time;
 * each server's share of the picks must be within ±5% (absolute) of its
 * share of the weights. The suite is deterministic, so the bound is the same
 * for every kind; what each one measures (worst server):
 * - roundrobin, static-rr: exact;
 * - leastconn: 2.9% (the load moves in whole streams, 20 of them);
 * - random: 0.3% (drawing noise; two choices pull towards equal load per
 *   weight, which is the weights);
 * - source, uri, hdr: 0.3% (the ring's arcs at 512 points per weight unit);
 * - first ignores weights by design (it fills servers in order): not run.
 */
import assert from "node:assert/strict";
import { createLb, LB_ALGOS } from "../../lib/lb/lb_algos.ts";
import { hashStr } from "../../lib/lb/hash.ts";
import { type LbAlgo, lbFull, type LbServer } from "../../lib/lb/lb_types.ts";
import { Random } from "../../lib/lb/random.ts";

/** A server the test drives by hand: `up`, `effWeight`, `maxconn` and `cur`. */
class FakeSrv implements LbServer {
  cur = 0;
  up = true;
  constructor(
    readonly name: string,
    readonly lbIndex: number,
    public effWeight = 1,
    public maxconn = 0,
  ) {}
  lbUp(): boolean {
    return this.up && this.effWeight > 0;
  }
}

/** Mulberry32: a small seeded RNG in [0, 1). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Servers s0, s1, ... with the given weights (and maxconn for all). */
function farm(weights: number[], maxconn = 0): FakeSrv[] {
  return weights.map((w, i) => new FakeSrv(`s${i}`, i, w, maxconn));
}

/** `algo` over `servers`; `random` with a seeded RNG so the suite is repeatable. */
function make(algo: string, servers: FakeSrv[]): LbAlgo {
  if (algo === "random") return new Random(servers, seeded(42));
  return createLb({ algo, hdr: algo === "hdr" ? "x-user" : undefined, param: "uid" }, servers);
}

/** The i-th test key: a spread 32-bit hash (ignored by balanced algorithms). */
function key(i: number): number {
  return hashStr(`key-${i}`);
}

/** Marks `srv` up or down and tells the algorithm, as the backend does. */
function setUp(lb: LbAlgo, srv: FakeSrv, up: boolean): void {
  srv.up = up;
  lb.update(srv);
}

/** A stream assigned to `srv`: cur counts it before takeConn(), as documented. */
function take(lb: LbAlgo, srv: LbServer): void {
  (srv as FakeSrv).cur++;
  lb.takeConn(srv);
}

/** A stream leaving `srv`. */
function drop(lb: LbAlgo, srv: LbServer): void {
  (srv as FakeSrv).cur--;
  lb.dropConn(srv);
}

/**
 * Runs `picks` streams through `lb`, each held until `hold` newer ones have
 * started, and returns how many each server got. Fails on a null pick.
 */
function serve(lb: LbAlgo, servers: FakeSrv[], picks: number, hold: number): number[] {
  const counts = new Array(servers.length).fill(0);
  const open: LbServer[] = [];
  for (let i = 0; i < picks; i++) {
    const s = lb.pick(key(i), null);
    assert.ok(s !== null, `pick ${i} found no server`);
    counts[s.lbIndex]++;
    take(lb, s);
    open.push(s);
    if (open.length > hold) drop(lb, open.shift()!);
  }
  for (const s of open) drop(lb, s);
  return counts;
}

for (const algo of Object.keys(LB_ALGOS)) {
  const hashed = make(algo, farm([1])).hashed;

  Deno.test(`${algo}: reports its configured name and kind`, () => {
    const lb = make(algo, farm([1, 1]));
    assert.equal(lb.name, algo);
    assert.equal(lb.hashed, ["source", "uri", "url_param", "hdr"].includes(algo));
  });

  Deno.test(`${algo}: never picks a server that is not up`, () => {
    const servers = farm([1, 2, 3, 4, 5]);
    const lb = make(algo, servers);
    setUp(lb, servers[0], false);
    setUp(lb, servers[3], false);
    for (let i = 0; i < 2000; i++) {
      const s = lb.pick(key(i), null);
      assert.ok(s !== null && s.lbUp(), `pick ${i} gave ${s?.name}`);
    }
  });

  Deno.test(`${algo}: returns null when no server is up, or there are none`, () => {
    const servers = farm([1, 1, 1]);
    const lb = make(algo, servers);
    for (const s of servers) setUp(lb, s, false);
    for (let i = 0; i < 50; i++) assert.equal(lb.pick(key(i), null), null);
    assert.equal(lb.pick(key(0), servers[0]), null);
    assert.equal(make(algo, []).pick(key(0), null), null);
  });

  if (!hashed) {
    Deno.test(`${algo}: never picks a full server and returns null when all are full`, () => {
      const servers = farm([1, 2, 3], 2);
      const lb = make(algo, servers);
      const got: LbServer[] = [];
      for (let s = lb.pick(0, null); s !== null; s = lb.pick(got.length, null)) {
        assert.ok(!lbFull(s), `${s.name} picked while full`);
        take(lb, s);
        got.push(s);
        assert.ok(got.length <= 6, "more picks than free slots");
      }
      assert.equal(got.length, 6, "every free slot is used before null");
      assert.deepEqual(servers.map((s) => s.cur), [2, 2, 2]);
      // A freed slot is found again.
      drop(lb, servers[1]);
      assert.equal(lb.pick(0, null), servers[1]);
      // Full and down together: still null.
      setUp(lb, servers[1], false);
      assert.equal(lb.pick(0, null), null);
    });
  } else {
    Deno.test(`${algo}: keeps mapping a key to its server when that server is full`, () => {
      const servers = farm([1, 1, 1], 1);
      const lb = make(algo, servers);
      const before = Array.from({ length: 300 }, (_, i) => lb.pick(key(i), null));
      for (const s of servers) take(lb, s);
      assert.ok(servers.every(lbFull));
      const after = Array.from({ length: 300 }, (_, i) => lb.pick(key(i), null));
      assert.deepEqual(after, before);
      assert.ok(after.every((s) => s !== null));
    });
  }

  Deno.test(`${algo}: honours avoid when another server qualifies`, () => {
    const servers = farm([1, 1, 1]);
    const lb = make(algo, servers);
    for (const avoid of servers) {
      for (let i = 0; i < 300; i++) {
        const s = lb.pick(key(i), avoid);
        assert.ok(s !== null && s !== avoid, `pick ${i} gave ${s?.name} avoiding ${avoid.name}`);
      }
    }
  });

  Deno.test(`${algo}: falls back to avoid when it is the only server left`, () => {
    const servers = farm([1, 1, 1]);
    const lb = make(algo, servers);
    setUp(lb, servers[0], false);
    setUp(lb, servers[2], false);
    for (let i = 0; i < 50; i++) assert.equal(lb.pick(key(i), servers[1]), servers[1]);
    // An avoided server that is down is not a fallback.
    assert.equal(lb.pick(key(0), servers[0]), servers[1]);
    setUp(lb, servers[1], false);
    assert.equal(lb.pick(key(0), servers[1]), null);
  });

  Deno.test(`${algo}: sends no traffic to a server of weight 0`, () => {
    const servers = farm([1, 0, 2]);
    const lb = make(algo, servers);
    const counts = serve(lb, servers, 3000, 5);
    assert.equal(counts[1], 0);
    // Weight set to 0 at run time, then reported.
    servers[2].effWeight = 0;
    lb.update(servers[2]);
    const later = serve(lb, servers, 3000, 5);
    assert.deepEqual(later, [3000, 0, 0]);
  });

  Deno.test(`${algo}: takes a server out and back in on update()`, () => {
    const servers = farm([1, 1, 1, 1]);
    const lb = make(algo, servers);
    const s0 = servers[0];
    assert.ok(serve(lb, servers, 400, 0)[0] > 0);
    setUp(lb, s0, false);
    assert.equal(serve(lb, servers, 400, 0)[0], 0);
    setUp(lb, s0, true);
    const back = serve(lb, servers, 400, 0)[0];
    // first: s0 is first again so takes everything; the rest: about a quarter.
    if (algo === "first") assert.equal(back, 400);
    else assert.ok(back >= 60 && back <= 140, `s0 got ${back} of 400 back`);
  });

  if (algo !== "first") {
    Deno.test(`${algo}: spreads streams by weight (1,2,3,4) within ±5%`, () => {
      const weights = [1, 2, 3, 4];
      const servers = farm(weights);
      const lb = make(algo, servers);
      const picks = 100_000;
      const counts = serve(lb, servers, picks, 20);
      for (let i = 0; i < weights.length; i++) {
        const share = counts[i] / picks, want = weights[i] / 10;
        assert.ok(
          Math.abs(share - want) <= 0.05,
          `s${i}: share ${share.toFixed(4)}, weight share ${want}`,
        );
      }
    });
  }

  Deno.test(`${algo}: keeps cur and slots consistent through takeConn/dropConn`, () => {
    const servers = farm([1, 2, 3], 4);
    const lb = make(algo, servers);
    for (let round = 0; round < 3; round++) {
      const open: LbServer[] = [];
      for (let i = 0; i < 12; i++) {
        const s = lb.pick(key(round * 100 + i), null);
        assert.ok(s !== null);
        take(lb, s);
        open.push(s);
      }
      const total = servers.reduce((n, s) => n + s.cur, 0);
      assert.equal(total, 12);
      if (!hashed) {
        // 12 slots in all, each used once: nothing over maxconn, nothing left.
        assert.deepEqual(servers.map((s) => s.cur), [4, 4, 4]);
        assert.equal(lb.pick(0, null), null);
      }
      for (const s of open) drop(lb, s);
      assert.deepEqual(servers.map((s) => s.cur), [0, 0, 0]);
    }
  });
}
