/**
 * The baseline the scheduler is compared with: a plain async-loop TCP relay
 * (one read/write loop per direction on Deno.Conn, no scheduler, no limits).
 *
 *     deno run --allow-net bench/naive_relay.ts LISTEN_PORT TARGET_PORT
 */
const [listenPort, targetPort] = Deno.args.map(Number);

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
    await to.closeWrite();
  } catch {
    try {
      from.close();
    } catch { /* closed */ }
    try {
      to.close();
    } catch { /* closed */ }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: listenPort });
console.log(`naive relay ready on 127.0.0.1:${listenPort}`);
for await (const client of listener) {
  Deno.connect({ hostname: "127.0.0.1", port: targetPort }).then((server) => {
    client.setNoDelay(true);
    server.setNoDelay(true);
    Promise.all([pump(client, server), pump(server, client)]).finally(() => {
      for (const c of [client, server]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    });
  }, () => client.close());
}
