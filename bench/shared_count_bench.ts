/**
 * What sharing a limit between worker threads costs (lib/core/shared_count.ts):
 * taking and giving back a connection place in a ConnLimit kept by this
 * thread alone, against one whose count lives in a SharedArrayBuffer
 * (Atomics compare-and-swap), uncontended.
 *
 *     deno bench bench/shared_count_bench.ts
 */
import { ConnLimit } from "../lib/listener/listener.ts";
import { SharedCounts } from "../lib/core/shared_count.ts";

const local = new ConnLimit(1000);
const counts = new SharedCounts(["fe"], undefined, new SharedArrayBuffer(4));
const shared = new ConnLimit(1000, counts.get("fe"));

Deno.bench("ConnLimit take + give, one thread", { group: "limit", baseline: true }, () => {
  local.take();
  local.give();
});

Deno.bench("ConnLimit take + give, shared with other threads", { group: "limit" }, () => {
  shared.take();
  shared.give();
});
