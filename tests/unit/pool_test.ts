/**
 * BufferPool: bounded, reusing, all-or-nothing and FIFO towards waiters.
 */
import assert from "node:assert/strict";
import { BufferPool, type BufWaiter, DEFAULT_BUFSIZE } from "../../lib/core/pool.ts";

/** A waiter that records the areas it is granted and when. */
class Waiter implements BufWaiter {
  readonly areas: Uint8Array[] = [];
  constructor(readonly bufNeed: number, readonly log?: string[], readonly name = "") {}
  bufGranted(area: Uint8Array): void {
    this.areas.push(area);
    this.log?.push(this.name);
  }
}

/** Takes `n` areas with tryGet(), failing the test if one is missing. */
function take(pool: BufferPool, n: number): Uint8Array[] {
  const res: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const a = pool.tryGet();
    assert.ok(a !== null, `area ${i} should be available`);
    res.push(a);
  }
  return res;
}

Deno.test("BufferPool() defaults to 16 KiB areas and a limit of 4096", () => {
  const pool = new BufferPool();
  assert.equal(pool.size, DEFAULT_BUFSIZE);
  assert.equal(pool.size, 16384);
  assert.equal(pool.limit, 4096);
});

Deno.test("BufferPool() rejects an area size below 1024 or not an integer", () => {
  assert.throws(() => new BufferPool(1023, 10), RangeError);
  assert.throws(() => new BufferPool(0, 10), RangeError);
  assert.throws(() => new BufferPool(2048.5, 10), RangeError);
  assert.throws(() => new BufferPool(NaN, 10), RangeError);
  assert.throws(() => new BufferPool(1000, 10), { message: "Buffer size 1000 is below 1024" });
  assert.equal(new BufferPool(1024, 10).size, 1024);
});

Deno.test("BufferPool() rejects a limit below 2 or not an integer", () => {
  assert.throws(() => new BufferPool(1024, 1), RangeError);
  assert.throws(() => new BufferPool(1024, 0), RangeError);
  assert.throws(() => new BufferPool(1024, 2.5), RangeError);
  assert.throws(() => new BufferPool(1024, 1), { message: "Buffer limit 1 is below 2" });
  assert.equal(new BufferPool(1024, 2).limit, 2);
});

Deno.test("BufferPool.tryGet() hands out areas of the pool size until the limit, then null", () => {
  const pool = new BufferPool(1024, 3);
  const areas = take(pool, 3);
  for (const a of areas) {
    assert.ok(a instanceof Uint8Array);
    assert.equal(a.length, 1024);
  }
  assert.equal(new Set(areas).size, 3, "every area is distinct");
  assert.equal(pool.available(), 0);
  assert.equal(pool.tryGet(), null);
  assert.equal(pool.tryGet(), null);
  assert.deepEqual(pool.counters(), {
    inUse: 3,
    free: 0,
    allocated: 3,
    waits: 0,
    waiting: 0,
    limit: 3,
    size: 1024,
  });
});

Deno.test("BufferPool.release() makes the same Uint8Array available again without allocating", () => {
  const pool = new BufferPool(1024, 2);
  const [a, b] = take(pool, 2);
  assert.equal(pool.counters().allocated, 2);
  pool.release(a);
  assert.equal(pool.counters().inUse, 1);
  assert.equal(pool.counters().free, 1);
  const again = pool.tryGet();
  assert.equal(again, a, "the very same object comes back");
  assert.equal(pool.counters().allocated, 2);
  pool.release(b);
  pool.release(again!);
  // Steady state: get/release cycles allocate nothing more.
  for (let i = 0; i < 100; i++) {
    const x = pool.tryGet()!;
    const y = pool.tryGet()!;
    assert.ok(x === a || x === b);
    assert.ok(y === a || y === b);
    pool.release(x);
    pool.release(y);
  }
  assert.deepEqual(pool.counters(), {
    inUse: 0,
    free: 2,
    allocated: 2,
    waits: 0,
    waiting: 0,
    limit: 2,
    size: 1024,
  });
});

Deno.test("BufferPool.available() counts free areas plus those not yet allocated", () => {
  const pool = new BufferPool(1024, 4);
  assert.equal(pool.available(), 4);
  const [a] = take(pool, 2);
  assert.equal(pool.available(), 2);
  pool.release(a);
  assert.equal(pool.available(), 3);
  assert.equal(pool.counters().free, 1);
  assert.equal(pool.counters().allocated, 2);
});

Deno.test("BufferPool.acquire() grants bufNeed areas at once when they are available", () => {
  const pool = new BufferPool(1024, 4);
  const w = new Waiter(2);
  assert.equal(pool.acquire(w), true);
  assert.equal(w.areas.length, 2);
  assert.notEqual(w.areas[0], w.areas[1]);
  assert.equal(pool.counters().inUse, 2);
  assert.equal(pool.counters().waits, 0);
  assert.equal(pool.counters().waiting, 0);
});

Deno.test("BufferPool.acquire() is all-or-nothing: a waiter needing 2 is not served with 1 free", () => {
  const pool = new BufferPool(1024, 3);
  const held = take(pool, 2);
  assert.equal(pool.available(), 1);
  const w = new Waiter(2);
  assert.equal(pool.acquire(w), false);
  assert.equal(w.areas.length, 0, "no partial grant");
  assert.equal(pool.counters().inUse, 2, "the single free area is not taken");
  assert.equal(pool.counters().waiting, 1);
  assert.equal(pool.counters().waits, 1);
  // One more free area makes two: the waiter gets both inside release().
  pool.release(held[0]);
  assert.equal(w.areas.length, 2);
  assert.ok(w.areas.includes(held[0]));
  assert.equal(pool.counters().waiting, 0);
  assert.equal(pool.counters().inUse, 3);
});

Deno.test("BufferPool.release() serves waiters synchronously, in arrival order", () => {
  const pool = new BufferPool(1024, 2);
  const held = take(pool, 2);
  const log: string[] = [];
  const w1 = new Waiter(1, log, "w1");
  const w2 = new Waiter(1, log, "w2");
  const w3 = new Waiter(1, log, "w3");
  assert.equal(pool.acquire(w1), false);
  assert.equal(pool.acquire(w2), false);
  assert.equal(pool.acquire(w3), false);
  assert.equal(pool.counters().waiting, 3);
  assert.equal(pool.counters().waits, 3);

  pool.release(held[0]);
  assert.deepEqual(log, ["w1"], "granted before release() returns");
  assert.equal(w1.areas[0], held[0]);
  pool.release(held[1]);
  assert.deepEqual(log, ["w1", "w2"]);
  pool.release(w1.areas[0]);
  assert.deepEqual(log, ["w1", "w2", "w3"]);
  assert.equal(pool.counters().waiting, 0);
  assert.equal(pool.counters().allocated, 2);
});

Deno.test("BufferPool.release() keeps FIFO: a small waiter does not pass a big one at the head", () => {
  const pool = new BufferPool(1024, 3);
  const held = take(pool, 3);
  const log: string[] = [];
  const big = new Waiter(2, log, "big");
  const small = new Waiter(1, log, "small");
  assert.equal(pool.acquire(big), false);
  assert.equal(pool.acquire(small), false);
  pool.release(held[0]);
  assert.deepEqual(log, [], "one free area: the head needs 2, the next one waits behind it");
  pool.release(held[1]);
  assert.deepEqual(log, ["big", "big"]);
  pool.release(held[2]);
  assert.deepEqual(log, ["big", "big", "small"]);
});

Deno.test("BufferPool.release() serves as many waiters as the freed areas allow", () => {
  const pool = new BufferPool(1024, 2);
  const w = new Waiter(2);
  assert.equal(pool.acquire(w), true);
  const log: string[] = [];
  const a = new Waiter(1, log, "a");
  const b = new Waiter(1, log, "b");
  pool.acquire(a);
  pool.acquire(b);
  pool.release(w.areas[0]);
  pool.release(w.areas[1]);
  assert.deepEqual(log, ["a", "b"]);
  assert.equal(pool.counters().waiting, 0);
});

Deno.test("BufferPool.tryGet() returns null while someone waits: newcomers do not overtake", () => {
  const pool = new BufferPool(1024, 3);
  const held = take(pool, 2);
  const w = new Waiter(2);
  assert.equal(pool.acquire(w), false);
  assert.equal(pool.available(), 1);
  assert.equal(pool.tryGet(), null, "one area is free but a waiter is first");
  assert.equal(pool.counters().inUse, 2);
  // A newcomer using acquire() also queues behind, even for a need it could meet.
  const newcomer = new Waiter(1);
  assert.equal(pool.acquire(newcomer), false);
  assert.equal(newcomer.areas.length, 0);
  assert.equal(pool.counters().waiting, 2);
  pool.release(held[0]);
  assert.equal(w.areas.length, 2);
  assert.equal(newcomer.areas.length, 0, "nothing left for the second waiter yet");
  pool.release(held[1]);
  assert.equal(newcomer.areas.length, 1);
  assert.equal(pool.counters().waiting, 0);
  assert.equal(pool.counters().waits, 2);
});

Deno.test("BufferPool.cancel() removes a waiter so it is never granted anything", () => {
  const pool = new BufferPool(1024, 2);
  const held = take(pool, 2);
  const log: string[] = [];
  const gone = new Waiter(1, log, "gone");
  const stays = new Waiter(1, log, "stays");
  pool.acquire(gone);
  pool.acquire(stays);
  assert.equal(pool.counters().waiting, 2);
  pool.cancel(gone);
  assert.equal(pool.counters().waiting, 1);
  assert.equal(
    pool.counters().waits,
    2,
    "waits counts requests that had to wait, not current ones",
  );
  pool.release(held[0]);
  assert.deepEqual(log, ["stays"]);
  // With nobody waiting, the freed area goes to the free list.
  pool.release(held[1]);
  assert.equal(pool.counters().free, 1);
  assert.deepEqual(log, ["stays"]);
});

Deno.test("BufferPool.cancel() of an unknown waiter is a no-op", () => {
  const pool = new BufferPool(1024, 2);
  const held = take(pool, 2);
  const w = new Waiter(1);
  pool.acquire(w);
  pool.cancel(new Waiter(1));
  assert.equal(pool.counters().waiting, 1);
  pool.cancel(w);
  pool.cancel(w);
  assert.equal(pool.counters().waiting, 0);
  pool.release(held[0]);
  assert.equal(w.areas.length, 0);
  assert.equal(pool.tryGet(), held[0], "after cancel, tryGet() works again");
});

Deno.test("BufferPool.counters() tracks inUse, free, allocated, waits and waiting together", () => {
  const pool = new BufferPool(2048, 4);
  const c0 = pool.counters();
  assert.deepEqual(c0, {
    inUse: 0,
    free: 0,
    allocated: 0,
    waits: 0,
    waiting: 0,
    limit: 4,
    size: 2048,
  });
  const a = new Waiter(3);
  assert.equal(pool.acquire(a), true);
  const b = new Waiter(2);
  assert.equal(pool.acquire(b), false);
  assert.deepEqual(pool.counters(), {
    inUse: 3,
    free: 0,
    allocated: 3,
    waits: 1,
    waiting: 1,
    limit: 4,
    size: 2048,
  });
  pool.release(a.areas[0]); // 1 free + 1 unallocated = 2: b is served
  assert.deepEqual(pool.counters(), {
    inUse: 4,
    free: 0,
    allocated: 4,
    waits: 1,
    waiting: 0,
    limit: 4,
    size: 2048,
  });
  for (const x of [a.areas[1], a.areas[2], ...b.areas]) pool.release(x);
  assert.deepEqual(pool.counters(), {
    inUse: 0,
    free: 4,
    allocated: 4,
    waits: 1,
    waiting: 0,
    limit: 4,
    size: 2048,
  });
});

Deno.test({
  name: "BufferPool.cancel() of the head waiter lets the waiters behind take the free areas",
  // unlike release() it does not serve the waiters that now fit. The area
  // stays free while the next waiter waits, and tryGet() keeps returning null
  // for everyone, until some unrelated release() happens (possibly never, if
  // the holders are long-lived tunnels).
  fn() {
    const pool = new BufferPool(1024, 2);
    const [held] = take(pool, 1);
    const big = new Waiter(2); // 1 area free: must wait
    const small = new Waiter(1); // queued behind big
    assert.equal(pool.acquire(big), false);
    assert.equal(pool.acquire(small), false);
    pool.cancel(big);
    assert.equal(small.areas.length, 1, "the free area goes to the next waiter");
    assert.equal(pool.counters().waiting, 0);
    pool.release(held);
    pool.release(small.areas[0]);
  },
});
