/**
 * Channels: forwarding accounting, shutdown requests, erase, and the CF_*
 * flag decoder.
 */
import assert from "node:assert/strict";
import {
  Channel,
  chnErase,
  chnForward,
  chnIsClosed,
  chnRcvd,
  chnShutrNow,
  chnShutwNow,
} from "../../lib/buf/channel.ts";
import {
  CF_AUTO_CLOSE,
  CF_EOI,
  CF_FLAG_NAMES,
  CF_MASK_EVENTS,
  CF_READ_ACTIVITY,
  CF_READ_ERROR,
  CF_READ_NULL,
  CF_READ_PARTIAL,
  CF_READ_TIMEOUT,
  CF_SHUTR,
  CF_SHUTR_NOW,
  CF_SHUTW,
  CF_SHUTW_NOW,
  CF_WRITE_ACTIVITY,
  CF_WRITE_ERROR,
  CF_WRITE_PARTIAL,
  CF_WRITE_TIMEOUT,
  CHN_INFINITE_FORWARD,
} from "../../lib/buf/channel_types.ts";
import { showFlags } from "../../lib/core/flags.ts";
import { TICK_ETERNITY } from "../../lib/core/time.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A channel with a 64-byte buffer. */
function newChn(): Channel {
  const chn = new Channel();
  chn.buf.attach(new Uint8Array(64));
  return chn;
}

/** Receives `text` the way a connection does: into the buffer, then chnRcvd(). */
function receive(chn: Channel, text: string): void {
  const n = chn.buf.putIn(enc.encode(text));
  assert.equal(n, text.length);
  chnRcvd(chn, n);
}

Deno.test("Channel starts with no flags, nothing to forward and eternal expiries", () => {
  const chn = new Channel();
  assert.equal(chn.flags, 0);
  assert.equal(chn.toForward, 0);
  assert.equal(chn.rex, TICK_ETERNITY);
  assert.equal(chn.wex, TICK_ETERNITY);
  assert.equal(chn.total, 0);
  assert.ok(chn.buf.isEmpty());
});

Deno.test("chnRcvd() with toForward 0 leaves the bytes as input for analysers", () => {
  const chn = newChn();
  receive(chn, "hello");
  assert.equal(chn.buf.in, 5);
  assert.equal(chn.buf.out, 0);
  assert.equal(chn.toForward, 0);
  assert.equal(chn.total, 5);
});

Deno.test("chnRcvd() forwards up to toForward and counts the remainder down", () => {
  const chn = newChn();
  chn.toForward = 8;
  receive(chn, "abcde");
  assert.equal(chn.buf.out, 5, "all 5 are covered");
  assert.equal(chn.buf.in, 0);
  assert.equal(chn.toForward, 3);
  receive(chn, "fghijk");
  assert.equal(chn.buf.out, 8, "only 3 more are covered");
  assert.equal(chn.buf.in, 3, "the rest waits as input");
  assert.equal(chn.toForward, 0);
  assert.equal(dec.decode(chn.buf.peekOut()), "abcdefgh");
  receive(chn, "xyz");
  assert.equal(chn.buf.out, 8, "nothing left to forward");
  assert.equal(chn.buf.in, 6);
  assert.equal(chn.total, 14);
});

Deno.test("chnRcvd() with CHN_INFINITE_FORWARD forwards everything and stays infinite", () => {
  const chn = newChn();
  chn.toForward = CHN_INFINITE_FORWARD;
  receive(chn, "tunnel bytes");
  assert.equal(chn.buf.out, 12);
  assert.equal(chn.buf.in, 0);
  assert.equal(chn.toForward, CHN_INFINITE_FORWARD);
  receive(chn, "and more");
  assert.equal(chn.buf.out, 20);
  assert.equal(chn.toForward, CHN_INFINITE_FORWARD);
  assert.equal(chn.total, 20);
});

Deno.test("chnForward() moves existing input now and schedules the rest for later", () => {
  const chn = newChn();
  receive(chn, "abcd");
  chnForward(chn, 10);
  assert.equal(chn.buf.out, 4, "the 4 bytes present move now");
  assert.equal(chn.buf.in, 0);
  assert.equal(chn.toForward, 6, "6 more as they arrive");
  receive(chn, "efghijklmn");
  assert.equal(chn.buf.out, 10);
  assert.equal(chn.buf.in, 4);
  assert.equal(chn.toForward, 0);
});

Deno.test("chnForward() of fewer bytes than the input moves only those", () => {
  const chn = newChn();
  receive(chn, "header|body");
  chnForward(chn, 7);
  assert.equal(dec.decode(chn.buf.peekOut()), "header|");
  assert.equal(chn.buf.in, 4);
  assert.equal(chn.toForward, 0);
});

Deno.test("chnForward() adds to a pending toForward", () => {
  const chn = newChn();
  chnForward(chn, 5);
  chnForward(chn, 3);
  assert.equal(chn.toForward, 8);
  receive(chn, "0123456789");
  assert.equal(chn.buf.out, 8);
  assert.equal(chn.toForward, 0);
});

Deno.test("chnForward(CHN_INFINITE_FORWARD) moves all input and makes a tunnel", () => {
  const chn = newChn();
  receive(chn, "already here");
  chnForward(chn, CHN_INFINITE_FORWARD);
  assert.equal(chn.buf.out, 12);
  assert.equal(chn.buf.in, 0);
  assert.equal(chn.toForward, CHN_INFINITE_FORWARD);
  receive(chn, "later");
  assert.equal(chn.buf.out, 17);
  assert.equal(chn.toForward, CHN_INFINITE_FORWARD);
});

Deno.test({
  name: "chnForward() of a finite count on a tunnel keeps it infinite",
  // even when toForward is already CHN_INFINITE_FORWARD (Number.MAX_SAFE_INTEGER),
  // so the sum leaves the safe-integer range and no longer equals the marker:
  // chnRcvd() then treats the tunnel as finite and counts it down with
  // imprecise arithmetic. Latent today (stream.ts only ever passes
  // CHN_INFINITE_FORWARD), but HTTP body forwarding will call it with counts.
  // Fix: return early (after forwarding the input) when chn.toForward ===
  // CHN_INFINITE_FORWARD, and cap finite sums below the marker, as HAProxy's
  // __channel_forward() does.
  fn() {
    const chn = newChn();
    chnForward(chn, CHN_INFINITE_FORWARD);
    receive(chn, "abc");
    chnForward(chn, 10);
    assert.equal(chn.buf.in, 0);
    assert.equal(chn.toForward, CHN_INFINITE_FORWARD);
  },
});

Deno.test("chnShutrNow() requests a read shutdown unless the read side is already shut", () => {
  const chn = newChn();
  chnShutrNow(chn);
  assert.equal(chn.flags, CF_SHUTR_NOW);
  const shut = newChn();
  shut.flags = CF_SHUTR;
  chnShutrNow(shut);
  assert.equal(shut.flags, CF_SHUTR, "no SHUTR_NOW once SHUTR is set");
});

Deno.test("chnShutwNow() requests a write shutdown unless the write side is already shut", () => {
  const chn = newChn();
  chn.flags = CF_READ_PARTIAL;
  chnShutwNow(chn);
  assert.equal(chn.flags, CF_READ_PARTIAL | CF_SHUTW_NOW, "other bits are kept");
  const shut = newChn();
  shut.flags = CF_SHUTW;
  chnShutwNow(shut);
  assert.equal(shut.flags, CF_SHUTW);
});

Deno.test("chnShutrNow() and chnShutwNow() are independent of each other", () => {
  const chn = newChn();
  chn.flags = CF_SHUTW;
  chnShutrNow(chn);
  assert.equal(chn.flags, CF_SHUTW | CF_SHUTR_NOW);
  chn.flags = CF_SHUTR;
  chnShutwNow(chn);
  assert.equal(chn.flags, CF_SHUTR | CF_SHUTW_NOW);
});

Deno.test("chnErase() drops input, output and toForward when no send is in flight", () => {
  const chn = newChn();
  receive(chn, "0123456789");
  chnForward(chn, 6);
  chn.buf.sndCommit(2);
  chnForward(chn, 100);
  chnErase(chn);
  assert.equal(chn.buf.out, 0);
  assert.equal(chn.buf.in, 0);
  assert.equal(chn.buf.head, 0);
  assert.equal(chn.toForward, 0);
  assert.ok(chn.buf.isEmpty());
  assert.equal(chn.total, 10, "the byte count of the channel's life is kept");
});

Deno.test("chnErase() keeps the output a send in flight is reading", () => {
  const chn = newChn();
  receive(chn, "0123456789");
  chnForward(chn, 4);
  chn.buf.sndCommit(1);
  chn.buf.sndPending = 3;
  chnErase(chn);
  assert.equal(chn.buf.head, 1);
  assert.equal(chn.buf.out, 3, "the output stays for the pending send");
  assert.equal(dec.decode(chn.buf.peekOut()), "123");
  assert.equal(chn.buf.in, 0);
  assert.equal(chn.toForward, 0);
});

Deno.test("chnIsClosed() is true only when both SHUTR and SHUTW are set", () => {
  const chn = newChn();
  assert.equal(chnIsClosed(chn), false);
  chn.flags = CF_SHUTR;
  assert.equal(chnIsClosed(chn), false);
  chn.flags = CF_SHUTW;
  assert.equal(chnIsClosed(chn), false);
  chn.flags = CF_SHUTR_NOW | CF_SHUTW_NOW;
  assert.equal(chnIsClosed(chn), false, "requests are not shutdowns");
  chn.flags = CF_SHUTR | CF_SHUTW;
  assert.equal(chnIsClosed(chn), true);
  chn.flags = CF_SHUTR | CF_SHUTW | CF_READ_NULL | CF_EOI;
  assert.equal(chnIsClosed(chn), true);
});

Deno.test("CF_* flags are distinct single bits and the masks group them", () => {
  const bits = CF_FLAG_NAMES.map(([bit]) => bit);
  assert.equal(new Set(bits).size, bits.length);
  for (const bit of bits) assert.equal(bit & (bit - 1), 0, `${bit} is one bit`);
  assert.equal(CF_READ_ACTIVITY, CF_READ_NULL | CF_READ_PARTIAL | CF_READ_ERROR);
  assert.equal(CF_WRITE_ACTIVITY, CF_WRITE_PARTIAL | CF_WRITE_ERROR);
  assert.equal(CF_MASK_EVENTS & (CF_SHUTR | CF_SHUTW | CF_AUTO_CLOSE), 0, "no state bit");
  assert.ok(CF_MASK_EVENTS & CF_READ_TIMEOUT);
  assert.ok(CF_MASK_EVENTS & CF_WRITE_TIMEOUT);
});

Deno.test("showFlags() renders CF_* bits by name in table order", () => {
  assert.equal(showFlags(CF_SHUTR | CF_READ_NULL, CF_FLAG_NAMES), "READ_NULL|SHUTR");
  assert.equal(
    showFlags(CF_SHUTW_NOW | CF_WRITE_ERROR | CF_EOI, CF_FLAG_NAMES),
    "WRITE_ERROR|SHUTW_NOW|EOI",
  );
  assert.equal(showFlags(CF_READ_ACTIVITY, CF_FLAG_NAMES), "READ_NULL|READ_PARTIAL|READ_ERROR");
});

Deno.test('showFlags() renders 0 as "0"', () => {
  assert.equal(showFlags(0, CF_FLAG_NAMES), "0");
});

Deno.test("showFlags() renders unknown bits as one hex value after the names", () => {
  assert.equal(showFlags(1 << 20, CF_FLAG_NAMES), "0x100000");
  assert.equal(showFlags(CF_SHUTR | (1 << 20) | (1 << 16), CF_FLAG_NAMES), "SHUTR|0x110000");
  assert.equal(showFlags(1 << 31, CF_FLAG_NAMES), "0x80000000", "the sign bit shows unsigned");
  assert.equal(showFlags(5, [[1, "A"], [2, "B"]]), "A|0x4");
  assert.equal(showFlags(3, []), "0x3");
});
