/**
 * CheckTask: a real Scheduler checking a real loopback HTTP server with short
 * intervals. The server is stopped and started again on the same port to
 * watch the task take the server down after `fall` failures and up after
 * `rise` successes; passive reports go through the task's next run. Every
 * test stops its task and lets the scheduler go idle, so no timer is left.
 */
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { CheckTask } from "../../lib/check/check_task.ts";
import type { CheckConfig, CheckResult, CheckTransition } from "../../lib/check/check_types.ts";
import { Scheduler } from "../../lib/sched/scheduler.ts";
import { waitFor } from "../helpers/net.ts";

const LOOP = "127.0.0.1";
const enc = new TextEncoder();
const OK = enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

/** An HTTP server answering 200 to every connection; can be restarted on its port. */
class Backend {
  #l: Deno.Listener | null = null;
  #loop: Promise<void> | null = null;
  port = 0;

  start(): this {
    const l = Deno.listen({ hostname: LOOP, port: this.port });
    this.#l = l;
    this.port = (l.addr as Deno.NetAddr).port;
    this.#loop = (async () => {
      const conns: Promise<void>[] = [];
      try {
        for await (const c of l) conns.push(this.#serve(c));
      } catch {
        // Listener closed.
      }
      await Promise.all(conns);
    })();
    return this;
  }

  async #serve(c: Deno.Conn): Promise<void> {
    try {
      const buf = new Uint8Array(4096);
      let head = "";
      while (!head.includes("\r\n\r\n")) {
        const n = await c.read(buf);
        if (n === null) return;
        head += new TextDecoder().decode(buf.subarray(0, n));
      }
      await c.write(OK);
    } catch {
      // The check gave up.
    } finally {
      c.close();
    }
  }

  async stop(): Promise<void> {
    this.#l?.close();
    this.#l = null;
    await this.#loop;
  }
}

/** A target recording every onCheck() call. */
function recorder(port: number) {
  const calls: { r: CheckResult; tr: CheckTransition }[] = [];
  return {
    calls,
    target: {
      name: "be/srv1",
      addr: { kind: "tcp" as const, host: LOOP, port },
      onCheck(r: CheckResult, tr: CheckTransition) {
        calls.push({ r, tr });
      },
    },
    transitions: () => calls.filter((c) => c.tr !== null).map((c) => c.tr),
  };
}

/** Lets any scheduler turn still queued run (setImmediate), then a timer tick. */
async function idle(sched: Scheduler): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(sched.counters().timers, 0, "no task left in the timer heap");
  assert.equal(sched.counters().queued, 0);
}

const FAST: CheckConfig = {
  type: "http",
  inter: 30,
  rise: 2,
  fall: 3,
  timeout: 500,
};

Deno.test("CheckTask keeps a healthy server up, checking every inter", async () => {
  const be = new Backend().start();
  const sched = new Scheduler();
  const rec = recorder(be.port);
  const task = new CheckTask(sched, rec.target, FAST);
  try {
    task.start();
    await waitFor(() => rec.calls.length >= 4, 3000, "4 checks");
    assert.ok(rec.calls.every((c) => c.r.code === "L7OK" && c.tr === null));
    assert.equal(task.up, true);
    const s = task.stats;
    assert.equal(s.health, 4);
    assert.ok(s.checks >= 4);
    assert.equal(s.failed, 0);
    assert.equal(s.last?.reason, "Layer7 check passed");
  } finally {
    await task.stop();
    await be.stop();
    await idle(sched);
  }
});

Deno.test("CheckTask takes a stopped server down after `fall` failures and back up after `rise`", async () => {
  const be = new Backend().start();
  const sched = new Scheduler();
  const rec = recorder(be.port);
  const task = new CheckTask(sched, rec.target, FAST);
  try {
    task.start();
    await waitFor(() => rec.calls.length >= 2, 3000, "first checks");
    await be.stop();
    const before = rec.calls.length;
    await waitFor(() => rec.transitions().includes("down"), 3000, "down");
    const down = rec.calls.findIndex((c) => c.tr === "down");
    // Checks that had started before the stop may still pass: count from the last success.
    const lastOk = rec.calls.findLastIndex((c, i) => i < down && c.r.ok);
    assert.ok(lastOk >= before - 1);
    assert.equal(down - lastOk, FAST.fall, "exactly `fall` consecutive failures");
    const d = rec.calls[down].r;
    assert.equal(d.code, "L4CON");
    assert.equal(d.reason, "Layer4 connection problem");
    assert.equal(d.info, "Connection refused");
    assert.equal(task.up, false);
    assert.equal(task.stats.downs, 1);

    be.start(); // same port
    await waitFor(() => rec.transitions().length === 2, 3000, "up again");
    const up = rec.calls.findIndex((c) => c.tr === "up");
    assert.deepEqual(rec.transitions(), ["down", "up"]);
    const lastFail = rec.calls.findLastIndex((c, i) => i < up && !c.r.ok);
    assert.equal(up - lastFail, FAST.rise, "exactly `rise` consecutive successes");
    assert.equal(rec.calls[up].r.code, "L7OK");
    assert.equal(task.up, true);
  } finally {
    await task.stop();
    await be.stop();
    await idle(sched);
  }
});

Deno.test("CheckTask.stop() aborts a running probe and ignores its result", async () => {
  // A server that accepts and never answers: the probe would wait its 5 s timeout.
  const l = Deno.listen({ hostname: LOOP, port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of l) held.push(c);
    } catch {
      // Closed.
    }
  })();
  const sched = new Scheduler();
  const rec = recorder((l.addr as Deno.NetAddr).port);
  const task = new CheckTask(sched, rec.target, { type: "http", inter: 10, timeout: 5000 });
  try {
    task.start();
    await waitFor(() => task.stats.inProgress && held.length === 1, 3000, "a probe in flight");
    const t0 = performance.now();
    await task.stop();
    assert.ok(performance.now() - t0 < 1000, "stop() did not wait for the timeout");
    assert.equal(task.stats.inProgress, false);
    await idle(sched);
    assert.deepEqual(rec.calls, [], "the aborted probe was not reported");
    // The server sees the check's connection closed.
    const n = await held[0].read(new Uint8Array(4096)).catch(() => null);
    assert.ok(n === null || n > 0); // the request, or EOF
    assert.equal(await held[0].read(new Uint8Array(4096)).catch(() => null), null);
    task.failPassive(); // ignored once stopped
    task.start(); // ignored once stopped
    await idle(sched);
  } finally {
    await task.stop();
    l.close();
    await accepting;
    for (const c of held) c.close();
  }
});

Deno.test("CheckTask.failPassive() counts as failed checks and the down server is checked at downinter", async () => {
  const be = new Backend().start();
  const sched = new Scheduler();
  const rec = recorder(be.port);
  // inter is long: only passive reports and the downinter check can act here.
  const task = new CheckTask(sched, rec.target, {
    type: "http",
    inter: 60_000,
    downinter: 20,
    rise: 1,
    fall: 2,
  });
  try {
    task.start();
    task.failPassive("3 consecutive errors");
    await waitFor(() => rec.calls.length === 1, 1000, "the first report");
    assert.equal(rec.calls[0].tr, null);
    assert.equal(rec.calls[0].r.code, "HANA");
    assert.equal(rec.calls[0].r.reason, "Health analyze");
    assert.equal(rec.calls[0].r.info, "3 consecutive errors");
    assert.equal(task.stats.health, 1);
    task.failPassive();
    await waitFor(() => rec.calls.length === 2, 1000, "the second report");
    assert.equal(rec.calls[1].tr, "down");
    assert.equal(task.stats.failed, 2);
    // Down: the next check comes after downinter (not the 60 s inter) and, with rise 1, brings it up.
    await waitFor(() => rec.calls.length === 3, 2000, "a check at downinter");
    assert.equal(rec.calls[2].r.code, "L7OK");
    assert.equal(rec.calls[2].tr, "up");
  } finally {
    await task.stop();
    await be.stop();
    await idle(sched);
  }
});

Deno.test("CheckTask.forceDown() marks the server down at once, and rise checks bring it back", async () => {
  const be = new Backend().start();
  const sched = new Scheduler();
  const rec = recorder(be.port);
  const task = new CheckTask(sched, rec.target, {
    type: "tcp",
    inter: 60_000,
    fastinter: 20, // coming up is a transition: the second check follows at fastinter
    downinter: 20,
    rise: 2,
    fall: 3,
  });
  try {
    task.start();
    task.forceDown("marked down by the CLI");
    await waitFor(() => rec.calls.length === 1, 1000, "the report");
    assert.equal(rec.calls[0].tr, "down");
    assert.equal(rec.calls[0].r.info, "marked down by the CLI");
    assert.equal(task.stats.health, 0);
    await waitFor(() => rec.transitions().length === 2, 2000, "up again");
    assert.deepEqual(rec.calls.slice(1).map((c) => [c.r.code, c.tr]), [["L4OK", null], [
      "L4OK",
      "up",
    ]]);
  } finally {
    await task.stop();
    await be.stop();
    await idle(sched);
  }
});

Deno.test("CheckTask.setFastinter() brings the next check of an up server closer", async () => {
  const be = new Backend().start();
  const sched = new Scheduler();
  const rec = recorder(be.port);
  const task = new CheckTask(sched, rec.target, { type: "http", inter: 60_000, fastinter: 20 });
  try {
    task.start();
    task.setFastinter();
    await waitFor(() => rec.calls.length === 1, 2000, "a check at fastinter");
    assert.equal(rec.calls[0].r.code, "L7OK");
    assert.equal(task.up, true);
  } finally {
    await task.stop();
    await be.stop();
    await idle(sched);
  }
});

Deno.test("CheckTask can start down and come up after `rise` checks", async () => {
  const be = new Backend().start();
  const sched = new Scheduler();
  const rec = recorder(be.port);
  const task = new CheckTask(sched, rec.target, { ...FAST, rise: 3 }, {
    init: "fully-down",
    rnd: () => 0,
  });
  try {
    assert.equal(task.up, false);
    task.start();
    await waitFor(() => rec.transitions().length === 1, 2000, "up");
    assert.deepEqual(rec.calls.map((c) => c.tr), [null, null, "up"]);
  } finally {
    await task.stop();
    await be.stop();
    await idle(sched);
  }
});

Deno.test("CheckTask rejects a bad configuration when built", () => {
  assert.throws(
    () => new CheckTask(new Scheduler(), recorder(1).target, { type: "http", rise: 0 }),
    /Invalid check rise "0"/,
  );
});
