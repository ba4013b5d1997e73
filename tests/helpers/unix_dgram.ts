/**
 * A unix datagram socket standing in for a syslog daemon's /dev/log: it
 * keeps every datagram's raw bytes and the sender's path. Needs Deno's
 * unstable net API (deno.json enables it for the tests).
 */

/** One datagram as received. */
export interface Datagram {
  bytes: Uint8Array;
  /** The sender's bound path ("" for an unbound sender). */
  from: string;
}

/** A bound receiver. */
export interface UnixDgramReceiver extends AsyncDisposable {
  readonly path: string;
  /** Datagrams read so far, in order. */
  readonly got: Datagram[];
  /** Starts reading (a receiver made with `paused` leaves datagrams in the socket's queue). */
  resume(): void;
  /** Waits until `n` datagrams were read. */
  waitCount(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Binds a receiver at `path`; reads at once unless `opts.paused`. */
export function unixDgramReceiver(
  path: string,
  opts: { paused?: boolean } = {},
): UnixDgramReceiver {
  const conn = Deno.listenDatagram({ transport: "unixpacket", path });
  const got: Datagram[] = [];
  let loop: Promise<void> | null = null;
  let closed = false;
  const read = async () => {
    try {
      for (;;) {
        const [bytes, from] = await conn.receive();
        got.push({ bytes, from: (from as Deno.UnixAddr).path ?? "" });
      }
    } catch {
      // Closed.
    }
  };
  const rx: UnixDgramReceiver = {
    path,
    got,
    resume() {
      loop ??= read();
    },
    async waitCount(n, ms = 5000) {
      const end = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > end) throw new Error(`got ${got.length} datagrams, expected ${n}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      conn.close();
      await loop;
    },
    [Symbol.asyncDispose]: () => rx.close(),
  };
  if (!opts.paused) rx.resume();
  return rx;
}
