/**
 * PendQueue: the FIFO of streams waiting for a server slot. Entries leave in
 * arrival order, any entry can leave from the head, the middle or the tail
 * in O(1), and an entry that left knows it is in no queue.
 */
import assert from "node:assert/strict";
import { Pend, PendQueue } from "../../lib/backend/queue.ts";

/** A stand-in stream: the queue only stores it. */
function strm(id: string): never {
  return { id } as never;
}

/** The id of the stand-in stream of `p`. */
function idOf(p: Pend): string {
  return (p.strm as unknown as { id: string }).id;
}

/** The ids of the streams in `q`, walking from the head. */
function ids(q: PendQueue): string[] {
  const out: string[] = [];
  for (let p = q.peek(); p !== null; p = p.next) out.push(idOf(p));
  return out;
}

/** The ids walking back from the tail (checks the prev links). */
function idsBackward(q: PendQueue): string[] {
  let p = q.peek();
  while (p !== null && p.next !== null) p = p.next;
  const out: string[] = [];
  for (; p !== null; p = p.prev) out.push(idOf(p));
  return out;
}

/** A queue holding entries a, b, c, ... (one per id), and those entries. */
function filled(...names: string[]): { q: PendQueue; ps: Pend[] } {
  const q = new PendQueue();
  const ps = names.map((n, i) => new Pend(strm(n), i * 10));
  for (const p of ps) q.push(p);
  return { q, ps };
}

Deno.test("PendQueue starts empty: length 0, peek and shift give null", () => {
  const q = new PendQueue();
  assert.equal(q.length, 0);
  assert.equal(q.peek(), null);
  assert.equal(q.shift(), null);
  assert.equal(q.length, 0, "shift on an empty queue leaves the length at 0");
});

Deno.test("Pend keeps its stream and queue time and starts out of any queue", () => {
  const s = strm("a");
  const p = new Pend(s, 1234.5);
  assert.equal(p.strm, s);
  assert.equal(p.since, 1234.5);
  assert.equal(p.queue, null);
  assert.equal(p.prev, null);
  assert.equal(p.next, null);
});

Deno.test("PendQueue.push() appends in order and sets the entry's queue", () => {
  const { q, ps } = filled("a", "b", "c");
  assert.equal(q.length, 3);
  assert.deepEqual(ids(q), ["a", "b", "c"]);
  assert.deepEqual(idsBackward(q), ["c", "b", "a"]);
  for (const p of ps) assert.equal(p.queue, q);
  assert.equal(q.peek(), ps[0]);
});

Deno.test("PendQueue.shift() returns entries first in, first out", () => {
  const { q, ps } = filled("a", "b", "c");
  assert.equal(q.shift(), ps[0]);
  assert.equal(q.length, 2);
  assert.equal(q.shift(), ps[1]);
  q.push(ps[0]); // a comes back at the end
  assert.deepEqual(ids(q), ["c", "a"]);
  assert.equal(q.shift(), ps[2]);
  assert.equal(q.shift(), ps[0]);
  assert.equal(q.shift(), null);
  assert.equal(q.length, 0);
});

Deno.test("PendQueue.shift() takes the entry out: queue null, links cleared", () => {
  const { q, ps } = filled("a", "b");
  const p = q.shift()!;
  assert.equal(p, ps[0]);
  assert.equal(p.queue, null);
  assert.equal(p.next, null);
  assert.equal(p.prev, null);
  assert.equal(ps[1].prev, null, "the new head has no predecessor");
  assert.equal(q.peek(), ps[1]);
});

Deno.test("PendQueue.remove() takes out the head", () => {
  const { q, ps } = filled("a", "b", "c");
  q.remove(ps[0]);
  assert.equal(q.length, 2);
  assert.deepEqual(ids(q), ["b", "c"]);
  assert.deepEqual(idsBackward(q), ["c", "b"]);
  assert.equal(q.peek(), ps[1]);
  assert.equal(ps[0].queue, null);
});

Deno.test("PendQueue.remove() takes out an entry in the middle", () => {
  const { q, ps } = filled("a", "b", "c", "d");
  q.remove(ps[2]);
  q.remove(ps[1]);
  assert.equal(q.length, 2);
  assert.deepEqual(ids(q), ["a", "d"]);
  assert.deepEqual(idsBackward(q), ["d", "a"]);
  assert.equal(ps[1].queue, null);
  assert.equal(ps[2].queue, null);
  assert.equal(ps[1].next, null);
  assert.equal(ps[2].prev, null);
});

Deno.test("PendQueue.remove() takes out the tail, and a later push goes after the new tail", () => {
  const { q, ps } = filled("a", "b", "c");
  q.remove(ps[2]);
  assert.deepEqual(ids(q), ["a", "b"]);
  assert.equal(ps[1].next, null, "b is the tail now");
  const e = new Pend(strm("e"), 99);
  q.push(e);
  assert.deepEqual(ids(q), ["a", "b", "e"]);
  assert.deepEqual(idsBackward(q), ["e", "b", "a"]);
  assert.equal(q.length, 3);
});

Deno.test("PendQueue.remove() of the only entry empties the queue", () => {
  const { q, ps } = filled("a");
  q.remove(ps[0]);
  assert.equal(q.length, 0);
  assert.equal(q.peek(), null);
  assert.equal(q.shift(), null);
  assert.equal(ps[0].queue, null);
  // The emptied queue works as new.
  q.push(ps[0]);
  assert.equal(q.peek(), ps[0]);
  assert.equal(ps[0].queue, q);
  assert.equal(q.length, 1);
});

Deno.test("PendQueue: an entry removed from one queue can join another", () => {
  const { q: srvQ, ps } = filled("a", "b");
  const beQ = new PendQueue();
  // Like a server going down: its waiting streams move to the backend queue.
  for (let p = srvQ.shift(); p !== null; p = srvQ.shift()) beQ.push(p);
  assert.equal(srvQ.length, 0);
  assert.deepEqual(ids(beQ), ["a", "b"]);
  assert.equal(ps[0].queue, beQ);
  assert.equal(ps[1].queue, beQ);
  // `p.queue?.remove(p)` is how a stream leaves whichever queue it is in.
  ps[1].queue?.remove(ps[1]);
  assert.deepEqual(ids(beQ), ["a"]);
  assert.equal(ps[1].queue, null);
});

Deno.test("PendQueue keeps order and length through many mixed operations", () => {
  const q = new PendQueue();
  const model: Pend[] = [];
  let n = 0;
  // A fixed pseudo-random sequence: same run every time.
  let seed = 12345;
  const rnd = (k: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % k;
  };
  for (let i = 0; i < 2000; i++) {
    const op = rnd(3);
    if (op === 0 || model.length === 0) {
      const p = new Pend(strm(`s${n++}`), i);
      q.push(p);
      model.push(p);
    } else if (op === 1) {
      assert.equal(q.shift(), model.shift());
    } else {
      const [p] = model.splice(rnd(model.length), 1);
      q.remove(p);
      assert.equal(p.queue, null);
    }
    assert.equal(q.length, model.length);
    assert.equal(q.peek(), model[0] ?? null);
  }
  assert.deepEqual(ids(q), model.map((p) => idOf(p)));
  assert.deepEqual(idsBackward(q), ids(q).reverse());
});

Deno.test("PendQueue.insertBySince() keeps arrival order when streams move between queues", () => {
  const q = new PendQueue();
  for (const [id, since] of [["b", 20], ["d", 40]] as const) q.push(new Pend(strm(id), since));
  q.insertBySince(new Pend(strm("a"), 10)); // before everything
  q.insertBySince(new Pend(strm("c"), 30)); // in the middle
  q.insertBySince(new Pend(strm("e"), 50)); // at the end
  q.insertBySince(new Pend(strm("c2"), 30)); // same time: after the one already there
  assert.deepEqual(ids(q), ["a", "b", "c", "c2", "d", "e"]);
  assert.deepEqual(idsBackward(q), ["e", "d", "c2", "c", "b", "a"]);
  assert.equal(q.length, 6);
  const empty = new PendQueue();
  empty.insertBySince(new Pend(strm("x"), 5));
  assert.deepEqual(ids(empty), ["x"]);
});
