/**
 * The link between one TLS worker and one HTTP worker (`tls-isolation`): a
 * MessagePort carrying new connections and "bells". A connection's bytes
 * move through two ByteRings in a SharedArrayBuffer of its own
 * (core/byte_ring.ts); a bell only says which connection has news: data
 * written, room made, closed. Bells of one turn of the event loop go in one
 * message, in order, each connection's kind of news at most once.
 *
 * @module
 */
import type { TlsFacts } from "./tls_bind.ts";
import type { PpAddr } from "./proxy_proto.ts";

/** Data was written to the ring the receiver reads (or its producer finished). */
export const BELL_DATA = 0;
/** Room was made in the ring the receiver writes (it had asked: ByteRing.block()). */
export const BELL_ROOM = 1;
/** The HTTP side closed after its shutdown: send what is left, then close. */
export const BELL_CLOSE = 2;
/** Closed at once: the HTTP side aborted, or the client's side failed or reset. */
export const BELL_ABORT = 3;

/** One end of a connection on a link: receives its bells. */
export interface RingPeer {
  bell(kind: number): void;
}

/** What a TLS worker tells an HTTP worker of a connection it hands over. */
export interface RingConnMsg {
  t: "conn";
  /** The connection's number on this link. */
  id: number;
  /** Two rings: client to HTTP worker, then HTTP worker to client (ring_sock.ts). */
  sab: SharedArrayBuffer;
  /** Ring capacity (bytes, 2^n). */
  cap: number;
  /** The listener's bound address (`host:port`): which listener it belongs to. */
  key: string;
  /** The TCP peer and local addresses. */
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** Addresses from a PROXY header (`accept-proxy`), or null. */
  proxied: { src: PpAddr | null; dst: PpAddr | null } | null;
  /** What the handshake left (the `ssl_fc_*` / `ssl_c_*` fetches). */
  tls: TlsFacts;
}

/**
 * The TLS worker sends no new connection on this link (it stops, or the
 * HTTP worker does): after the connections sent before it, as port
 * messages keep their order.
 */
export interface RingDoneMsg {
  t: "done";
}

/** Bells waiting for the end of the turn, as (id, kind) pairs. */
type Bells = number[];

/** One MessagePort between a TLS worker and an HTTP worker. */
export class RingLink {
  /** The connections on this link, by number. */
  readonly peers = new Map<number, RingPeer>();
  /** New connections (HTTP side). */
  onConn: ((m: RingConnMsg) => void) | null = null;
  /** HTTP side: the TLS worker said it sends no new connection (RingDoneMsg). */
  done = false;
  readonly #port: MessagePort;
  #bells: Bells = [];
  #seen = new Set<number>();
  #queued = false;
  #closed = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.onmessage = (e: MessageEvent<Bells | RingConnMsg | RingDoneMsg>) => this.#receive(e.data);
  }

  /** Tells the other side that connection `id` has news of `kind`, at the end of this turn. */
  bell(id: number, kind: number): void {
    if (this.#closed) return;
    const key = id * 4 + kind;
    if (kind <= BELL_ROOM) {
      if (this.#seen.has(key)) return;
      this.#seen.add(key);
    }
    this.#bells.push(id, kind);
    if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(this.flush);
    }
  }

  /** Sends a new connection (after the bells already due, which may concern older ones). */
  send(m: RingConnMsg): void {
    if (this.#closed) return;
    this.flush();
    this.#port.postMessage(m);
  }

  /** TLS side: no new connection will be sent on this link. */
  sendDone(): void {
    if (this.#closed) return;
    this.flush();
    this.#port.postMessage({ t: "done" } satisfies RingDoneMsg);
  }

  /** Posts the bells of this turn. */
  flush = (): void => {
    this.#queued = false;
    if (this.#bells.length === 0 || this.#closed) return;
    const b = this.#bells;
    this.#bells = [];
    this.#seen.clear();
    this.#port.postMessage(b);
  };

  /** The other side is gone: every connection is aborted, the port closed. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#port.close();
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const p of peers) p.bell(BELL_ABORT);
  }

  #receive(m: Bells | RingConnMsg | RingDoneMsg): void {
    if (!Array.isArray(m)) {
      if (m.t === "done") this.done = true;
      else this.onConn?.(m);
      return;
    }
    for (let i = 0; i < m.length; i += 2) this.peers.get(m[i])?.bell(m[i + 1]);
  }
}
