/**
 * The data layer of a static backend: the stream's server side talks to it
 * as to a server connection, so everything around a proxied request (rules,
 * routing, logs, counters, timeouts, hooks, keep-alive with the client)
 * works the same. What it is sent is a request head (then a body it drops);
 * what it delivers is the response static_answer.ts builds, head first, then
 * the file as the client drains the stream's buffer: each time the buffer
 * has room, one synchronous read fills it straight from the file (no copy,
 * no read in flight when the stream ends), so a large file costs the
 * stream's buffers whatever its size. A bulk download thus gets the large
 * buffer (`tune.bufsize` × 16 with the ffi I/O) and moves in reads and
 * sends of that size. A small file's bytes come from the cache
 * (static_cache.ts) as literal segments.
 *
 * Each request gets its own "connection" and its response says `connection:
 * close`, so the analyser never parks it as an idle server connection.
 *
 * @module
 */
import type { Buf } from "../buf/buffer.ts";
import type { Connection } from "../conn/connection.ts";
import { CO_ER_OTHER, CO_FL_CLOSED, CO_FL_RD_PENDING, type DataLayer } from "../conn/conn_types.ts";
import {
  type Segment,
  type StaticAnswer,
  staticAnswer,
  type StaticRequest,
} from "./static_answer.ts";
import type { StaticSpec } from "./static_types.ts";

/** The largest request head accepted (the analyser's own limit is lower). */
const MAX_HEAD = 64 * 1024;

/** One request's exchange with the static backend. */
class StaticConn {
  readonly spec: StaticSpec;
  readonly conn: Connection;
  /** The request head as received so far, when it came in pieces (allocated then). */
  headBuf: Uint8Array | null = null;
  headLen = 0;
  /** The whole head was received (the rest, a body, is dropped). */
  headDone = false;
  /** The answer being delivered, once built. */
  segs: Segment[] | null = null;
  seg = 0;
  /** Bytes of the current segment already delivered. */
  segDone = 0;
  file: Deno.FsFile | null = null;
  /** The file's offset (a seek is made only when a segment starts elsewhere). */
  filePos = 0;
  /** The answer is being waited for. */
  busy = false;
  closed = false;

  constructor(spec: StaticSpec, conn: Connection) {
    this.spec = spec;
    this.conn = conn;
  }

  /** Takes request bytes: the head until its empty line, anything after is dropped. */
  take(view: Uint8Array): void {
    if (this.headDone) return;
    if (this.headLen === 0) {
      // Usually the whole head comes at once: parsed where it is, no copy.
      const end = headEnd(view, 0, view.length);
      if (end >= 0) return this.headed(view.subarray(0, end + 2));
      if (view.length > MAX_HEAD) return this.headed(null);
    }
    let hb = this.headBuf ??= new Uint8Array(1024);
    if (this.headLen + view.length > hb.length) {
      if (this.headLen + view.length > MAX_HEAD) return this.headed(null);
      const n = new Uint8Array(
        Math.min(MAX_HEAD, Math.max(hb.length * 2, this.headLen + view.length)),
      );
      n.set(hb.subarray(0, this.headLen));
      hb = this.headBuf = n;
    }
    const from = Math.max(0, this.headLen - 3);
    hb.set(view, this.headLen);
    this.headLen += view.length;
    const end = headEnd(hb, from, this.headLen);
    if (end >= 0) this.headed(hb.subarray(0, end + 2));
  }

  /** The head is complete (its lines, through the last line's CRLF), or too long (null). */
  headed(head: Uint8Array | null): void {
    this.headDone = true;
    this.headBuf = null;
    this.start(head === null ? null : parseHead(head));
  }

  /** Builds the answer (asynchronously) and starts delivering it. */
  start(req: StaticRequest | null): void {
    this.busy = true;
    const p = req === null
      ? staticAnswer(this.spec, { method: "GET", target: "" })
      : staticAnswer(this.spec, req);
    p.then((a) => this.answered(a), (err) => this.conn.setError(CO_ER_OTHER, err));
  }

  answered(a: StaticAnswer): void {
    this.busy = false;
    if (this.closed) {
      a.file?.close();
      return;
    }
    this.segs = a.segs;
    this.file = a.file;
    this.pump();
  }

  /** Copies what is ready into the receive buffer while receiving is on and it has room. */
  pump(): void {
    const conn = this.conn, segs = this.segs;
    if (segs === null || !(conn.flags & CO_FL_RD_PENDING)) return;
    const buf = conn.rbuf!;
    let moved = 0;
    let failed: unknown = null;
    while (this.seg < segs.length && buf.room() > 0) {
      const s = segs[this.seg];
      if (s instanceof Uint8Array) {
        const n = buf.putIn(s.subarray(this.segDone));
        moved += n;
        this.segDone += n;
        if (this.segDone < s.length) break;
      } else if (this.segDone < s.len) {
        try {
          moved += this.read(buf, s);
        } catch (err) {
          failed = err;
          break;
        }
        continue;
      }
      this.next();
    }
    if (moved > 0) {
      // Filled with more to come: this producer sends in bulk, as a socket
      // read that did not fit (the stream then gives it a large buffer).
      buf.lastChunk = moved + (buf.room() === 0 && this.seg < segs.length ? 1 : 0);
    }
    if (buf.room() === 0) conn.rcvStopped();
    if (moved > 0) conn.rcvDone(moved);
    if (failed !== null) conn.setError(CO_ER_OTHER, failed);
  }

  next(): void {
    this.seg++;
    this.segDone = 0;
    if (this.seg === this.segs!.length) this.release();
  }

  /**
   * Reads the next bytes of file segment `s` straight into the buffer's
   * contiguous room (one read, at most a buffer); returns the count. The
   * read is synchronous, as nginx's (sendfile) is: from the page cache it
   * costs a few microseconds per 16 KiB, where an asynchronous read goes
   * through the runtime's thread pool (measured ~0.4 ms each, which made
   * small files 0.22× nginx) and leaves the thread idle meanwhile. A file
   * that is not in the page cache blocks the thread for one read.
   */
  read(buf: Buf, s: { pos: number; len: number }): number {
    const file = this.file!;
    const at = s.pos + this.segDone;
    if (this.filePos !== at) {
      file.seekSync(at, Deno.SeekMode.Start);
      this.filePos = at;
    }
    const view = buf.rcvView();
    const want = Math.min(view.length, s.len - this.segDone);
    const n = file.readSync(view.subarray(0, want));
    // The file shrank under us: the response cannot be completed.
    if (n === null || n === 0) throw new Error("file truncated while sent");
    buf.rcvCommit(n);
    this.segDone += n;
    this.filePos += n;
    return n;
  }

  /** Closes the file (the answer is delivered, or the stream ended). */
  release(): void {
    this.file?.close();
    this.file = null;
  }
}

/** Where the CRLF CRLF ending a head starts in `b[from..to)`, or -1. */
function headEnd(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

const LATIN1 = new TextDecoder("latin1");
const WANTED: Readonly<Record<string, keyof StaticRequest>> = {
  "range": "range",
  "if-range": "ifRange",
  "if-match": "ifMatch",
  "if-none-match": "ifNoneMatch",
  "if-modified-since": "ifModifiedSince",
  "if-unmodified-since": "ifUnmodifiedSince",
  "accept-encoding": "acceptEncoding",
};

/** The request's method, target and the headers a static backend reads (the analyser validated the head). */
export function parseHead(bytes: Uint8Array): StaticRequest {
  const lines = LATIN1.decode(bytes).split("\r\n");
  const [method = "", target = ""] = lines[0].split(" ");
  const req: StaticRequest = { method, target };
  for (let i = 1; i < lines.length; i++) {
    // Only names starting with r, i or a are wanted: skip the others unsliced.
    const f = lines[i].charCodeAt(0) | 0x20;
    if (f !== 0x72 && f !== 0x69 && f !== 0x61) continue;
    const c = lines[i].indexOf(":");
    if (c <= 0) continue;
    const key = WANTED[lines[i].slice(0, c).toLowerCase()];
    if (key === undefined) continue;
    const v = lines[i].slice(c + 1).trim();
    const prev = req[key];
    req[key] = prev === undefined ? v : `${prev}, ${v}`;
  }
  return req;
}

function stateOf(conn: Connection): StaticConn {
  return conn.app as StaticConn;
}

/** The data layer of a static backend serving `spec`. */
export function staticLayer(spec: StaticSpec): DataLayer {
  return {
    name: "static",
    attach() {},
    connect(conn: Connection) {
      conn.app = new StaticConn(spec, conn);
      conn.connectStarted();
      conn.connected();
    },
    rcvBuf(conn: Connection, buf: Buf) {
      conn.rcvStarted(buf);
      stateOf(conn).pump();
    },
    rcvStop(conn: Connection) {
      conn.rcvStopped();
    },
    sndBuf(conn: Connection, buf: Buf) {
      const view = buf.sndView();
      const st = stateOf(conn);
      st.take(view);
      buf.sndCommit(view.length);
      conn.sent += view.length;
      conn.wake();
    },
    shutw() {},
    close(conn: Connection) {
      const st = stateOf(conn);
      if (st.closed || !(conn.flags & CO_FL_CLOSED)) return;
      st.closed = true;
      st.release();
    },
  };
}
