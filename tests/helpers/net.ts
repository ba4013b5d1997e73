/**
 * Raw-byte peers for tests: upstream servers driven by a per-connection
 * script, clients helpers, and small utilities. Everything listens on
 * loopback port 0 and is closed by the test (`await using` or `finally`).
 */

/** A scripted upstream server. */
export interface Upstream extends AsyncDisposable {
  /** Bound TCP port (0 for unix). */
  readonly port: number;
  /** Address to give sluice (`127.0.0.1:PORT`, `[::1]:PORT` or `unix:/path`). */
  readonly address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Live connections. */
  readonly live: number;
  /** Stops accepting, closes live connections, waits for their scripts. */
  close(): Promise<void>;
}

/** Options of `upstream()`. */
export interface UpstreamOptions {
  /** Listen on this unix socket path instead of TCP. */
  unixPath?: string;
  /** Listen on this host (default 127.0.0.1). */
  hostname?: string;
  /** Serve TLS with this certificate and key. */
  tls?: { cert: string; key: string };
}

/**
 * Starts a server running `script` for each connection. The connection is
 * closed after the script returns or throws.
 */
export function upstream(
  script: (conn: Deno.Conn) => Promise<void>,
  opts: UpstreamOptions = {},
): Upstream {
  const listener: Deno.Listener = opts.unixPath !== undefined
    ? Deno.listen({ transport: "unix", path: opts.unixPath })
    : opts.tls
    ? Deno.listenTls({ hostname: opts.hostname ?? "127.0.0.1", port: 0, ...opts.tls })
    : Deno.listen({ hostname: opts.hostname ?? "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const running = new Set<Promise<void>>();
  let accepted = 0;
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        conns.add(conn);
        const p: Promise<void> = script(conn).catch(() => {}).finally(() => {
          conns.delete(conn);
          running.delete(p);
          try {
            conn.close();
          } catch {
            // Closed by the script.
          }
        });
        running.add(p);
      }
    } catch {
      // Listener closed.
    }
  })();
  const addr = listener.addr;
  const port = addr.transport === "tcp" ? addr.port : 0;
  const address = opts.unixPath !== undefined
    ? `unix:${opts.unixPath}`
    : (opts.hostname ?? "127.0.0.1").includes(":")
    ? `[${opts.hostname}]:${port}`
    : `${opts.hostname ?? "127.0.0.1"}:${port}`;
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // Already closed.
        }
      }
      await loop;
      await Promise.allSettled([...running]);
    })();
    return closing;
  };
  return {
    port,
    address,
    get accepted() {
      return accepted;
    },
    get live() {
      return conns.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Echoes everything, then half-closes after the peer's EOF. */
export async function echoScript(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    await writeAll(conn, buf.subarray(0, n));
  }
  await conn.closeWrite();
}

/** Writes every byte. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Reads until EOF and returns everything. */
export async function readAll(conn: Deno.Conn, limit = 1 << 30): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    total += n;
    if (total > limit) throw new Error(`readAll: more than ${limit} bytes`);
  }
  return concat(chunks, total);
}

/** Reads exactly `n` bytes (or fewer at EOF). */
export async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const r = await conn.read(out.subarray(off));
    if (r === null) break;
    off += r;
  }
  return out.subarray(0, off);
}

/** Joins byte arrays. */
export function concat(chunks: Uint8Array[], total?: number): Uint8Array {
  const out = new Uint8Array(total ?? chunks.reduce((a, c) => a + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Random bytes of any length (crypto.getRandomValues is limited to 64 KiB). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}

/** SHA-256 as hex. */
export async function sha256(data: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A loopback port nothing listens on (connections are refused). */
export function refusedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `cond` every 5 ms until true or `ms` elapsed (then throws). */
export async function waitFor(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reads a fixture file as text. */
export function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * A log target that keeps every line in `lines` except the start-up event
 * (`configuration loaded: ...`), so that tests count access lines from 0.
 */
export function logInto(lines: string[]): (line: string) => void {
  return (line) => {
    if (!line.includes("configuration loaded: ")) lines.push(line);
  };
}
