/**
 * Server: which traffic a server may take in each admin state (ready, drain,
 * maint) and operational state (up, down), its connection and queue limits,
 * the slowstart ramp of its effective weight, and its status word.
 */
import assert from "node:assert/strict";
import { Pend } from "../../lib/backend/queue.ts";
import {
  Server,
  SRV_ADMIN_DRAIN,
  SRV_ADMIN_MAINT,
  SRV_ADMIN_NAMES,
  SRV_ADMIN_READY,
} from "../../lib/backend/server.ts";

const ADDR = { kind: "tcp", host: "127.0.0.1", port: 9000 } as const;
const LAYERS = { xprt: {} as never, hs: null };

interface Opts {
  weight?: number;
  maxconn?: number;
  maxqueue?: number;
  slowstart?: number;
  backup?: boolean;
  cookie?: string;
}

function server(opts: Opts = {}, name = "s1"): Server {
  return new Server(name, ADDR, 0, LAYERS, {
    weight: opts.weight ?? 1,
    maxconn: opts.maxconn ?? 0,
    maxqueue: opts.maxqueue,
    slowstart: opts.slowstart,
    backup: opts.backup,
    cookie: opts.cookie,
  });
}

Deno.test("Server starts ready and up, with the configured weight and defaults", () => {
  const s = server({ weight: 7, maxconn: 3 });
  assert.equal(s.name, "s1");
  assert.deepEqual(s.addr, ADDR);
  assert.equal(s.admin, SRV_ADMIN_READY);
  assert.equal(s.opUp, true);
  assert.equal(s.uweight, 7);
  assert.equal(s.effWeight, 7);
  assert.equal(s.maxconn, 3);
  assert.equal(s.maxqueue, 0);
  assert.equal(s.backup, false);
  assert.equal(s.slowstart, 0);
  assert.equal(s.cookie, "s1", "the cookie defaults to the name");
  assert.equal(s.observe, null);
  assert.equal(s.cur, 0);
  assert.equal(s.queue.length, 0);
  assert.equal(s.status(), "UP");
  assert.equal(server({ cookie: "c9" }).cookie, "c9");
  assert.equal(server({ backup: true }).backup, true);
});

Deno.test("SRV_ADMIN_NAMES are indexed by the SRV_ADMIN_* states", () => {
  assert.equal(SRV_ADMIN_NAMES[SRV_ADMIN_READY], "ready");
  assert.equal(SRV_ADMIN_NAMES[SRV_ADMIN_DRAIN], "drain");
  assert.equal(SRV_ADMIN_NAMES[SRV_ADMIN_MAINT], "maint");
});

/** [admin, opUp, lbUp, stickyUp, status] for a server of weight 1. */
const STATES: [number, boolean, boolean, boolean, string][] = [
  [SRV_ADMIN_READY, true, true, true, "UP"],
  [SRV_ADMIN_READY, false, false, false, "DOWN"],
  [SRV_ADMIN_DRAIN, true, false, true, "DRAIN"],
  [SRV_ADMIN_DRAIN, false, false, false, "DOWN"],
  [SRV_ADMIN_MAINT, true, false, false, "MAINT"],
  [SRV_ADMIN_MAINT, false, false, false, "MAINT"],
];

Deno.test("Server.lbUp(), stickyUp() and status() in every admin and operational state", () => {
  for (const [admin, opUp, lbUp, stickyUp, status] of STATES) {
    const s = server();
    s.admin = admin;
    s.opUp = opUp;
    const what = `${SRV_ADMIN_NAMES[admin]}/${opUp ? "up" : "down"}`;
    assert.equal(s.lbUp(), lbUp, `lbUp ${what}`);
    assert.equal(s.stickyUp(), stickyUp, `stickyUp ${what}`);
    assert.equal(s.status(), status, `status ${what}`);
  }
});

Deno.test("Server with effective weight 0 takes no new traffic but still sticky traffic", () => {
  const s = server({ weight: 0 });
  assert.equal(s.lbUp(), false);
  assert.equal(s.stickyUp(), true);
  assert.equal(s.status(), "UP", "weight does not change the status word");
  const s2 = server({ weight: 5 });
  s2.effWeight = 0; // e.g. set at run time
  assert.equal(s2.lbUp(), false);
  assert.equal(s2.stickyUp(), true);
});

Deno.test("Server.hasSlot(): always with maxconn 0, otherwise while cur < maxconn", () => {
  for (const [admin, opUp] of STATES) {
    const s = server({ maxconn: 0 });
    s.admin = admin;
    s.opUp = opUp;
    s.curLocal = 1_000_000;
    assert.equal(s.hasSlot(), true, "no limit, whatever the state");
  }
  const s = server({ maxconn: 2 });
  assert.equal(s.hasSlot(), true);
  s.curLocal = 1;
  assert.equal(s.hasSlot(), true);
  s.curLocal = 2;
  assert.equal(s.hasSlot(), false);
  s.maxconn = 3; // raised at run time
  assert.equal(s.hasSlot(), true);
  // The limit does not depend on the state either.
  for (const [admin, opUp] of STATES) {
    s.admin = admin;
    s.opUp = opUp;
    s.curLocal = 3;
    assert.equal(s.hasSlot(), false);
    s.curLocal = 2;
    assert.equal(s.hasSlot(), true);
  }
});

Deno.test("Server.queueRoom(): always with maxqueue 0, otherwise while the queue is shorter", () => {
  const unlimited = server();
  for (let i = 0; i < 50; i++) unlimited.queue.push(new Pend({} as never, i));
  assert.equal(unlimited.queueRoom(), true);

  const s = server({ maxqueue: 2 });
  assert.equal(s.maxqueue, 2);
  assert.equal(s.queueRoom(), true);
  const a = new Pend({} as never, 0);
  s.queue.push(a);
  assert.equal(s.queueRoom(), true);
  s.queue.push(new Pend({} as never, 1));
  assert.equal(s.queueRoom(), false, "2 waiting of 2");
  s.queue.remove(a);
  assert.equal(s.queueRoom(), true, "room again once one leaves");
  for (const [admin, opUp] of STATES) {
    s.admin = admin;
    s.opUp = opUp;
    assert.equal(s.queueRoom(), true, "the state does not matter");
  }
});

Deno.test("Server.rampWeight() without slowstart gives the full weight at once", () => {
  const s = server({ weight: 10 });
  s.lastChange = 1000;
  assert.equal(s.rampWeight(1000), false);
  assert.equal(s.effWeight, 10);
  s.uweight = 4; // weight changed at run time
  assert.equal(s.rampWeight(1001), false);
  assert.equal(s.effWeight, 4);
});

Deno.test("Server.rampWeight() ramps up from lastChange over slowstart", () => {
  const s = server({ weight: 100, slowstart: 1000 });
  s.lastChange = 5000;
  const seen: number[] = [];
  for (const t of [0, 1, 100, 250, 500, 750, 990]) {
    assert.equal(s.rampWeight(5000 + t), true, `still ramping at +${t}`);
    seen.push(s.effWeight);
  }
  // Proportional to the time elapsed, never below 1/16 of the weight.
  assert.deepEqual(seen, [6.25, 6.25, 10, 25, 50, 75, 99]);
  assert.equal(s.rampWeight(6000), false, "done at lastChange + slowstart");
  assert.equal(s.effWeight, 100);
  assert.equal(s.rampWeight(60_000), false);
  assert.equal(s.effWeight, 100);
});

Deno.test("Server.rampWeight() ramps every weight, even 1, never 0 and never above the weight", () => {
  for (const w of [1, 2, 3, 7, 256]) {
    const s = server({ weight: w, slowstart: 10_000 });
    s.lastChange = 0;
    let last = 0;
    assert.equal(s.rampWeight(0), true, `weight ${w} ramps`);
    assert.equal(s.effWeight, w / 16, `weight ${w} starts at 1/16`);
    for (let t = 0; t < 10_000; t += 37) {
      s.rampWeight(t);
      assert.ok(s.effWeight > 0, `weight ${w} at ${t}: ${s.effWeight} > 0`);
      assert.ok(s.effWeight <= w, `weight ${w} at ${t}: ${s.effWeight} <= ${w}`);
      assert.ok(s.effWeight >= last, "it never goes down");
      last = s.effWeight;
    }
    assert.equal(s.rampWeight(10_000), false);
    assert.equal(s.effWeight, w, `weight ${w} reached at the end`);
  }
});

Deno.test("Server.rampWeight() keeps weight 0 at 0 and does not ramp", () => {
  const s = server({ weight: 0, slowstart: 1000 });
  s.lastChange = 0;
  for (const t of [0, 1, 500, 999, 1000, 5000]) {
    assert.equal(s.rampWeight(t), false, `at ${t}`);
    assert.equal(s.effWeight, 0, `at ${t}`);
  }
  assert.equal(s.lbUp(), false);
});

Deno.test("Server.rampWeight() gives the full weight to a server that is down or not ready", () => {
  for (
    const [admin, opUp] of [[SRV_ADMIN_READY, false], [SRV_ADMIN_DRAIN, true], [
      SRV_ADMIN_MAINT,
      true,
    ]] as const
  ) {
    const s = server({ weight: 50, slowstart: 1000 });
    s.lastChange = 0;
    s.admin = admin;
    s.opUp = opUp;
    assert.equal(s.rampWeight(100), false);
    assert.equal(s.effWeight, 50);
  }
});

Deno.test("Server.rampWeight() restarts from a new lastChange", () => {
  const s = server({ weight: 10, slowstart: 1000 });
  s.lastChange = 0;
  s.rampWeight(2000);
  assert.equal(s.effWeight, 10);
  s.lastChange = 3000; // came back up again
  assert.equal(s.rampWeight(3100), true);
  assert.equal(s.effWeight, 1);
  assert.equal(s.rampWeight(3500), true);
  assert.equal(s.effWeight, 5);
});

Deno.test("Server.rampWeight() follows a weight changed during the ramp", () => {
  const s = server({ weight: 10, slowstart: 1000 });
  s.lastChange = 0;
  s.rampWeight(500);
  assert.equal(s.effWeight, 5);
  s.uweight = 100;
  assert.equal(s.rampWeight(500), true);
  assert.equal(s.effWeight, 50);
  s.uweight = 0;
  assert.equal(s.rampWeight(600), false);
  assert.equal(s.effWeight, 0);
});

Deno.test("Server.status() shows a ramping server as UP", () => {
  const s = server({ weight: 10, slowstart: 1000 });
  s.lastChange = 0;
  s.rampWeight(10);
  assert.ok(s.effWeight < s.uweight);
  assert.equal(s.status(), "UP");
  assert.equal(s.lbUp(), true);
});
