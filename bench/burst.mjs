// bench/burst.mjs — the start-up stall check: N clients connect at once and
// each sends one request; prints how long until each got its whole response
// (p50, p99, max) and how many were served within the first second. Run with
// Node (its sockets are not the thing measured), pinned away from the proxy:
//
//     taskset -c 0 node bench/burst.mjs 127.0.0.1:8080 [N=1000]
//
// The response is read to its Content-Length (the bench backend's fixed
// 100-byte body); connections are closed at the end.
import net from "node:net";

const [host, port] = (process.argv[2] ?? "127.0.0.1:8080").split(":");
const n = Number(process.argv[3] ?? 1000);
const req = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
const t0 = performance.now();
const done = [];
let failed = 0, open = 0;

await new Promise((resolve) => {
  const finish = () => --open === 0 && resolve();
  for (let i = 0; i < n; i++) {
    open++;
    const s = net.connect({ host, port: Number(port) });
    let got = Buffer.alloc(0), ended = false;
    const end = (ok) => {
      if (ended) return;
      ended = true;
      if (ok) done.push(performance.now() - t0);
      else failed++;
      s.destroy();
      finish();
    };
    s.setTimeout(10_000, () => end(false));
    s.on("connect", () => s.write(req));
    s.on("error", () => end(false));
    s.on("close", () => end(false));
    s.on("data", (d) => {
      got = Buffer.concat([got, d]);
      const head = got.indexOf("\r\n\r\n");
      if (head < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(got.subarray(0, head).toString("latin1"));
      if (m === null || got.length >= head + 4 + Number(m[1])) end(true);
    });
  }
});
done.sort((a, b) => a - b);
const q = (p) => (done.length ? done[Math.min(done.length - 1, Math.floor(p * done.length))] : NaN);
const within = done.filter((t) => t <= 1000).length;
console.log(
  `burst ${n}: served ${done.length}, failed ${failed}, within 1 s ${within}, ` +
    `p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${
      (done.at(-1) ?? NaN).toFixed(0)
    } ms`,
);
