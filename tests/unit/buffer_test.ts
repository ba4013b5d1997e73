/**
 * Buf: the ring buffer's accounting, wrap-around and realign, checked by hand
 * and against a plain array model with a seeded random walk.
 */
import assert from "node:assert/strict";
import { Buf, EMPTY_AREA } from "../../lib/buf/buffer.ts";
import { mulberry32 } from "../helpers/bytes.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A buffer over a fresh area of `size` bytes. */
function newBuf(size: number): Buf {
  const b = new Buf();
  b.attach(new Uint8Array(size));
  return b;
}

/** Receives `text` into the buffer through rcvView()/rcvCommit() (one view). */
function rcv(b: Buf, text: string): number {
  const src = enc.encode(text);
  const view = b.rcvView();
  const n = Math.min(view.length, src.length);
  view.set(src.subarray(0, n));
  b.rcvCommit(n);
  return n;
}

/** Sends everything sndView() offers and returns it as text. */
function snd(b: Buf): string {
  const view = b.sndView();
  const text = dec.decode(view);
  b.sndCommit(view.length);
  return text;
}

/**
 * Builds the wrapped layout used by several tests, in an 8-byte area:
 * head = 6, output "ab" at 6..7, input "cdef" at 0..3, free 4..5.
 */
function wrapped(): Buf {
  const b = newBuf(8);
  assert.equal(rcv(b, "012345ab"), 8);
  b.forward(8);
  b.sndCommit(6); // head at 6, "ab" left as output
  assert.equal(b.head, 6);
  assert.equal(rcv(b, "cdef"), 4);
  return b;
}

Deno.test("Buf starts detached on EMPTY_AREA with nothing held", () => {
  const b = new Buf();
  assert.equal(b.area, EMPTY_AREA);
  assert.equal(b.size, 0);
  assert.equal(b.data, 0);
  assert.equal(b.room(), 0);
  assert.ok(b.isEmpty());
  assert.equal(b.rcvPending, false);
  assert.equal(b.sndPending, 0);
});

Deno.test("Buf.attach() and detach() give and take the storage and reset the positions", () => {
  const area = new Uint8Array(16);
  const b = new Buf();
  b.attach(area);
  assert.equal(b.size, 16);
  assert.equal(b.room(), 16);
  rcv(b, "hello");
  b.forward(2);
  b.sndCommit(1);
  assert.equal(b.detach(), area, "the same area goes back to the pool");
  assert.equal(b.area, EMPTY_AREA);
  assert.deepEqual([b.head, b.out, b.in], [0, 0, 0]);
});

Deno.test("Buf.rcvView() offers the whole area when empty and the room after the data otherwise", () => {
  const b = newBuf(16);
  const v0 = b.rcvView();
  assert.equal(v0.length, 16);
  assert.equal(v0.byteOffset, 0);
  assert.equal(v0.buffer, b.area.buffer, "a view, not a copy");
  rcv(b, "abcde");
  const v1 = b.rcvView();
  assert.equal(v1.byteOffset, 5);
  assert.equal(v1.length, 11);
});

Deno.test("Buf.rcvView() starts over at offset 0 once the buffer is empty", () => {
  const b = newBuf(16);
  rcv(b, "abcdefghij");
  b.forward(10);
  assert.equal(snd(b), "abcdefghij");
  assert.equal(b.head, 10);
  assert.ok(b.isEmpty());
  const v = b.rcvView();
  assert.equal(b.head, 0, "head is reset for the largest contiguous room");
  assert.equal(v.byteOffset, 0);
  assert.equal(v.length, 16);
});

Deno.test("Buf.rcvCommit(), forward() and sndCommit() keep out, in, data and room consistent", () => {
  const b = newBuf(32);
  assert.equal(rcv(b, "0123456789"), 10);
  assert.deepEqual({ out: b.out, in: b.in, data: b.data, room: b.room() }, {
    out: 0,
    in: 10,
    data: 10,
    room: 22,
  });
  b.forward(4);
  assert.deepEqual({ out: b.out, in: b.in, data: b.data, room: b.room() }, {
    out: 4,
    in: 6,
    data: 10,
    room: 22,
  });
  assert.equal(dec.decode(b.sndView()), "0123");
  b.sndCommit(3);
  assert.deepEqual({ head: b.head, out: b.out, in: b.in, data: b.data, room: b.room() }, {
    head: 3,
    out: 1,
    in: 6,
    data: 7,
    room: 25,
  });
  assert.equal(dec.decode(b.sndView()), "3");
  assert.equal(b.inPos(), 4);
  assert.equal(b.inContig(), 6);
  assert.equal(b.isEmpty(), false);
});

Deno.test("Buf.sndView() is empty when nothing is scheduled for output", () => {
  const b = newBuf(16);
  assert.equal(b.sndView().length, 0);
  rcv(b, "input only");
  assert.equal(b.sndView().length, 0, "input is not output until forwarded");
});

Deno.test("Buf wraps received data around the end of the area", () => {
  const b = wrapped();
  assert.deepEqual({ head: b.head, out: b.out, in: b.in, room: b.room() }, {
    head: 6,
    out: 2,
    in: 4,
    room: 2,
  });
  assert.equal(dec.decode(b.area.subarray(0, 4)), "cdef", "input wrapped to the start");
});

Deno.test("Buf.rcvView() with wrapped data returns the gap before head", () => {
  const b = wrapped();
  const v = b.rcvView();
  assert.equal(v.byteOffset, 4);
  assert.equal(v.length, 2);
  assert.equal(rcv(b, "ghXYZ"), 2, "only the gap is offered");
  assert.equal(b.room(), 0);
  assert.equal(b.rcvView().length, 0, "a full buffer offers no room");
});

Deno.test("Buf.rcvView() when the data ends exactly at the area end offers 0..head", () => {
  const b = newBuf(8);
  rcv(b, "01234567");
  b.forward(3);
  b.sndCommit(3); // head 3, 5 bytes of input up to the end
  const v = b.rcvView();
  assert.equal(v.byteOffset, 0);
  assert.equal(v.length, 3);
});

Deno.test("Buf.sndView() returns only the contiguous part of wrapped output", () => {
  const b = wrapped();
  b.forward(4); // output is now "abcdef", from 6 across the end
  assert.equal(b.out, 6);
  assert.equal(snd(b), "ab", "first the part up to the area end");
  assert.equal(b.head, 0, "head wraps to 0");
  assert.equal(snd(b), "cdef", "then the rest from the start");
  assert.ok(b.isEmpty());
});

Deno.test("Buf.inPos() and inContig() locate the input, wrapped or not", () => {
  const b = wrapped();
  assert.equal(b.inPos(), 0, "head 6 + out 2 wraps to 0");
  assert.equal(b.inContig(), 4);

  // Input spanning the end: head 6, no output, input "ab" + "cdef".
  const c = wrapped();
  c.in += c.out; // view all 6 bytes as input for this check
  c.out = 0;
  assert.equal(c.inPos(), 6);
  assert.equal(c.inContig(), 2, "only up to the area end");

  const d = newBuf(8);
  rcv(d, "abc");
  d.forward(1);
  assert.equal(d.inPos(), 1);
  assert.equal(d.inContig(), 2);
});

Deno.test("Buf.realign() makes wrapped data contiguous at 0 and keeps the bytes", () => {
  const b = wrapped();
  b.realign();
  assert.equal(b.head, 0);
  assert.equal(b.out, 2);
  assert.equal(b.in, 4);
  assert.equal(dec.decode(b.area.subarray(0, 6)), "abcdef");
  assert.equal(dec.decode(b.peekOut()), "ab");
  assert.equal(b.inPos(), 2);
  assert.equal(b.inContig(), 4);
  const v = b.rcvView();
  assert.equal(v.byteOffset, 6);
  assert.equal(v.length, 2);
});

Deno.test("Buf.realign() moves unwrapped data at an offset down to 0", () => {
  const b = newBuf(16);
  rcv(b, "xxxxhello world");
  b.forward(6);
  b.sndCommit(4); // head 4, output "he", input "llo world"
  b.realign();
  assert.equal(b.head, 0);
  assert.equal(dec.decode(b.area.subarray(0, 11)), "hello world");
  assert.equal(b.out, 2);
  assert.equal(b.in, 9);
});

Deno.test("Buf.realign() on a full wrapped buffer keeps every byte", () => {
  const b = wrapped();
  rcv(b, "gh");
  assert.equal(b.room(), 0);
  b.realign();
  assert.equal(dec.decode(b.area), "abcdefgh");
  assert.equal(b.head, 0);
  assert.equal(b.data, 8);
});

Deno.test("Buf.realign() with I/O in flight throws and leaves the data alone", () => {
  const b = wrapped();
  b.rcvPending = true;
  assert.throws(() => b.realign(), { message: "Buf.realign() with I/O in flight" });
  b.rcvPending = false;
  b.sndPending = 2;
  assert.throws(() => b.realign(), Error);
  assert.equal(b.head, 6, "nothing moved");
  assert.equal(dec.decode(b.area.subarray(6, 8)), "ab");
  b.sndPending = 0;
  b.realign();
  assert.equal(b.head, 0);
});

Deno.test("Buf.putIn() and peekOut() round-trip bytes across the wrap", () => {
  const b = newBuf(8);
  assert.equal(b.putIn(enc.encode("012345")), 6);
  b.forward(6);
  b.sndCommit(5); // head 5, output "5"
  assert.equal(b.putIn(enc.encode("abcdefghij")), 7, "limited by the room");
  assert.equal(b.room(), 0);
  b.forward(7);
  assert.equal(dec.decode(b.peekOut()), "5abcdefg");
  assert.equal(b.out, 8, "peekOut() does not consume");
  assert.equal(b.putIn(enc.encode("z")), 0, "no room left");
});

Deno.test("Buf.putIn() into an empty buffer restarts at 0", () => {
  const b = newBuf(8);
  b.putIn(enc.encode("abc"));
  b.forward(3);
  b.sndCommit(3);
  assert.equal(b.putIn(enc.encode("12345678")), 8, "the whole area is usable again");
  assert.equal(b.head, 0);
});

for (const seed of [1, 42, 0xdecaf]) {
  Deno.test(`Buf delivers bytes in order through random receive/forward/send steps (seed ${seed})`, () => {
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n); // 0..n-1
    const size = 61; // odd, so wrap points keep moving
    const b = newBuf(size);
    let next = 0; // next byte value to produce (mod 256)
    const sent: number[] = [];
    // The model: bytes in the buffer, oldest first, and how many are output.
    const model: number[] = [];
    let modelOut = 0;
    let produced = 0;
    let wrappedSends = 0; // sends that saw output split by the area end
    let wrappedRcvs = 0; // receives into the gap before head

    for (let step = 0; step < 20_000; step++) {
      const op = int(6);
      if (op <= 1) {
        // Receive through rcvView(): part of the contiguous room.
        const view = b.rcvView();
        assert.ok(view.length <= b.room());
        if (b.room() > 0) assert.ok(view.length > 0, "room exists but no view offered");
        if (b.data > 0 && view.byteOffset < b.head) wrappedRcvs++;
        const n = int(view.length + 1);
        for (let i = 0; i < n; i++) {
          view[i] = next;
          model.push(next);
          next = (next + 1) & 0xff;
          produced++;
        }
        b.rcvCommit(n);
      } else if (op === 2) {
        const n = int(b.in + 1);
        b.forward(n);
        modelOut += n;
      } else if (op === 3) {
        // Send through sndView(): part of the contiguous output.
        const view = b.sndView();
        assert.ok(view.length <= b.out);
        if (b.out > 0) assert.ok(view.length > 0, "output exists but no view offered");
        if (view.length < b.out) wrappedSends++;
        const n = int(view.length + 1);
        for (let i = 0; i < n; i++) {
          const byte = view[i];
          assert.equal(byte, model.shift(), `byte ${sent.length} differs at step ${step}`);
          sent.push(byte);
        }
        modelOut -= n;
        b.sndCommit(n);
      } else if (op === 4) {
        // Analysers look at the input where inPos()/inContig() say it is.
        const pos = b.inPos();
        const contig = b.inContig();
        assert.ok(contig <= b.in);
        if (b.in > 0) assert.ok(contig > 0);
        for (let i = 0; i < contig; i++) {
          assert.equal(b.area[pos + i], model[modelOut + i]);
        }
      } else if (int(8) === 0) {
        b.realign();
        assert.equal(b.head, 0);
        for (let i = 0; i < model.length; i++) assert.equal(b.area[i], model[i]);
      } else {
        assert.deepEqual(Array.from(b.peekOut()), model.slice(0, modelOut));
      }
      assert.equal(b.out, modelOut);
      assert.equal(b.in, model.length - modelOut);
      assert.equal(b.data, model.length);
      assert.equal(b.room(), size - model.length);
      assert.ok(b.head >= 0 && b.head < size);
    }
    // Drain what is left, then check the whole stream.
    b.forward(b.in);
    while (b.out > 0) {
      const view = b.sndView();
      for (const byte of view) sent.push(byte);
      b.sndCommit(view.length);
    }
    assert.equal(sent.length, produced);
    assert.ok(produced > 10_000, "the walk moved a fair amount of data");
    assert.ok(wrappedSends > 100 && wrappedRcvs > 100, "the walk exercised the wrap");
    for (let i = 0; i < sent.length; i++) {
      if (sent[i] !== (i & 0xff)) assert.fail(`byte ${i} is ${sent[i]}, expected ${i & 0xff}`);
    }
  });
}
