/**
 * Two instances of one configuration (as two worker threads would be)
 * serve requests over loopback; their `stats({ raw: true })` merged by
 * mergeInstanceStats() count every request exactly once, and the merged
 * latency histogram holds every request.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/cfg/config_load.ts";
import { Instance } from "../../lib/worker/instance.ts";
import { mergeInstanceStats } from "../../lib/stats/stats_merge.ts";
import { farm, request } from "../helpers/http_farm.ts";
import { waitFor } from "../helpers/net.ts";

Deno.test("merged stats of two instances count the requests each served exactly", async () => {
  await using servers = farm(2);
  const text = [
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 5s",
    "  timeout server 5s",
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "backend be",
    "  balance roundrobin",
    ...servers.map((s) => `  server ${s.name} ${s.address}`),
  ].join("\n");
  const insts = [0, 1].map(() => {
    const { resolved, errors } = loadConfig([{ file: "t.cfg", text }], { env: {} });
    assert.deepEqual(errors, []);
    return new Instance(resolved!);
  });
  try {
    for (const i of insts) await i.start();
    const sent = [5, 3];
    for (const [k, inst] of insts.entries()) {
      for (let n = 0; n < sent[k]; n++) {
        assert.equal((await request(inst.addresses()[0].port, `/r${k}-${n}`)).status, 200);
      }
    }
    // A stream's counters and latency are final when it ends, just after the client saw the close.
    const merged = () => mergeInstanceStats(insts.map((i) => i.stats({ raw: true })));
    await waitFor(
      () => merged().frontends[0].lat!.total.count === 8 && merged().frontends[0].scur === 0,
      5000,
      "8 requests recorded and ended",
    );
    const m = merged();
    const fe = m.frontends[0];
    assert.deepEqual([fe.stot, fe.req_tot, fe.hrsp_2xx, fe.scur], [8, 8, 8, 0]);
    const be = m.backends[0];
    assert.deepEqual([be.stot, be.hrsp_2xx, be.lat!.total.count, be.lat!.response.count], [
      8,
      8,
      8,
      8,
    ]);
    // Each server's merged count is what it saw; the two add up to every request.
    for (const [j, s] of be.servers.entries()) {
      assert.equal(s.stot, servers[j].heads.length, s.name);
    }
    assert.equal(be.servers[0].stot + be.servers[1].stot, 8);
    // The merged histogram is the one of all samples: its max is the largest of the parts'.
    const parts = insts.map((i) => i.stats().frontends[0].lat!.total);
    assert.equal(fe.lat!.total.max, Math.max(...parts.map((p) => p.max)));
    assert.equal(fe.lat!.total.buckets.at(-1)![1], 8);
  } finally {
    await Promise.all(insts.map((i) => i.close()));
  }
});
