/**
 * TimerHeap: expiry order, eternity, eager moves earlier, lazy moves later,
 * removal from anywhere.
 */
import assert from "node:assert/strict";
import { TICK_ETERNITY } from "../../lib/core/time.ts";
import { Task } from "../../lib/sched/task.ts";
import { TimerHeap } from "../../lib/sched/timer_heap.ts";

/** A task that does nothing; the heap only looks at its timer fields. */
class T extends Task {
  constructor(readonly name: string, expire: number = TICK_ETERNITY) {
    super();
    this.expire = expire;
  }
  process(_now: number): void {}
  crashed(_err: unknown): void {}
}

/** Expires everything up to `now` and returns the names passed, in order. */
function fired(heap: TimerHeap, now: number): string[] {
  const names: string[] = [];
  heap.expire(now, (t) => names.push((t as T).name));
  return names;
}

/** Schedules tasks named after their expiry. */
function add(heap: TimerHeap, ...expires: number[]): T[] {
  return expires.map((e) => {
    const t = new T(`t${e}`, e);
    heap.schedule(t);
    return t;
  });
}

Deno.test("TimerHeap starts empty with eternity as its first key", () => {
  const heap = new TimerHeap();
  assert.equal(heap.size, 0);
  assert.equal(heap.firstKey(), TICK_ETERNITY);
  assert.deepEqual(fired(heap, 1e12), []);
});

Deno.test("TimerHeap.expire() passes tasks in expiry order whatever the insertion order", () => {
  const heap = new TimerHeap();
  add(heap, 50, 10, 40, 30, 20, 70, 60);
  assert.equal(heap.size, 7);
  assert.equal(heap.firstKey(), 10);
  assert.deepEqual(fired(heap, 100), ["t10", "t20", "t30", "t40", "t50", "t60", "t70"]);
  assert.equal(heap.size, 0);
  assert.equal(heap.firstKey(), TICK_ETERNITY);
});

Deno.test("TimerHeap.expire() passes only tasks whose expiry is <= now", () => {
  const heap = new TimerHeap();
  const tasks = add(heap, 5, 10, 15, 20);
  assert.deepEqual(fired(heap, 4), []);
  assert.deepEqual(fired(heap, 10), ["t5", "t10"], "an expiry equal to now is reached");
  assert.equal(heap.size, 2);
  assert.equal(heap.firstKey(), 15);
  assert.equal(tasks[0].heapIndex, -1, "passed tasks are out of the heap");
  assert.ok(tasks[2].heapIndex >= 0);
  assert.deepEqual(fired(heap, 19.5), ["t15"]);
  assert.deepEqual(fired(heap, 20), ["t20"]);
});

Deno.test("TimerHeap.schedule() never queues a task whose expiry is eternity", () => {
  const heap = new TimerHeap();
  const t = new T("never");
  heap.schedule(t);
  assert.equal(heap.size, 0);
  assert.equal(t.heapIndex, -1);
  assert.equal(heap.firstKey(), TICK_ETERNITY);
});

Deno.test("TimerHeap.schedule() with expiry set to eternity removes a queued task", () => {
  const heap = new TimerHeap();
  const [a, b] = add(heap, 10, 20);
  a.expire = TICK_ETERNITY;
  heap.schedule(a);
  assert.equal(heap.size, 1);
  assert.equal(a.heapIndex, -1);
  assert.equal(heap.firstKey(), 20);
  assert.deepEqual(fired(heap, 100), ["t20"]);
  assert.equal(b.heapIndex, -1);
});

Deno.test("TimerHeap.schedule() of a task already queued at the same expiry changes nothing", () => {
  const heap = new TimerHeap();
  const [a] = add(heap, 10, 20);
  heap.schedule(a);
  heap.schedule(a);
  assert.equal(heap.size, 2, "a task is queued at most once");
  assert.deepEqual(fired(heap, 100), ["t10", "t20"]);
});

Deno.test("TimerHeap.schedule() re-sorts a task whose expiry moved earlier", () => {
  const heap = new TimerHeap();
  const tasks = add(heap, 10, 20, 30, 40, 50);
  const t50 = tasks[4];
  t50.expire = 5;
  heap.schedule(t50);
  assert.equal(t50.heapKey, 5);
  assert.equal(heap.firstKey(), 5);
  assert.equal(t50.heapIndex, 0);
  assert.deepEqual(fired(heap, 100), ["t50", "t10", "t20", "t30", "t40"]);
});

Deno.test("TimerHeap moves an expiry later lazily and never fires the task early", () => {
  const heap = new TimerHeap();
  const [a] = add(heap, 10, 20, 30);
  a.expire = 25;
  heap.schedule(a);
  assert.equal(a.heapKey, 10, "the entry keeps its old key");
  assert.equal(a.heapIndex, 0, "and its place");
  assert.equal(heap.firstKey(), 10);

  // At 10 the entry reaches the top: it is re-keyed, not fired.
  assert.deepEqual(fired(heap, 10), []);
  assert.equal(a.heapKey, 25);
  assert.equal(heap.size, 3);
  assert.equal(heap.firstKey(), 20);
  assert.deepEqual(fired(heap, 24), ["t20"]);
  assert.deepEqual(fired(heap, 100), ["t10", "t30"], "fired at its new expiry, 25");
});

Deno.test("TimerHeap.expire() passes a lazily moved task once its new expiry is reached too", () => {
  const heap = new TimerHeap();
  const [a] = add(heap, 10, 12, 14);
  a.expire = 13;
  heap.schedule(a);
  // Both 12 and 13 are due at 14: each is passed exactly once in this call.
  // Their relative order follows the heap keys (10 before 12), as with
  // HAProxy's lazy timers; the guarantee is "never early", not a total order
  // among tasks due in the same call.
  assert.deepEqual(fired(heap, 14).sort(), ["t10", "t12", "t14"]);
  assert.equal(heap.size, 0);
});

Deno.test("TimerHeap.expire() drops a queued task whose expiry became eternity without passing it", () => {
  const heap = new TimerHeap();
  const [a] = add(heap, 10, 20);
  a.expire = TICK_ETERNITY; // changed without schedule(): found stale at the top
  assert.deepEqual(fired(heap, 15), []);
  assert.equal(a.heapIndex, -1);
  assert.equal(heap.size, 1);
  assert.deepEqual(fired(heap, 20), ["t20"]);
});

Deno.test("TimerHeap.remove() from the middle keeps the heap in order", () => {
  const heap = new TimerHeap();
  const expires = [15, 3, 9, 27, 1, 12, 30, 6, 21, 18, 24];
  const tasks = add(heap, ...expires);
  const victims = tasks.filter((t) => t.heapIndex > 0 && t.heapIndex < heap.size - 1);
  assert.ok(victims.length >= 3, "there are tasks in the middle");
  const gone = new Set([victims[0], victims[2]]);
  for (const t of gone) {
    heap.remove(t);
    assert.equal(t.heapIndex, -1);
  }
  assert.equal(heap.size, expires.length - 2);
  const expected = tasks.filter((t) => !gone.has(t)).map((t) => t.expire).sort((x, y) => x - y)
    .map((e) => `t${e}`);
  assert.deepEqual(fired(heap, 100), expected);
});

Deno.test("TimerHeap.remove() of every task in turn, from any position, keeps heapIndex right", () => {
  // For each position, build the same heap, remove the task there, check order.
  const expires = [8, 4, 12, 2, 6, 10, 14, 1, 3, 5, 7];
  for (let pos = 0; pos < expires.length; pos++) {
    const heap = new TimerHeap();
    const tasks = add(heap, ...expires);
    const victim = tasks.find((t) => t.heapIndex === pos)!;
    heap.remove(victim);
    for (const t of tasks) {
      if (t === victim) continue;
      assert.ok(t.heapIndex >= 0 && t.heapIndex < heap.size, `position ${pos}: index in range`);
    }
    const expected = expires.filter((e) => e !== victim.expire).sort((x, y) => x - y)
      .map((e) => `t${e}`);
    assert.deepEqual(fired(heap, 100), expected, `after removing position ${pos}`);
  }
});

Deno.test("TimerHeap.remove() of a task not queued is a no-op", () => {
  const heap = new TimerHeap();
  add(heap, 1, 2);
  const stray = new T("stray", 5);
  heap.remove(stray);
  heap.remove(stray);
  assert.equal(heap.size, 2);
  assert.equal(stray.heapIndex, -1);
  assert.deepEqual(fired(heap, 100), ["t1", "t2"]);
});

Deno.test("TimerHeap.expire() callback may schedule tasks again for a later now", () => {
  const heap = new TimerHeap();
  const tasks = add(heap, 10, 20);
  const names: string[] = [];
  heap.expire(10, (t) => {
    names.push((t as T).name);
    t.expire = 30;
    heap.schedule(t);
  });
  assert.deepEqual(names, ["t10"]);
  assert.equal(tasks[0].heapKey, 30);
  assert.deepEqual(fired(heap, 100), ["t20", "t10"]);
});

Deno.test("TimerHeap keeps order through many random schedules, moves and removals", () => {
  // A seeded LCG keeps the sequence reproducible.
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const heap = new TimerHeap();
  const tasks = Array.from({ length: 200 }, (_, i) => new T(`t${i}`));
  let now = 0;
  for (let step = 0; step < 5000; step++) {
    const t = tasks[Math.floor(rnd() * tasks.length)];
    const op = rnd();
    if (op < 0.6) {
      t.expire = now + 1 + Math.floor(rnd() * 1000);
      heap.schedule(t);
    } else if (op < 0.8) {
      heap.remove(t);
      t.expire = TICK_ETERNITY;
    } else {
      now += Math.floor(rnd() * 50);
      heap.expire(now, (x) => {
        assert.ok(x.expire <= now, "never fired before its expiry");
        x.expire = TICK_ETERNITY;
      });
      for (const x of tasks) {
        if (x.heapIndex >= 0) {
          assert.ok(x.heapKey <= x.expire, "keys are never late");
          assert.ok(x.expire > now, "a due task was left in the heap");
        } else {
          assert.ok(x.expire === TICK_ETERNITY, "a scheduled task was lost");
        }
      }
    }
  }
  // Drain one ms at a time: each task is passed at the first now >= its expiry.
  let drained = 0;
  while (heap.size > 0) {
    const prev = now++;
    heap.expire(now, (x) => {
      assert.ok(x.expire <= now && x.expire > prev, `${(x as T).name} passed at its expiry`);
      x.expire = TICK_ETERNITY;
      drained++;
    });
  }
  assert.ok(drained > 0);
});
