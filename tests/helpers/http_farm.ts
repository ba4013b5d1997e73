/**
 * A farm of small HTTP/1.1 upstream servers for load-balancing tests: each
 * answers every request with its name as the body (keep-alive), records the
 * request heads it saw, counts concurrent requests, and can be told to
 * answer slowly, with another status, or with extra headers. A server can be
 * stopped and started again on the same port (a server dying and coming
 * back).
 */
import { type FrontendConfig, type SluiceHandle, startSluice } from "../../mod.ts";
import { concat, logInto } from "./net.ts";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** One named upstream HTTP server. */
export class FarmServer {
  readonly name: string;
  port = 0;
  /** Request heads received, in order. */
  readonly heads: string[] = [];
  /** Requests in progress now, and the most seen at once. */
  busy = 0;
  maxBusy = 0;
  /** Delay before answering, in ms. */
  delay = 0;
  /** Status to answer (a health path may answer differently, see `healthStatus`). */
  status = 200;
  /** Status answered on `/health`. */
  healthStatus = 200;
  /** Extra header lines to send ("Set-Cookie: a=b"). */
  extra: string[] = [];
  #listener: Deno.Listener | null = null;
  #conns = new Set<Deno.Conn>();
  #tasks = new Set<Promise<void>>();
  #loop: Promise<void> | null = null;

  constructor(name: string) {
    this.name = name;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Requests served (not counting /health). */
  get count(): number {
    return this.heads.filter((h) => !h.startsWith("GET /health ")).length;
  }

  /** Starts listening (on the same port as before when restarted). */
  start(): void {
    const l = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = l;
    this.port = (l.addr as Deno.NetAddr).port;
    this.#loop = (async () => {
      try {
        for await (const conn of l) {
          this.#conns.add(conn);
          const t: Promise<void> = this.#serve(conn).catch(() => {}).finally(() => {
            this.#conns.delete(conn);
            this.#tasks.delete(t);
            try {
              conn.close();
            } catch {
              // Already closed.
            }
          });
          this.#tasks.add(t);
        }
      } catch {
        // Listener closed.
      }
    })();
  }

  /** Stops listening and closes every connection (the server "dies"). */
  async stop(): Promise<void> {
    this.#listener?.close();
    this.#listener = null;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
    await this.#loop;
    await Promise.allSettled([...this.#tasks]);
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    let data = "";
    const buf = new Uint8Array(16384);
    for (;;) {
      let end = data.indexOf("\r\n\r\n");
      while (end < 0) {
        const n = await conn.read(buf);
        if (n === null) return;
        data += dec.decode(buf.subarray(0, n));
        end = data.indexOf("\r\n\r\n");
      }
      const head = data.slice(0, end + 4);
      data = data.slice(end + 4);
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      let body = m ? Number(m[1]) : 0;
      while (data.length < body) {
        const n = await conn.read(buf);
        if (n === null) return;
        data += dec.decode(buf.subarray(0, n));
      }
      data = data.slice(body);
      body = 0;
      this.heads.push(head);
      const health = head.startsWith("GET /health ");
      this.busy++;
      if (this.busy > this.maxBusy) this.maxBusy = this.busy;
      if (this.delay > 0 && !health) await new Promise((r) => setTimeout(r, this.delay));
      this.busy--;
      const status = health ? this.healthStatus : this.status;
      const text = health ? (status === 200 ? "ok" : "bad") : this.name;
      const extra = health ? "" : this.extra.map((h) => h + "\r\n").join("");
      await writeAllConn(
        conn,
        enc.encode(
          `HTTP/1.1 ${status} X\r\nContent-Length: ${text.length}\r\n${extra}\r\n${text}`,
        ),
      );
    }
  }
}

async function writeAllConn(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Starts `n` servers named s1..sn. */
export function farm(n: number): FarmServer[] & AsyncDisposable {
  const list = Array.from({ length: n }, (_, i) => new FarmServer(`s${i + 1}`));
  for (const s of list) s.start();
  return Object.assign(list, {
    [Symbol.asyncDispose]: async () => {
      await Promise.all(list.map((s) => s.stop()));
    },
  });
}

/** A response as a test sees it. */
export interface Reply {
  status: number;
  /** Header lines, lowercase names. */
  headers: [string, string][];
  body: string;
}

/**
 * One request on a new connection with `Connection: close`; resolves with
 * the response read to the end.
 */
export async function request(
  port: number,
  path = "/",
  headers: Record<string, string> = {},
): Promise<Reply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    // "Host: test" unless the caller gives its own.
    const host = Object.keys(headers).some((k) => k.toLowerCase() === "host")
      ? ""
      : "Host: test\r\n";
    await writeAllConn(
      conn,
      enc.encode(`GET ${path} HTTP/1.1\r\n${host}${extra}Connection: close\r\n\r\n`),
    );
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = dec.decode(concat(chunks));
    const end = text.indexOf("\r\n\r\n");
    const lines = text.slice(0, end).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const hdrs = lines.slice(1).map((l): [string, string] => {
      const c = l.indexOf(":");
      return [l.slice(0, c).toLowerCase(), l.slice(c + 1).trim()];
    });
    return { status, headers: hdrs, body: text.slice(end + 4) };
  } finally {
    conn.close();
  }
}

/** The value of the first header `name` (lowercase), or undefined. */
export function header(r: Reply, name: string): string | undefined {
  return r.headers.find(([k]) => k === name)?.[1];
}

/** A running sluice with the log lines it wrote. */
export interface RoutedProxy extends AsyncDisposable {
  handle: SluiceHandle;
  port: number;
  logs: string[];
}

/**
 * sluice with frontend "fe" (plus `fe` settings: rules, hooks), default
 * backend "web" on `f[0]` (server s1) and backend "api" on `f[1]` (server s2).
 */
export async function routedProxy(
  f: FarmServer[],
  fe: Partial<FrontendConfig>,
): Promise<RoutedProxy> {
  const logs: string[] = [];
  const handle = await startSluice({
    global: { log: { target: logInto(logs) } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "web", ...fe }],
    backends: [
      { name: "web", servers: [{ name: "s1", address: f[0].address }] },
      { name: "api", servers: [{ name: "s2", address: f[1].address }] },
    ],
  });
  return {
    handle,
    port: handle.addresses[0].port,
    logs,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}
