/**
 * The pieces of worker threads that need no socket: shared counts (limits
 * that hold across threads, a dead thread's share taken back), the reply
 * region of the control protocol, and what of a configuration crosses to a
 * worker (log functions as stand-ins, hooks refused as functions, hooks from
 * a module).
 */
import assert from "node:assert/strict";
import { SharedCounts, sharedGet, sharedTryTake } from "../../lib/core/shared_count.ts";
import { ConnLimit } from "../../lib/listener/listener.ts";
import {
  decodeReply,
  encodeReply,
  replyRegion,
  waitReply,
  writeReply,
} from "../../lib/worker/thread_proto.ts";
import {
  functionPath,
  withHooksModule,
  withoutLogFunctions,
  workerLogTargets,
} from "../../lib/worker/thread_config.ts";
import type { SluiceConfig } from "../../mod.ts";

Deno.test("sharedTryTake(): never past the maximum, even with two threads taking at once", async () => {
  const counts = new SharedCounts(["a"]);
  const peak = new SharedArrayBuffer(4);
  const code = `
    import { SharedCounts, sharedTryTake, sharedAdd } from "${new URL(
    "../../lib/core/shared_count.ts",
    import.meta.url,
  )}";
    self.onmessage = (e) => {
      const c = new SharedCounts(["a"], e.data.sab).get("a");
      const peak = new Int32Array(e.data.peak);
      for (let i = 0; i < 200000; i++) {
        if (!sharedTryTake(c, 3)) continue;
        const v = Atomics.load(c.arr, c.i);
        if (v > Atomics.load(peak, 0)) Atomics.store(peak, 0, v);
        sharedAdd(c, -1);
      }
      self.postMessage("done");
    };`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  try {
    await Promise.all(workers.map((w) =>
      new Promise<void>((resolve) => {
        w.onmessage = () => resolve();
        w.postMessage({ sab: counts.sab, peak });
      })
    ));
  } finally {
    for (const w of workers) w.terminate();
    URL.revokeObjectURL(url);
  }
  assert.ok(new Int32Array(peak)[0] <= 3, `peak ${new Int32Array(peak)[0]}`);
  assert.equal(sharedGet(counts.get("a")), 0);
});

Deno.test("SharedCounts.forget(): a dead thread's share of each count is taken back out", () => {
  const shared = new SharedCounts(["x", "y"]);
  const mineA = new SharedArrayBuffer(SharedCounts.bytes(shared.names));
  const mineB = new SharedArrayBuffer(SharedCounts.bytes(shared.names));
  const a = new SharedCounts(shared.names, shared.sab, mineA);
  const b = new SharedCounts(shared.names, shared.sab, mineB);
  assert.ok(sharedTryTake(a.get("x"), 0));
  assert.ok(sharedTryTake(a.get("x"), 0));
  assert.ok(sharedTryTake(b.get("x"), 0));
  assert.ok(sharedTryTake(a.get("y"), 0));
  assert.equal(sharedGet(shared.get("x")), 3);
  shared.forget(mineA);
  assert.equal(sharedGet(shared.get("x")), 1, "b's connection stays counted");
  assert.equal(sharedGet(shared.get("y")), 0);
  assert.deepEqual([...new Int32Array(mineA)], [0, 0]);
});

Deno.test("ConnLimit with a shared count: the maximum applies to every thread's connections", () => {
  const counts = new SharedCounts(["fe"]);
  const one = new ConnLimit(2, counts.get("fe"));
  const two = new ConnLimit(2, counts.get("fe"));
  assert.ok(one.take());
  assert.ok(two.take());
  assert.ok(!one.hasRoom());
  assert.ok(!one.take(), "the other thread holds the second place");
  assert.deepEqual([one.cur, two.cur, one.total], [1, 1, 2]);
  two.give();
  assert.ok(one.take());
  assert.equal(one.peak, 2);
});

Deno.test("reply region: an answer with typed arrays and infinities comes back whole; no answer times out", () => {
  const raw = new Float64Array(896);
  raw[3] = 7;
  raw[895] = 1.5;
  const v = { a: 1, raw, inf: [Infinity, 12], min: -Infinity, s: "x" };
  const back = decodeReply(encodeReply(v)) as typeof v;
  assert.deepEqual(back, v);
  assert.ok(back.raw instanceof Float64Array);
  assert.ok(encodeReply(v).length < 200, "zeros are not written");
  const region = replyRegion();
  writeReply(region, 1, { ok: true });
  assert.deepEqual(waitReply(region, 1, performance.now() + 100), { ok: true });
  assert.equal(waitReply(region, 2, performance.now() + 20), undefined, "question 2 unanswered");
});

Deno.test("log functions cross to workers as stand-ins and come back as posting functions", () => {
  const got: string[] = [];
  const config: SluiceConfig = {
    global: { log: { targets: [{ target: (l) => got.push(`g:${l}`) }, { target: "stdout" }] } },
    frontends: [{
      name: "fe",
      binds: [{ address: "127.0.0.1:0" }],
      log: { targets: [{ target: (l) => got.push(`f:${l}`) }] },
    }],
    backends: [],
  };
  const { config: sent, fns } = withoutLogFunctions(config);
  assert.equal(functionPath(structuredClone(sent)), null);
  assert.equal(fns.length, 2);
  const posted: [number, string][] = [];
  const inWorker = workerLogTargets(structuredClone(sent), (fn, line) => posted.push([fn, line]));
  (inWorker.global!.log!.targets![0].target as (l: string) => void)("one");
  const fe = inWorker.frontends[0].log!.targets![0] as { target: (l: string) => void };
  fe.target("two");
  assert.deepEqual(posted, [[0, "one"], [1, "two"]]);
  for (const [fn, line] of posted) fns[fn](line);
  assert.deepEqual(got, ["g:one", "f:two"]);
  assert.equal(inWorker.global!.log!.targets![1].target, "stdout");
});

Deno.test("functionPath() names a hook function (it cannot cross threads), not a log target", () => {
  const config: SluiceConfig = {
    global: { log: { target: () => {} } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], hooks: { onRequest() {} } }],
    backends: [],
  };
  assert.equal(functionPath(config), "config.frontends[0].hooks.onRequest");
  delete config.frontends[0].hooks;
  assert.equal(functionPath(config), null);
});

Deno.test("withHooksModule(): sets the hooks a module exports; a name the configuration lacks is an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good.ts`;
    await Deno.writeTextFile(good, `export const frontends = { fe: { onRequest() {} } };\n`);
    const bad = `${dir}/bad.ts`;
    await Deno.writeTextFile(bad, `export const backends = { nope: {} };\n`);
    const config: SluiceConfig = {
      frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }] }],
      backends: [],
    };
    const out = await withHooksModule(config, `file://${good}`);
    assert.equal(typeof out.frontends[0].hooks?.onRequest, "function");
    assert.equal(config.frontends[0].hooks, undefined, "the input is not changed");
    await assert.rejects(
      () => withHooksModule(config, `file://${bad}`),
      /names backend "nope", which the configuration does not have/,
    );
    await assert.rejects(
      () => withHooksModule(config, `file://${dir}/missing.ts`),
      /Cannot import/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
