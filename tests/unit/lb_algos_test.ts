/**
 * What each algorithm does beyond the shared contract (lb_contract_test.ts):
 * roundrobin's smooth order, static-rr's fixed weights, leastconn's load
 * choice, first's fill order, random's two choices, the consistent-hash
 * ring's stability when servers come and go, the key hashes, and the
 * factory's errors.
 */
import assert from "node:assert/strict";
import { SluiceError } from "../../lib/core/errors.ts";
import { ConsistentHash, MAX_POINTS } from "../../lib/lb/chash.ts";
import { First } from "../../lib/lb/first.ts";
import { hashAddr, hashBytes, hashStr } from "../../lib/lb/hash.ts";
import type { BalanceAlgo } from "../../lib/cfg/config_types.ts";
import {
  createLb,
  LB_ALGOS,
  lbAlgoExpected,
  lbAlgoSyntaxes,
  parseBalance,
} from "../../lib/lb/lb_algos.ts";
import type { LbAlgo, LbServer } from "../../lib/lb/lb_types.ts";
import { LeastConn } from "../../lib/lb/leastconn.ts";
import { Random } from "../../lib/lb/random.ts";
import { RoundRobin } from "../../lib/lb/roundrobin.ts";
import { StaticRr } from "../../lib/lb/static_rr.ts";

/** A server the test drives by hand (same as in the contract suite). */
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

/** Servers named `names[i]` (or s0, s1, ...) with the given weights. */
function farm(weights: number[], names?: string[], maxconn = 0): FakeSrv[] {
  return weights.map((w, i) => new FakeSrv(names?.[i] ?? `s${i}`, i, w, maxconn));
}

/** Names of `n` successive picks (balanced algorithms: no key). */
function picks(lb: LbAlgo, n: number): string[] {
  return Array.from({ length: n }, () => lb.pick(0, null)?.name ?? "-");
}

/** How many of `n` picks each server got, by index. */
function tally(lb: LbAlgo, n: number, size: number): number[] {
  const counts = new Array(size).fill(0);
  for (let i = 0; i < n; i++) counts[lb.pick(i, null)!.lbIndex]++;
  return counts;
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

/** `n` spread keys. */
function keys(n: number): number[] {
  return Array.from({ length: n }, (_, i) => hashStr(`key-${i}`));
}

// roundrobin

Deno.test("RoundRobin spreads weights 5,1,1 smoothly: a,a,b,a,c,a,a", () => {
  const lb = new RoundRobin(farm([5, 1, 1], ["a", "b", "c"]));
  const cycle = ["a", "a", "b", "a", "c", "a", "a"];
  assert.deepEqual(picks(lb, 14), [...cycle, ...cycle]);
});

Deno.test("RoundRobin applies a run-time weight change on the next picks, without update()", () => {
  const servers = farm([1, 1]);
  const lb = new RoundRobin(servers);
  assert.deepEqual(tally(lb, 400, 2), [200, 200]);
  servers[0].effWeight = 3;
  assert.deepEqual(tally(lb, 400, 2), [300, 100]);
});

Deno.test("RoundRobin restarts a server's credit when it comes back", () => {
  const servers = farm([1, 1, 1], ["a", "b", "c"]);
  const lb = new RoundRobin(servers);
  picks(lb, 2);
  servers[2].up = false;
  lb.update(servers[2]);
  picks(lb, 5);
  servers[2].up = true;
  lb.update(servers[2]);
  // Back in the rotation at its share, not in a burst making up for lost turns.
  const next = picks(lb, 9);
  assert.equal(next.filter((n) => n === "c").length, 3);
});

// static-rr

Deno.test("StaticRr serves each server its weight's share of every cycle, spread out", () => {
  const lb = new StaticRr(farm([5, 1, 1], ["a", "b", "c"]));
  const got = picks(lb, 21);
  // Virtual-time order (module doc): a's entries sit at 0.1, 0.3, ... 0.9, b's and c's at 0.5.
  assert.deepEqual(got, [..."aaabcaa", ..."aaabcaa", ..."aaabcaa"]);
  // Spread: at every point of a cycle each server is within one pick of its share.
  for (let len = 1; len <= 7; len++) {
    for (const [name, w] of [["a", 5], ["b", 1], ["c", 1]] as const) {
      const n = got.slice(0, len).filter((x) => x === name).length;
      assert.ok(Math.abs(n - len * w / 7) < 1, `${name} after ${len}: ${n}`);
    }
  }
});

Deno.test("StaticRr ignores a weight change until update() reports it", () => {
  const servers = farm([1, 1]);
  const lb = new StaticRr(servers);
  assert.deepEqual(tally(lb, 400, 2), [200, 200]);
  servers[0].effWeight = 3;
  assert.deepEqual(tally(lb, 400, 2), [200, 200]);
  lb.update(servers[0]);
  assert.deepEqual(tally(lb, 400, 2), [300, 100]);
});

Deno.test("StaticRr reduces weights by their gcd (256,512 make a 3-entry cycle)", () => {
  const lb = new StaticRr(farm([256, 512], ["a", "b"]));
  const got = picks(lb, 9);
  assert.deepEqual(got.slice(0, 3).toSorted(), ["a", "b", "b"]);
  assert.deepEqual(got.slice(3, 6), got.slice(0, 3));
});

Deno.test("StaticRr finds the one free server among many full ones", () => {
  const servers = farm(new Array(50).fill(256), undefined, 1);
  servers[49].effWeight = 1;
  const lb = new StaticRr(servers);
  for (const s of servers.slice(0, 49)) s.cur = 1;
  assert.equal(lb.pick(0, null), servers[49]);
  servers[49].cur = 1;
  assert.equal(lb.pick(0, null), null);
});

// leastconn

Deno.test("LeastConn picks the least loaded server", () => {
  const servers = farm([1, 1, 1], ["a", "b", "c"]);
  const lb = new LeastConn(servers);
  servers[0].cur = 3;
  servers[1].cur = 1;
  servers[2].cur = 2;
  assert.equal(lb.pick(0, null)?.name, "b");
});

Deno.test("LeastConn weighs the load: (cur+1)/weight", () => {
  const servers = farm([4, 1], ["heavy", "light"]);
  const lb = new LeastConn(servers);
  servers[0].cur = 2; // 3/4
  servers[1].cur = 0; // 1/1
  assert.equal(lb.pick(0, null)?.name, "heavy");
  servers[0].cur = 4; // 5/4
  assert.equal(lb.pick(0, null)?.name, "light");
});

Deno.test("LeastConn shares equal loads round robin", () => {
  const lb = new LeastConn(farm([1, 1, 1], ["a", "b", "c"]));
  assert.deepEqual(picks(lb, 7), ["a", "b", "c", "a", "b", "c", "a"]);
});

// first

Deno.test("First fills servers in order up to their maxconn", () => {
  const servers = farm([1, 1, 1], ["a", "b", "c"], 2);
  const lb = new First(servers);
  const got: string[] = [];
  for (let s = lb.pick(0, null); s !== null; s = lb.pick(0, null)) {
    got.push(s.name);
    (s as FakeSrv).cur++;
  }
  assert.deepEqual(got, ["a", "a", "b", "b", "c", "c"]);
  servers[1].cur--;
  assert.equal(lb.pick(0, null)?.name, "b");
  servers[0].cur--;
  assert.equal(lb.pick(0, null)?.name, "a");
});

// random

Deno.test("Random keeps the less loaded of its two draws", () => {
  const servers = farm([1, 1], ["a", "b"]);
  // Draws: 0.1 lands on a, 0.9 on b.
  const seq = [0.1, 0.9, 0.9, 0.1];
  const lb = new Random(servers, () => seq.shift()!);
  servers[0].cur = 5;
  assert.equal(lb.pick(0, null)?.name, "b");
  assert.equal(lb.pick(0, null)?.name, "b");
});

Deno.test("Random sends a loaded server only what both draws agree on", () => {
  const servers = farm([1, 1, 1, 1]);
  const lb = new Random(servers, seeded(7));
  servers[0].cur = 100;
  const share = tally(lb, 20_000, 4)[0] / 20_000;
  // Both draws on s0: 1/16; a single draw would give it 1/4.
  assert.ok(share > 0.04 && share < 0.09, `loaded server got ${share}`);
});

Deno.test("Random finds the one free server when redraws keep missing", () => {
  const servers = farm(new Array(100).fill(10), undefined, 1);
  servers[57].effWeight = 1;
  const lb = new Random(servers, seeded(3));
  for (const s of servers) if (s !== servers[57]) s.cur = 1;
  for (let i = 0; i < 20; i++) assert.equal(lb.pick(0, null), servers[57]);
});

// consistent hash

Deno.test("ConsistentHash maps the same key to the same server, across instances", () => {
  const a = new ConsistentHash("uri", farm(new Array(10).fill(1)));
  const b = new ConsistentHash("uri", farm(new Array(10).fill(1)));
  for (const k of keys(1000)) {
    assert.equal(a.pick(k, null)?.name, b.pick(k, null)?.name);
    assert.equal(a.pick(k, null), a.pick(k, null));
  }
});

Deno.test("ConsistentHash moves about 1/11 of keys, all to the new server, when one joins 10", () => {
  const ks = keys(100_000);
  const ten = new ConsistentHash("source", farm(new Array(10).fill(1)));
  const eleven = new ConsistentHash("source", farm(new Array(11).fill(1)));
  let moved = 0;
  for (const k of ks) {
    const before = ten.pick(k, null)!.name, after = eleven.pick(k, null)!.name;
    if (before === after) continue;
    moved++;
    assert.equal(after, "s10", "a key only moves to the new server");
  }
  const fraction = moved / ks.length;
  assert.ok(fraction >= 0.06 && fraction <= 0.13, `moved fraction ${fraction}`);
});

Deno.test("ConsistentHash moves exactly the keys of a server that goes down, and back", () => {
  const ks = keys(100_000);
  const servers = farm(new Array(10).fill(1));
  const lb = new ConsistentHash("source", servers);
  const before = ks.map((k) => lb.pick(k, null)!.name);
  servers[3].up = false;
  lb.update(servers[3]);
  let moved = 0;
  ks.forEach((k, i) => {
    const now = lb.pick(k, null)!.name;
    if (before[i] === "s3") moved++;
    else assert.equal(now, before[i], "a key of another server stays");
    assert.notEqual(now, "s3");
  });
  assert.ok(moved > 0);
  servers[3].up = true;
  lb.update(servers[3]);
  assert.deepEqual(ks.map((k) => lb.pick(k, null)!.name), before);
});

Deno.test("ConsistentHash moves only a drained server's keys when its weight drops to 0", () => {
  const ks = keys(20_000);
  const servers = farm(new Array(10).fill(1));
  const lb = new ConsistentHash("uri", servers);
  const before = ks.map((k) => lb.pick(k, null)!.name);
  servers[5].effWeight = 0;
  lb.update(servers[5]);
  ks.forEach((k, i) => {
    if (before[i] !== "s5") assert.equal(lb.pick(k, null)!.name, before[i]);
  });
});

Deno.test("ConsistentHash gives equal servers within 15% of a fair share (2 to 100 servers)", () => {
  const ks = keys(400_000);
  for (const n of [2, 3, 10, 50, 100]) {
    const lb = new ConsistentHash("uri", farm(new Array(n).fill(1)));
    const counts = new Array(n).fill(0);
    for (const k of ks) counts[lb.pick(k, null)!.lbIndex]++;
    const fair = ks.length / n;
    const worst = Math.max(...counts.map((c) => Math.abs(c / fair - 1)));
    assert.ok(worst <= 0.15, `${n} servers: worst server ${(worst * 100).toFixed(1)}% off`);
  }
});

Deno.test("ConsistentHash caps the ring for 1000 servers of weight 256", () => {
  const lb = new ConsistentHash("uri", farm(new Array(1000).fill(256)));
  assert.ok(lb.points <= MAX_POINTS + 1000, `${lb.points} points`);
  assert.ok(lb.points >= MAX_POINTS / 2, `${lb.points} points`);
});

Deno.test("hdr and uri map a key string to a server deterministically", () => {
  const hdr = createLb({ algo: "hdr", hdr: "x-user" }, farm([1, 1, 1, 1]));
  const uri = createLb({ algo: "uri" }, farm([1, 1, 1, 1]));
  const users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
  const first = users.map((u) => hdr.pick(hashStr(u), null)!.name);
  assert.deepEqual(users.map((u) => hdr.pick(hashStr(u), null)!.name), first);
  assert.ok(new Set(first).size > 1, "keys spread over several servers");
  const path = "/static/app.js";
  const bytes = new TextEncoder().encode(`GET ${path} HTTP/1.1`);
  assert.equal(uri.pick(hashBytes(bytes, 4, path.length), null), uri.pick(hashStr(path), null));
});

// hashes

Deno.test("hashStr() equals hashBytes() over the same latin-1 bytes", () => {
  for (const s of ["", "a", "/index.html", "caf\u00e9", "x-forwarded-for: 10.0.0.1"]) {
    const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
    const padded = new Uint8Array(bytes.length + 4);
    padded.set(bytes, 2);
    assert.equal(hashStr(s), hashBytes(padded, 2, bytes.length));
  }
});

Deno.test("hashStr() gives unsigned 32-bit values with every bit in play", () => {
  let ones = 0, flips = 0;
  for (let i = 0; i < 4096; i++) {
    const h = hashStr(`s${i}`);
    assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
    // Top bit on about half the time, and a one-character change flips about half the bits.
    ones += h >>> 31;
    flips += popcount(h ^ hashStr(`s${i + 1}`));
  }
  assert.ok(Math.abs(ones / 4096 - 0.5) < 0.04, `top bit set ${ones}/4096`);
  assert.ok(Math.abs(flips / 4096 - 16) < 0.5, `${flips / 4096} bits flip on average`);
  assert.notEqual(hashStr("\u0100"), hashStr("\u0000"), "non-latin-1 code units are not truncated");
});

Deno.test("hashAddr() hashes an IPv4-mapped IPv6 address as the IPv4 address", () => {
  assert.equal(hashAddr("::ffff:192.0.2.7"), hashAddr("192.0.2.7"));
  assert.equal(hashAddr("::FFFF:192.0.2.7"), hashAddr("192.0.2.7"));
  assert.equal(hashAddr("2001:db8::1"), hashStr("2001:db8::1"));
  assert.notEqual(hashAddr("192.0.2.7"), hashAddr("192.0.2.8"));
});

function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}

// factory

Deno.test("createLb() builds every algorithm in LB_ALGOS under its own name", () => {
  for (const algo of Object.keys(LB_ALGOS)) {
    const lb = createLb({ algo, hdr: "x-user", param: "uid" }, farm([1]));
    assert.equal(lb.name, algo);
    assert.equal(lb.pick(hashStr("k"), null)?.name, "s0");
  }
});

// registry

/** A row's spelling before options: `name`, `name(${string})` or `name ${string}`. */
type BaseSpelling<K extends string, D> = D extends { readonly arg: object } ? `${K}(${string})`
  : D extends { readonly param: object } ? `${K} ${string}`
  : K;
/** The options a row accepts (refused ones are strings, not functions). */
type OptionWords<D> = D extends { readonly options: infer O }
  ? { [W in keyof O]: O[W] extends string ? never : W & string }[keyof O]
  : never;
/** The configuration's spelling of each row, alone and with each option it accepts. */
type RowSpelling = {
  [K in keyof typeof LB_ALGOS]:
    | BaseSpelling<K, typeof LB_ALGOS[K]>
    | `${BaseSpelling<K, typeof LB_ALGOS[K]>} ${OptionWords<typeof LB_ALGOS[K]>}`;
}[keyof typeof LB_ALGOS];
/** True only when A and B are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Fails to compile when the public BalanceAlgo and the registry differ.
const BALANCE_ALGO_MATCHES_REGISTRY: Same<BalanceAlgo, RowSpelling> = true;

Deno.test("BalanceAlgo (the public type) spells exactly the rows of LB_ALGOS", () => {
  assert.equal(BALANCE_ALGO_MATCHES_REGISTRY, true);
});

Deno.test("parseBalance() accepts every row of LB_ALGOS as written in a configuration", () => {
  assert.deepEqual(lbAlgoSyntaxes(), [
    "roundrobin",
    "static-rr",
    "leastconn",
    "first",
    "source",
    "uri",
    "url_param PARAM",
    "random",
    "hdr(NAME)",
  ]);
  for (const algo of Object.keys(LB_ALGOS).filter((a) => a !== "hdr" && a !== "url_param")) {
    assert.deepEqual(parseBalance(algo), { algo });
  }
  assert.deepEqual(parseBalance("hdr(X-User)"), { algo: "hdr", hdr: "x-user" });
  assert.deepEqual(parseBalance("hdr(Host) use_domain_only"), {
    algo: "hdr",
    hdr: "host",
    domainOnly: true,
  });
  assert.deepEqual(parseBalance("url_param userid"), { algo: "url_param", param: "userid" });
});

Deno.test("parseBalance() refuses url_param without a name, check_post, and unknown options", () => {
  assert.equal(parseBalance("url_param"), '"url_param" needs a PARAM (url_param PARAM)');
  assert.equal(parseBalance("url_param a=b"), 'invalid query parameter name "a=b"');
  assert.match(parseBalance("url_param uid check_post") as string, /^"check_post" not supported: /);
  assert.equal(
    parseBalance("url_param uid x"),
    'unexpected word "x" after "url_param" (expected check_post)',
  );
  assert.equal(
    parseBalance("roundrobin x"),
    'unexpected word "x" after "roundrobin" (it takes no option)',
  );
  assert.equal(
    parseBalance("hdr(host) whole"),
    'unexpected word "whole" after "hdr" (expected use_domain_only)',
  );
});

Deno.test("parseBalance() refuses an unknown algorithm and lists the supported ones", () => {
  const expected =
    "expected roundrobin, static-rr, leastconn, first, source, uri, url_param PARAM, random or hdr(NAME)";
  assert.equal(lbAlgoExpected(), expected.slice("expected ".length));
  for (const bad of ["weighted", "URI", "hdr", "roundrobin()", "", "constructor", "hdr(a)(b)"]) {
    assert.equal(parseBalance(bad), `unknown algorithm ${JSON.stringify(bad)} (${expected})`);
  }
});

Deno.test("parseBalance() refuses hdr() without a valid header name, naming it", () => {
  assert.equal(parseBalance("hdr()"), 'invalid header name ""');
  assert.equal(parseBalance("hdr(a b)"), 'invalid header name "a b"');
});

Deno.test("createLb() rejects an unknown algorithm and hdr without a header name", () => {
  assert.throws(() => createLb({ algo: "weighted" }, []), (e: unknown) => {
    assert.ok(e instanceof SluiceError);
    assert.equal(e.code, "ERR_CONFIG");
    assert.match(e.message, /^Unknown balance algorithm "weighted": expected one of roundrobin, /);
    return true;
  });
  assert.throws(() => createLb({ algo: "hdr" }, []), {
    code: "ERR_CONFIG",
    message: 'Balance algorithm "hdr" needs a header name',
  });
});

Deno.test("createLb() rejects servers whose lbIndex is not their position", () => {
  const servers = farm([1, 1]).reverse();
  assert.throws(() => createLb({ algo: "roundrobin" }, servers), {
    name: "RangeError",
    message: 'Server "s1" has lbIndex 1, not 0',
  });
});
