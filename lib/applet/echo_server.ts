/**
 * The demo's upstream: a TCP echo server on a loopback port, so that
 * `deno task start` does real proxying with no other software installed.
 *
 * @module
 */

/** A running echo server. */
export interface EchoServer {
  /** The bound port on 127.0.0.1. */
  readonly port: number;
  /** Stops accepting and closes live connections. */
  close(): Promise<void>;
}

/** Starts an echo server on 127.0.0.1 (port 0 picks a free one). */
export function startEchoServer(port = 0): EchoServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conns = new Set<Deno.Conn>();
  const pumps = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const p = echo(conn).finally(() => {
          conns.delete(conn);
          pumps.delete(p);
        });
        pumps.add(p);
      }
    } catch {
      // Listener closed.
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await accepting;
      await Promise.allSettled([...pumps]);
    },
  };
}

async function echo(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await conn.write(buf.subarray(off, n));
    }
    await conn.closeWrite();
    while (await conn.read(buf) !== null) { /* drain until the peer closes */ }
  } catch {
    // Peer reset or we were closed.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed by close().
    }
  }
}
