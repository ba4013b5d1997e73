/**
 * What moving one small message costs on each data layer sluice can use: a
 * 100-byte send and its receive on a connected loopback TCP pair, through
 * the FFI layer's libc calls (`send`/`recv` straight from and into a pool
 * area, what `FFI_SOCK` does per request and direction) and through
 * `Deno.Conn` (write, then read). Both include the kernel's loopback work,
 * which dominates; the difference is the runtime's machinery per call.
 * node:net is not here: its reads arrive through callbacks, not calls.
 *
 *     deno bench --allow-net --allow-ffi bench/io_bench.ts
 */
import { AF_INET, errno, libc, SOCK_STREAM, sockaddrOf, tcpNoDelay } from "../lib/conn/ffi/libc.ts";
import { sockaddrParse } from "../lib/conn/ffi/libc.ts";

const MSG = 100;
const c = libc();

/** A connected loopback pair of blocking sockets: [client, server]. */
function ffiPair(): [number, number] {
  const lfd = c.socket(AF_INET, SOCK_STREAM, 0);
  const any = sockaddrOf("127.0.0.1", 0)!;
  if (c.bind(lfd, any, any.length) !== 0 || c.listen(lfd, 1) !== 0) {
    throw new Error(`io_bench: bind/listen errno ${errno()}`);
  }
  const sa = new Uint8Array(16), len = new Uint32Array([16]);
  c.getsockname(lfd, sa, new Uint8Array(len.buffer));
  const a = c.socket(AF_INET, SOCK_STREAM, 0);
  const to = sockaddrOf("127.0.0.1", sockaddrParse(sa).port)!;
  if (c.connect(a, to, to.length) !== 0) throw new Error(`io_bench: connect errno ${errno()}`);
  const b = c.accept4(lfd, null, null, 0);
  c.close(lfd);
  tcpNoDelay(a);
  tcpNoDelay(b);
  return [a, b];
}

const [fa, fb] = ffiPair();
const area = new Uint8Array(16384); // a pool area: the send reads, the receive writes
const msg = area.subarray(0, MSG);
const room = new Uint8Array(16384);

Deno.bench({ name: "FFI send + recv, 100 bytes", group: "io", baseline: true }, () => {
  if (c.send(fa, msg, MSG, 0) !== MSG) throw new Error("short send");
  let got = 0;
  while (got < MSG) got += c.recv(fb, room.subarray(got), room.length - got, 0);
});

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const [da, db] = await Promise.all([
  Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  listener.accept(),
]);
listener.close();
da.setNoDelay(true);
db.setNoDelay(true);

Deno.bench({ name: "Deno.Conn write + read, 100 bytes", group: "io" }, async () => {
  await da.write(msg);
  let got = 0;
  while (got < MSG) got += (await db.read(room.subarray(got)))!;
});
