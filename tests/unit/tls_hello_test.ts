/**
 * TlsHelloScan and tlsReqVersion() (lib/rules/tls_hello.ts): the
 * ClientHello found in any segmentation (byte by byte, random chunks,
 * split over TLS records), plain text refused at its first byte, malformed
 * and hostile input giving "not TLS" or "need more" without throwing or
 * reading outside the bytes given (fuzzed).
 */
import assert from "node:assert/strict";
import {
  TLS_DONE,
  TLS_NEED,
  TLS_NOT,
  TlsHelloScan,
  tlsReqVersion,
} from "../../lib/rules/tls_hello.ts";
import { bin, mulberry32 } from "../helpers/bytes.ts";
import { clientHello, records } from "../helpers/tls_hello.ts";

const CAP = 16384;
const DEC = new TextDecoder();

/** The SNI the scan found, or null. */
function sniOf(s: TlsHelloScan): string | null {
  const r = s.sni();
  return r === null ? null : DEC.decode(s.msg.subarray(r[0], r[0] + r[1]));
}

/**
 * Feeds `a` (placed at offset 7 of a larger area, so that a scan reading
 * from 0 or past the end would be caught) to one scan in chunks ending at
 * `cuts`, checking it needs more before the end; returns the scan.
 */
function feed(a: Uint8Array, cuts: readonly number[]): TlsHelloScan {
  const area = new Uint8Array(a.length + 20).fill(0x16);
  area.set(a, 7);
  const s = new TlsHelloScan();
  for (const n of cuts) {
    const st = s.update(area, 7, n, CAP);
    if (n < a.length) assert.equal(st, TLS_NEED, `need more at ${n} of ${a.length}`);
  }
  return s;
}

/** 0, 1, ..., n: every length. */
function each(n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => i);
}

/** Random increasing cut points ending at n. */
function randomCuts(n: number, rnd: () => number): number[] {
  const cuts: number[] = [];
  for (let at = 0; at < n;) {
    at = Math.min(n, at + 1 + Math.floor(rnd() * 40));
    cuts.push(at);
  }
  return cuts;
}

Deno.test("TlsHelloScan finds the SNI of a ClientHello fed byte by byte and in random chunks", () => {
  const a = records(clientHello({ sni: "a.example.com" }));
  const s = feed(a, each(a.length));
  assert.equal(s.state, TLS_DONE);
  assert.equal(s.helloType(), 1);
  assert.equal(sniOf(s), "a.example.com");
  const rnd = mulberry32(7);
  for (let i = 0; i < 200; i++) {
    const t = feed(a, randomCuts(a.length, rnd));
    assert.equal(sniOf(t), "a.example.com");
  }
  // A fresh scan of each prefix agrees (not only the incremental path).
  for (let n = 0; n < a.length; n++) {
    assert.equal(new TlsHelloScan().update(a, 0, n, CAP), TLS_NEED, `prefix ${n}`);
  }
  // Bytes after the hello (the client's next flight) change nothing.
  const more = new Uint8Array([...a, 0x14, 3, 3, 0, 1, 1]);
  assert.equal(sniOf(feed(more, [more.length])), "a.example.com");
});

Deno.test("TlsHelloScan reassembles a ClientHello split over TLS records, in any segmentation", () => {
  const msg = clientHello({ sni: "split.example.net" });
  const rnd = mulberry32(11);
  const splits: number[][] = [[1], [3, 1], [5, 5, 5], [msg.length - 1], Array(msg.length).fill(1)];
  for (let i = 0; i < 30; i++) {
    splits.push(Array.from({ length: 6 }, () => 1 + Math.floor(rnd() * 60)));
  }
  for (const sizes of splits) {
    const a = records(msg, sizes);
    for (const cuts of [each(a.length), randomCuts(a.length, rnd), [a.length]]) {
      const s = feed(a, cuts);
      assert.equal(s.state, TLS_DONE, `records ${sizes.slice(0, 4)}`);
      assert.equal(s.msgLen, msg.length);
      assert.deepEqual(s.msg.subarray(s.msgPos, s.msgPos + s.msgLen), msg);
      assert.equal(sniOf(s), "split.example.net");
    }
  }
});

Deno.test("TlsHelloScan reads the server_name list strictly", () => {
  const one = (o: Parameters<typeof clientHello>[0]) => sniOf(feed(records(clientHello(o)), [1e6]));
  // After other extensions; after a name of another type.
  assert.equal(
    one({ sni: "b.example", before: [[10, new Uint8Array([0, 2, 0, 29])]] }),
    "b.example",
  );
  assert.equal(one({ sni: "c.example", names: [[7, "ignored"]] }), "c.example");
  assert.equal(one({ sni: null }), null);
  assert.equal(one({ sni: "" }), null); // empty host_name
  assert.equal(one({ sni: "x", version: [3, 0] }), null); // SSLv3: no extensions (HAProxy: TLS 1.0+)
  assert.equal(one({ sni: "y", sessionId: 0 }), "y");
  // A complete hello without SNI is still a hello.
  const s = feed(records(clientHello({ sni: null })), [1e6]);
  assert.equal(s.helloType(), 1);
  // Corrupt lengths inside a complete message: no name, no throw.
  const base = clientHello({ sni: "d.example" });
  const sidAt = 4 + 2 + 32;
  const bad = (patch: (m: Uint8Array) => void) => {
    const m = base.slice();
    patch(m);
    return sniOf(feed(records(m), [1e6]));
  };
  assert.equal(bad((m) => m[sidAt] = 33), null); // session id over 32
  assert.equal(bad((m) => m[sidAt] = 250), null);
  const csAt = sidAt + 1 + 32;
  assert.equal(bad((m) => m[csAt] = 0xff), null); // cipher suites past the end
  assert.equal(bad((m) => m[csAt + 1] = 5), null); // odd cipher suites length
  const nameLenAt = base.length - 7 - "d.example".length - 2;
  assert.equal(bad((m) => m[nameLenAt] = 0x7f), null); // host_name longer than its list
  assert.equal(bad((m) => m[0] = 2), null); // not a ClientHello: no SNI
});

Deno.test("TlsHelloScan refuses plain text and bad records at once, and what cannot fit", () => {
  const not = (bytes: Uint8Array, cap = CAP) =>
    new TlsHelloScan().update(bytes, 0, bytes.length, cap);
  assert.equal(not(bin("G")), TLS_NOT);
  assert.equal(not(bin("GET / HTTP/1.1\r\n")), TLS_NOT);
  assert.equal(not(bin("\x16\x02")), TLS_NOT); // SSLv2 record version
  assert.equal(not(bin("\x16\x03\x01\x00\x00")), TLS_NOT); // empty record
  assert.equal(not(bin("\x16\x03\x01\x40\x01")), TLS_NOT); // over 2^14
  assert.equal(not(bin("\x17\x03\x03\x00\x10")), TLS_NOT); // application data
  assert.equal(not(bin("\x16\x03")), TLS_NEED);
  // A continuation that is not a handshake record.
  const msg = clientHello();
  const split = records(msg, [10]);
  split[5 + 10] = 0x15;
  assert.equal(not(split), TLS_NOT);
  // A handshake longer than the buffer can ever hold.
  const huge = bin("\x16\x03\x01\x00\x04\x01\x00\x40\x00");
  assert.equal(not(huge, 16384), TLS_NOT);
  assert.equal(not(huge, 32768), TLS_NEED);
});

Deno.test("TlsHelloScan starts over when given other bytes", () => {
  const s = new TlsHelloScan();
  const a = records(clientHello({ sni: "one.example" }));
  assert.equal(s.update(a, 0, a.length, CAP), TLS_DONE);
  const b = records(clientHello({ sni: "two.example" }));
  assert.equal(s.update(b, 0, 10, CAP), TLS_NEED);
  assert.equal(s.update(b, 0, b.length, CAP), TLS_DONE);
  assert.equal(sniOf(s), "two.example");
  assert.equal(s.update(bin("GET"), 0, 3, CAP), TLS_NOT);
});

Deno.test("TlsHelloScan never throws nor reads outside its bytes on fuzzed input", () => {
  const rnd = mulberry32(42);
  const valid = records(clientHello({ sni: "fuzz.example.org" }), [40, 13]);
  for (let i = 0; i < 3000; i++) {
    let a: Uint8Array;
    if (i % 3 === 0) {
      // Random bytes, mostly starting like a handshake record.
      a = new Uint8Array(Math.floor(rnd() * 300));
      for (let k = 0; k < a.length; k++) a[k] = Math.floor(rnd() * 256);
      if (a.length > 1 && rnd() < 0.8) a.set([0x16, 3], 0);
    } else {
      // The valid hello with bytes changed, inserted or cut.
      a = valid.slice(0, valid.length - Math.floor(rnd() * 20));
      for (let f = 1 + Math.floor(rnd() * 4); f > 0; f--) {
        a[Math.floor(rnd() * a.length)] = Math.floor(rnd() * 256);
      }
    }
    // Guard bytes around: a read outside would see them, not the data.
    const area = new Uint8Array(a.length + 64).fill(0xee);
    area.set(a, 32);
    const inc = new TlsHelloScan();
    let st = TLS_NEED;
    for (const n of randomCuts(a.length, rnd)) st = inc.update(area, 32, n, 512);
    const once = new TlsHelloScan().update(area, 32, a.length, 512);
    assert.equal(st, a.length === 0 ? TLS_NEED : once, "incremental and one-shot agree");
    assert.ok(st === TLS_NEED || st === TLS_NOT || st === TLS_DONE);
    if (st === TLS_DONE) {
      assert.ok(inc.msgLen <= a.length);
      const r = inc.sni();
      if (r !== null) {
        assert.ok(r[1] > 0);
        if (inc.msg === area) assert.ok(r[0] >= 32 + 9 && r[0] + r[1] <= 32 + a.length);
        else assert.ok(r[0] + r[1] <= inc.msg.length);
      }
    }
    const v = tlsReqVersion(area, 32, a.length, 512);
    assert.ok(v >= -2 && v <= 0xffffff);
  }
});

Deno.test("tlsReqVersion() reads the ClientHello version of SSLv3+ records and of SSLv2 hellos", () => {
  const a = records(clientHello({ version: [3, 3] }));
  assert.equal(tlsReqVersion(a, 0, a.length, CAP), 0x30003);
  for (let n = 0; n < a.length; n++) assert.equal(tlsReqVersion(a, 0, n, CAP), -1, `prefix ${n}`);
  assert.equal(tlsReqVersion(bin("GET / HTTP/1.0\r\n"), 0, 16, CAP), -2);
  assert.equal(tlsReqVersion(bin("\x16\x02\x00\x00\x10xxxxxxxxxxxxxxxx"), 0, 21, CAP), -2);
  // SSLv2 CLIENT-HELLO (short header): 3 cipher bytes, no session id, 16-byte challenge.
  const v2 = new Uint8Array([0x80, 9 + 3 + 16, 0x01, 0x03, 0x01, 0, 3, 0, 0, 0, 16, 0, 0, 4]);
  const full = new Uint8Array([...v2, ...new Uint8Array(16)]);
  assert.equal(tlsReqVersion(full, 0, full.length, CAP), 0x30001);
  assert.equal(tlsReqVersion(full, 0, full.length - 1, CAP), -1);
  const badLen = full.slice();
  badLen[1] = 9;
  assert.equal(tlsReqVersion(badLen, 0, badLen.length, CAP), -2);
});
