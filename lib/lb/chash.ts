/**
 * Consistent hashing for the hashed algorithms: `source`, `uri`, `url_param` and `hdr`
 * (HAProxy's "hash-type consistent"). The caller hashes the stream's key
 * (client address, URI, header value: see hash.ts) and pick() maps it to a
 * server on a ring of 2^32 positions.
 *
 * Each server owns virtual points at hashStr(name + "#" + i), i = 0, 1, ...,
 * a number proportional to its weight; a key goes to the owner of the first
 * point at or after it, wrapping. A server going down is skipped, not taken
 * off the ring: its keys go to the next servers along the ring and every
 * other key stays where it was, and it gets exactly its keys back when it
 * returns. A weight change rebuilds the ring (on the next pick), and since a
 * server's points are always the first `count` of its sequence, only the
 * points added or removed move keys.
 *
 * Sizing. A server's share of the ring is the sum of its arcs, whose
 * relative spread is about 1/sqrt(points). At 512 points each, equal
 * servers get within ~13% of a fair share for 2 to 100 servers (measured over
 * several naming schemes; 400 points gave up to 16%, and HAProxy's 16 per
 * weight unit leaves some servers 40–100% over at weight 1, the default).
 * So a weight unit is worth POINTS_PER_WEIGHT = 512 points until the ring
 * reaches MAX_POINTS (1024 units: 1000 servers of weight 1 still get 512);
 * past that the points per unit shrink to keep the ring at MAX_POINTS
 * (1000 servers of weight 256: 2 per unit, 524 per server, as even as at
 * weight 1).
 *
 * pick() reads a bucket index (about two points per bucket) instead of
 * binary-searching the ring: ~25 ns whatever the ring size, where the search
 * took 100 to 350 ns, mostly mispredicted branches. A rebuild radix-sorts the
 * ring and indexes it: about 2 ms for 100 servers of weight 1, 20 ms at
 * MAX_POINTS; a server's point positions are hashed once (the first build at
 * MAX_POINTS takes 40–55 ms) and kept. A ring at MAX_POINTS pays the 20 ms on
 * the first pick after a weight change, so slowstart steps on such a backend
 * are best kept a second or more apart.
 *
 * Full servers are not skipped: the backend queues the stream on the
 * server the key maps to, so the key keeps its server (see lb_types.ts).
 *
 * @module
 */
import type { LbAlgo, LbServer } from "./lb_types.ts";
import { hashStr } from "./hash.ts";
import { RoundRobin } from "./roundrobin.ts";

/** Ring points per unit of weight while the ring is below MAX_POINTS. */
export const POINTS_PER_WEIGHT = 512;
/** Largest ring: 4 MiB of keys and owners. */
export const MAX_POINTS = 1 << 19;

/** A consistent-hash ring over a fixed list of servers. */
export class ConsistentHash implements LbAlgo {
  readonly name: string;
  readonly hashed = true;
  readonly #servers: readonly LbServer[];
  /** Weight of each server as the ring was last told by update(). */
  readonly #weight: Float64Array;
  /** Each server's point positions, hashed once, grown on demand. */
  readonly #points: Uint32Array[];
  /** Ring: point positions in ascending order and each point's owner index. */
  #keys: Uint32Array = new Uint32Array(0);
  #owner: Int32Array = new Int32Array(0);
  /**
   * Bucket index over the ring: positions p with p >>> #shift === b have
   * their points at #bucket[b] to #bucket[b + 1] - 1 (see pick()).
   */
  #bucket: Int32Array = new Int32Array(2);
  #shift = 31;
  /** Number of servers with points on the ring. */
  #onRing = 0;
  #dirty = true;
  /** Slow-path walk: #seen[i] === #gen once server i was tried in this walk. */
  readonly #seen: Uint32Array;
  #gen = 0;
  /** Streams without a key (header or parameter absent) go round robin, as in HAProxy. */
  readonly #rr: RoundRobin;

  /**
   * `name` is the configured algorithm ("source", "uri", "hdr");
   * `servers[i].lbIndex` must be `i` and names must be unique.
   */
  constructor(name: string, servers: readonly LbServer[]) {
    this.name = name;
    this.#servers = servers;
    this.#weight = new Float64Array(servers.length);
    this.#points = new Array(servers.length).fill(new Uint32Array(0));
    this.#seen = new Uint32Array(servers.length);
    for (let i = 0; i < servers.length; i++) this.#weight[i] = Math.max(0, servers[i].effWeight);
    this.#rr = new RoundRobin(servers);
  }

  /**
   * Rebuilds the ring on the next pick when the weight changed; up/down is
   * read at pick time, so a state change costs nothing here.
   */
  update(srv: LbServer): void {
    this.#rr.update(srv);
    const w = Math.max(0, srv.effWeight);
    if (this.#weight[srv.lbIndex] !== w) {
      this.#weight[srv.lbIndex] = w;
      this.#dirty = true;
    }
  }

  /** Points on the ring, laying it out first if a weight changed (for tests and stats). */
  get points(): number {
    if (this.#dirty) this.#rebuild();
    return this.#keys.length;
  }

  takeConn(_srv: LbServer): void {}

  dropConn(_srv: LbServer): void {}

  /**
   * The server owning `key` (an unsigned 32-bit hash): the first point at or
   * after it whose server is up and not `avoid`, full or not. `avoid` when it
   * is the only server up; null when none is. `key` -1 (no key): the next
   * server by weighted round robin, up and not full (null when none is).
   */
  pick(key: number, avoid: LbServer | null): LbServer | null {
    if (key < 0) return this.#rr.pick(0, avoid);
    if (this.#dirty) this.#rebuild();
    const keys = this.#keys, n = keys.length;
    if (n === 0) return null;
    key >>>= 0;
    // First point >= key: it is in the key's bucket or is the next bucket's first.
    const b = key >>> this.#shift;
    let j = this.#bucket[b];
    const end = this.#bucket[b + 1];
    while (j < end && keys[j] < key) j++;
    if (j === n) j = 0;
    const s = this.#servers[this.#owner[j]];
    if (s !== avoid && s.lbUp()) return s;
    return this.#walk(j, avoid);
  }

  /**
   * Slow path: walks on from point `j`, trying each server once, until one
   * is up and not `avoid` or all servers on the ring were tried. A server
   * has points all around the ring, so with everything down the walk ends
   * after about n·ln(n) points rather than the whole ring.
   */
  #walk(j: number, avoid: LbServer | null): LbServer | null {
    const owner = this.#owner, n = owner.length, servers = this.#servers, seen = this.#seen;
    if (++this.#gen === 0xffffffff) {
      seen.fill(0);
      this.#gen = 1;
    }
    const gen = this.#gen;
    let tried = 0, avoidOk = false;
    for (let k = 0; k < n && tried < this.#onRing; k++, j++) {
      if (j === n) j = 0;
      const i = owner[j];
      if (seen[i] === gen) continue;
      seen[i] = gen;
      tried++;
      const s = servers[i];
      if (!s.lbUp()) continue;
      if (s !== avoid) return s;
      avoidOk = true;
    }
    return avoidOk ? avoid : null;
  }

  /** Lays out the ring for the recorded weights (see "Sizing" in the module doc). */
  #rebuild(): void {
    this.#dirty = false;
    const weight = this.#weight, n = weight.length;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weight[i];
    const scale = sum > 0 ? Math.min(POINTS_PER_WEIGHT, MAX_POINTS / sum) : 0;
    const counts = new Int32Array(n);
    let total = 0, onRing = 0;
    for (let i = 0; i < n; i++) {
      if (weight[i] <= 0) continue;
      counts[i] = Math.max(1, Math.round(weight[i] * scale));
      total += counts[i];
      onRing++;
    }
    let keys = new Uint32Array(total), owner = new Int32Array(total);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i];
      if (c === 0) continue;
      keys.set(this.#pointsOf(i, c).subarray(0, c), j);
      owner.fill(i, j, j + c);
      j += c;
    }
    [keys, owner] = ringSort(keys, owner);
    this.#keys = keys;
    this.#owner = owner;
    this.#onRing = onRing;
    this.#index(keys);
  }

  /**
   * Builds the bucket index: a power-of-two number of buckets, at least half
   * the number of points, so a bucket holds about two points and pick() finds
   * a key's point with a table read and a short scan instead of a binary
   * search (19 hard-to-predict branches at MAX_POINTS: 3 to 5 times slower).
   * Costs 4 bytes per bucket, at most 2 MiB.
   */
  #index(keys: Uint32Array): void {
    const n = keys.length;
    let bits = 1;
    while (bits < 31 && 2 ** bits < n / 2) bits++;
    const buckets = 2 ** bits, shift = 32 - bits, bucket = new Int32Array(buckets + 1);
    // bucket[b] = points in buckets before b = the first point at or after b << shift.
    for (let j = 0; j < n; j++) bucket[(keys[j] >>> shift) + 1]++;
    for (let b = 0; b < buckets; b++) bucket[b + 1] += bucket[b];
    this.#bucket = bucket;
    this.#shift = shift;
  }

  /** The first `count` point positions of server `i`, hashing the missing ones. */
  #pointsOf(i: number, count: number): Uint32Array {
    const old = this.#points[i];
    if (old.length >= count) return old;
    const pts = new Uint32Array(Math.max(count, old.length * 2));
    pts.set(old);
    const name = this.#servers[i].name;
    for (let k = old.length; k < pts.length; k++) pts[k] = hashStr(name + "#" + k);
    this.#points[i] = pts;
    return pts;
  }
}

/**
 * Sorts ring points by position, owners alongside, and returns the sorted
 * pair (possibly new arrays). An LSD radix sort, three passes of 11 bits
 * (2048 counters stay in L1): O(n), and stable, so equal positions keep the
 * owner order they were laid out in. At 500k points it takes about a quarter
 * of the time of Float64Array.sort() over positions packed with owners.
 */
function ringSort(
  keys: Uint32Array<ArrayBuffer>,
  owner: Int32Array<ArrayBuffer>,
): [Uint32Array<ArrayBuffer>, Int32Array<ArrayBuffer>] {
  const n = keys.length, count = new Int32Array(2048);
  let k2 = new Uint32Array(n), o2 = new Int32Array(n);
  for (let shift = 0; shift < 33; shift += 11) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(keys[i] >>> shift) & 0x7ff]++;
    for (let d = 0, at = 0; d < 2048; d++) {
      const c = count[d];
      count[d] = at;
      at += c;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      const at = count[(k >>> shift) & 0x7ff]++;
      k2[at] = k;
      o2[at] = owner[i];
    }
    [keys, k2] = [k2, keys];
    [owner, o2] = [o2, owner];
  }
  return [keys, owner];
}
