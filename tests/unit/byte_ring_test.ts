/**
 * The shared-memory byte ring of `tls-isolation` (core/byte_ring.ts): wrap
 * around, partial writes and reads, the end flag, the room handshake, and
 * bytes crossing a real thread boundary unchanged.
 */
import assert from "node:assert/strict";
import { ByteRing } from "../../lib/core/byte_ring.ts";

Deno.test("ByteRing: writes what fits, reads in order across the wrap", () => {
  const sab = new SharedArrayBuffer(ByteRing.bytes(8));
  const w = new ByteRing(sab, 0, 8), r = new ByteRing(sab, 0, 8);
  assert.equal(w.write(Uint8Array.of(1, 2, 3, 4, 5, 6)), 6);
  const a = new Uint8Array(4);
  assert.equal(r.read(a), 4);
  assert.deepEqual([...a], [1, 2, 3, 4]);
  // 2 held, 6 of room: this write wraps.
  assert.equal(w.write(Uint8Array.of(7, 8, 9, 10, 11, 12, 13)), 6);
  assert.equal(w.room(), 0);
  const b = new Uint8Array(16);
  assert.equal(r.read(b), 8);
  assert.deepEqual([...b.subarray(0, 8)], [5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(r.read(b), 0);
  assert.throws(() => new ByteRing(sab, 0, 6), /2\^n/);
});

Deno.test("ByteRing: the end comes after the bytes; a full ring's producer is told of room once", () => {
  const sab = new SharedArrayBuffer(ByteRing.bytes(4));
  const ring = new ByteRing(sab, 0, 4);
  ring.write(Uint8Array.of(1, 2, 3, 4));
  assert.equal(ring.block(), false, "still full: wait for the bell");
  ring.finish();
  assert.equal(ring.finished(), true);
  const d = new Uint8Array(2);
  ring.read(d);
  assert.equal(ring.takeBlocked(), true, "the consumer rings");
  assert.equal(ring.takeBlocked(), false, "once");
  assert.equal(ring.avail(), 2, "the end is seen only once the ring is empty");
  // Room appeared before the producer asked: it writes again at once.
  assert.equal(ring.block(), true);
  assert.equal(ring.takeBlocked(), false);
});

Deno.test("ByteRing: 1 MiB through a 4 KiB ring between two threads arrives intact", async () => {
  const cap = 4096;
  const sab = new SharedArrayBuffer(ByteRing.bytes(cap));
  const total = 1 << 20;
  const src = `
    import { ByteRing } from ${
    JSON.stringify(new URL("../../lib/core/byte_ring.ts", import.meta.url).href)
  };
    self.onmessage = (e) => {
      const ring = new ByteRing(e.data, 0, ${cap});
      let sent = 0;
      const chunk = new Uint8Array(1000);
      while (sent < ${total}) {
        const n = Math.min(chunk.length, ${total} - sent);
        for (let i = 0; i < n; i++) chunk[i] = (sent + i) % 253;
        let off = 0;
        while (off < n) off += ring.write(chunk.subarray(off, n));
        sent += n;
      }
      ring.finish();
      self.postMessage("done");
    };`;
  const url = `data:application/typescript,${encodeURIComponent(src)}`;
  const worker = new Worker(url, { type: "module" });
  const done = new Promise((r) => worker.onmessage = r);
  worker.postMessage(sab);
  const ring = new ByteRing(sab, 0, cap);
  const buf = new Uint8Array(777);
  let got = 0, bad = -1;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const fin = ring.finished();
    const n = ring.read(buf);
    for (let i = 0; i < n && bad < 0; i++) if (buf[i] !== (got + i) % 253) bad = got + i;
    got += n;
    if (n === 0 && fin) break;
    if (n === 0) await new Promise((r) => setTimeout(r, 0));
    if (Date.now() > deadline) break;
  }
  await done;
  worker.terminate();
  assert.equal(bad, -1, "every byte in order");
  assert.equal(got, total);
});
