/**
 * The runtime API on a unix socket, like HAProxy's `stats socket`: a client
 * connects, sends a command line, reads the answer, and the connection
 * closes. After `prompt` the connection stays open (interactive mode: each
 * answer ends with a "> " prompt) until `quit`, `prompt` again, the client
 * closing, or the idle timeout.
 *
 * The socket only moves lines; commands are `AdminApi.exec()`'s business.
 * Hostile or broken clients cost little: a line is bounded (`maxLine`),
 * every read and write has a timeout, the number of connections is bounded,
 * and no input makes it throw.
 *
 * @module
 */
import { errMsg, SluiceError } from "../core/errors.ts";
import type { AdminApi, AdminCliSession } from "./admin_types.ts";

/** Options of `serveAdminSocket()`. */
export interface AdminSocketOptions {
  /** File mode of the socket. Default 0o600 (owner only: the API changes servers). */
  mode?: number;
  /** Longest command line in bytes, newline excluded. Default 16384. */
  maxLine?: number;
  /**
   * Time a client gets to send a complete line or to take an answer, and the
   * idle time allowed in interactive mode, in ms. Default 10000 (HAProxy's
   * default `stats timeout`).
   */
  timeoutMs?: number;
  /** Connections served at once; more are closed at once. Default 10 (HAProxy's `stats maxconn`). */
  maxConns?: number;
}

/** A listening admin socket. */
export interface AdminSocket extends AsyncDisposable {
  /** The socket's path. */
  readonly path: string;
  /**
   * Stops accepting, closes live connections, and removes the socket file
   * (unless another socket has replaced it since). Calling it again returns
   * the same promise.
   */
  close(): Promise<void>;
}

const LF = 0x0a;
/** Most payload bytes a `<<` command takes (a certificate chain and its key fit easily). */
const MAX_PAYLOAD = 256 * 1024;

/**
 * Listens on the unix socket `path` and answers each connection with
 * `api`. The socket is created under a temporary name, given `mode`
 * (0600 by default) and then renamed to `path`, so it is never reachable
 * with the umask's looser mode. A stale socket file left by a dead process
 * is replaced; a live one (something accepts on it) or a file that is not a
 * socket is an error: SluiceError ERR_BIND.
 *
 * @example
 * ```ts ignore
 * import { createAdminApi } from "./admin_api.ts";
 * import { serveAdminSocket } from "./admin_socket.ts";
 *
 * await using sock = await serveAdminSocket("/run/sluice.sock", createAdminApi(target));
 * // echo "show stat" | socat stdio /run/sluice.sock
 * ```
 */
export async function serveAdminSocket(
  path: string,
  api: AdminApi,
  opts: AdminSocketOptions = {},
): Promise<AdminSocket> {
  const mode = opts.mode ?? 0o600;
  const maxLine = opts.maxLine ?? 16384;
  const timeoutMs = opts.timeoutMs ?? 10000;
  const maxConns = opts.maxConns ?? 10;
  await sockClearStale(path);
  const tmp = `${path}.${Deno.pid}.tmp`;
  await removeQuietly(tmp);
  let listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  try {
    listener = Deno.listen({ transport: "unix", path: tmp });
  } catch (err) {
    throw bindError(path, err);
  }
  let ino: number | null = null;
  try {
    await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
    ino = (await Deno.lstat(path)).ino;
  } catch (err) {
    listener.close();
    await removeQuietly(tmp);
    throw bindError(path, err);
  }

  const conns = new Set<AdminConn>();
  const tasks = new Set<Promise<void>>();
  let closing: Promise<void> | null = null;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await listener.accept();
      } catch {
        if (closing !== null) return;
        // Out of descriptors or a transient error: try again shortly rather
        // than spin or stop serving.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const c = new AdminConn(conn);
      if (closing !== null || conns.size >= maxConns) {
        c.close();
        continue;
      }
      conns.add(c);
      const t: Promise<void> = adminServe(c, api, { maxLine, timeoutMs })
        .catch(() => {})
        .finally(() => {
          c.close();
          conns.delete(c);
          tasks.delete(t);
        });
      tasks.add(t);
    }
  })();

  async function doClose(): Promise<void> {
    try {
      listener.close();
    } catch {
      // Already closed.
    }
    for (const c of conns) c.close();
    await loop;
    await Promise.all([...tasks]);
    // Remove the file only if it is still ours (not replaced by a newer socket).
    try {
      const st = await Deno.lstat(path);
      if (st.isSocket && st.ino === ino) await Deno.remove(path);
    } catch {
      // Already gone.
    }
  }

  const sock: AdminSocket = {
    path,
    close: () => closing ??= doClose(),
    [Symbol.asyncDispose]: () => sock.close(),
  };
  return sock;
}

/** Removes a stale socket at `path`; throws ERR_BIND when something else is there. */
async function sockClearStale(path: string): Promise<void> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw bindError(path, err);
  }
  if (!st.isSocket) {
    throw new SluiceError(
      "ERR_BIND",
      `Cannot listen on "unix:${path}": a file that is not a socket is in the way`,
    );
  }
  let live = false;
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
    live = true;
  } catch {
    // Nobody accepts on it: a leftover of a process that is gone.
  }
  if (live) {
    throw new SluiceError("ERR_BIND", `Cannot listen on "unix:${path}": address already in use`);
  }
  await removeQuietly(path);
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Not there.
  }
}

function bindError(path: string, err: unknown): SluiceError {
  const why = err instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : err instanceof Deno.errors.NotFound
    ? "no such directory"
    : errMsg(err);
  return new SluiceError("ERR_BIND", `Cannot listen on "unix:${path}": ${why}`);
}

/** A client connection that may be closed from several places, once. */
class AdminConn {
  readonly conn: Deno.UnixConn;
  closed = false;

  constructor(conn: Deno.UnixConn) {
    this.conn = conn;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed by Deno after an error.
    }
  }

  /** Runs `io`; closes the connection (which makes `io` fail) if it takes longer than `ms`. */
  async timed<T>(io: Promise<T>, ms: number): Promise<T> {
    const timer = setTimeout(() => this.close(), ms);
    try {
      return await io;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Serves one connection: reads a line (bounded, timed), runs it, writes the
 * answer; repeats only in interactive mode. Returns when the connection is
 * done; never throws past the caller's catch.
 */
async function adminServe(
  c: AdminConn,
  api: AdminApi,
  o: { maxLine: number; timeoutMs: number },
): Promise<void> {
  const cli: AdminCliSession = { interactive: false, quit: false };
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  // One line plus its newline; reads go straight into the free tail, so a
  // client can never make it grow.
  const buf = new Uint8Array(o.maxLine + 1);
  let len = 0;
  /** The next line (null: the client closed without sending one; "long": over maxLine). */
  const nextLine = async (): Promise<{ line: string; eof: boolean } | null | "long"> => {
    let nl = buf.subarray(0, len).indexOf(LF);
    let eof = false;
    while (nl < 0) {
      if (len === buf.length) return "long";
      const n = await c.timed(c.conn.read(buf.subarray(len)), o.timeoutMs);
      if (n === null) {
        // The client closed its side: run what it sent without a newline.
        if (len === 0) return null;
        eof = true;
        nl = len;
        break;
      }
      const from = len;
      len += n;
      const at = buf.subarray(from, len).indexOf(LF);
      if (at >= 0) nl = from + at;
    }
    const line = dec.decode(buf.subarray(0, nl));
    const rest = eof ? len : nl + 1;
    buf.copyWithin(0, rest, len);
    len -= rest;
    return { line, eof };
  };
  const tooLong = async (what: string) => {
    await adminWrite(c, enc.encode(`${what} too long.\n\n`), o.timeoutMs);
    await adminLinger(c, o.timeoutMs);
  };
  for (;;) {
    const got = await nextLine();
    if (got === null) return;
    if (got === "long") return await tooLong("Command line");
    let { line, eof } = got;
    // HAProxy's payload: a line ending with "<<" is followed by lines up to
    // an empty one (or the end), given to the command (`set ssl cert`).
    let payload: string | undefined;
    const m = /^(.*?)[ \t]*<<[ \t\r]*$/.exec(line);
    if (m !== null) {
      line = m[1];
      payload = "";
      while (!eof) {
        const p = await nextLine();
        if (p === null) break;
        if (p === "long") return await tooLong("Payload line");
        eof = p.eof;
        const pl = p.line.replace(/\r$/, "");
        if (pl === "") break;
        payload += pl + "\n";
        if (payload.length > MAX_PAYLOAD) return await tooLong("Payload");
      }
    }
    let out: string;
    try {
      out = api.exec(line, cli, payload);
    } catch {
      out = "Internal error.\n\n";
    }
    const more = cli.interactive && !cli.quit && !eof;
    if (cli.interactive && !cli.quit) out += "> ";
    if (out !== "") await adminWrite(c, enc.encode(out), o.timeoutMs);
    if (!more) {
      if (!cli.quit) await adminLinger(c, o.timeoutMs);
      return;
    }
  }
}

/**
 * Ends a connection after its answer: our side first (the client reads the
 * answer, then end of stream), then what the client still sends is read
 * and dropped until it closes (bounded in bytes and time). Closing with
 * unread input would reset the connection, and a client could lose the
 * answer it has not read yet.
 */
async function adminLinger(c: AdminConn, timeoutMs: number): Promise<void> {
  try {
    await c.conn.closeWrite();
  } catch {
    return;
  }
  const sink = new Uint8Array(4096);
  const ms = Math.min(timeoutMs, 1000);
  for (let budget = 1 << 20; budget > 0;) {
    const n = await c.timed(c.conn.read(sink), ms);
    if (n === null) return;
    budget -= n;
  }
}

/** Writes all of `bytes`, within `ms` per write. */
async function adminWrite(c: AdminConn, bytes: Uint8Array, ms: number): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    off += await c.timed(c.conn.write(bytes.subarray(off)), ms);
  }
}
