/**
 * The TLS worker's side of a connection it handed to an HTTP worker
 * (`tls-isolation`): pumps the TLS socket's plaintext into the up ring and
 * the down ring's bytes into the TLS socket, with backpressure both ways
 * (a full up ring pauses the socket until a room bell; a socket that
 * buffers too much stops the draining of the down ring until 'drain').
 *
 * @module
 */
import type tls from "node:tls";
import type { ByteRing } from "../core/byte_ring.ts";
import {
  BELL_ABORT,
  BELL_CLOSE,
  BELL_DATA,
  BELL_ROOM,
  type RingLink,
  type RingPeer,
} from "./ring_link.ts";

/** Most bytes taken from the down ring per socket write. */
const WRITE_MAX = 64 * 1024;

/** One client connection, its TLS done here, its HTTP done in another worker. */
export class RingPump implements RingPeer {
  readonly #t: tls.TLSSocket;
  readonly #link: RingLink;
  readonly #id: number;
  readonly #up: ByteRing;
  readonly #down: ByteRing;
  readonly #onGone: () => void;
  /** Plaintext that did not fit in the up ring (the socket is paused meanwhile). */
  #rest: Uint8Array | null = null;
  /** The client's end arrived while #rest was held. */
  #eofHeld = false;
  /** The socket buffers more than it likes: wait for 'drain'. */
  #full = false;
  /** Our write side is ended (the HTTP side shut down). */
  #ended = false;
  /** The HTTP side closed (CLOSE or ABORT) or the link is gone. */
  #httpGone = false;
  #closed = false;

  /**
   * Starts pumping `t` (its handshake done); `onGone` runs once when the
   * socket is closed.
   */
  constructor(
    t: tls.TLSSocket,
    link: RingLink,
    id: number,
    up: ByteRing,
    down: ByteRing,
    onGone: () => void,
  ) {
    this.#t = t;
    this.#link = link;
    this.#id = id;
    this.#up = up;
    this.#down = down;
    this.#onGone = onGone;
    link.peers.set(id, this);
    t.on("data", this.#onData);
    t.on("end", this.#onEnd);
    t.on("drain", this.#onDrain);
    t.on("error", this.#onError);
    t.on("close", this.#onClose);
    t.resume();
  }

  bell(kind: number): void {
    if (this.#closed) return;
    switch (kind) {
      case BELL_DATA:
        this.#drain();
        return;
      case BELL_ROOM:
        this.#flushRest();
        return;
      case BELL_CLOSE:
        this.#httpGone = true;
        this.#drain();
        if (!this.#full) this.#t.destroySoon();
        return;
      case BELL_ABORT:
        this.#httpGone = true;
        this.#t.destroy();
        return;
    }
  }

  #onData = (chunk: Uint8Array): void => {
    if (this.#rest !== null) {
      // Read ahead while pausing: keep it behind what waits.
      const both = new Uint8Array(this.#rest.length + chunk.length);
      both.set(this.#rest);
      both.set(chunk, this.#rest.length);
      this.#rest = both;
      return;
    }
    const n = this.#up.write(chunk);
    if (n > 0) this.#link.bell(this.#id, BELL_DATA);
    if (n < chunk.length) {
      this.#rest = chunk.subarray(n);
      this.#t.pause();
      if (this.#up.block()) this.#flushRest();
    }
  };

  /** Writes what was held back, as room allows; resumes the socket when all is in. */
  #flushRest(): void {
    for (;;) {
      const rest = this.#rest;
      if (rest === null) return;
      const n = this.#up.write(rest);
      if (n > 0) this.#link.bell(this.#id, BELL_DATA);
      if (n === rest.length) {
        this.#rest = null;
        if (this.#eofHeld) this.#finishUp();
        else this.#t.resume();
        return;
      }
      this.#rest = rest.subarray(n);
      if (!this.#up.block()) return;
    }
  }

  #onEnd = (): void => {
    if (this.#rest !== null) this.#eofHeld = true;
    else this.#finishUp();
  };

  #finishUp(): void {
    this.#up.finish();
    this.#link.bell(this.#id, BELL_DATA);
  }

  /** Moves the down ring's bytes to the socket while it takes them; ends it after a FIN. */
  #drain(): void {
    if (this.#full || this.#ended) return;
    const down = this.#down;
    for (;;) {
      // The flag first: it is set after the last write (byte_ring.ts).
      const fin = down.finished();
      const avail = down.avail();
      if (avail === 0) {
        if (fin) {
          this.#ended = true;
          this.#t.end();
        }
        return;
      }
      const chunk = new Uint8Array(avail < WRITE_MAX ? avail : WRITE_MAX);
      down.read(chunk);
      if (down.takeBlocked()) this.#link.bell(this.#id, BELL_ROOM);
      if (!this.#t.write(chunk)) {
        this.#full = true;
        return;
      }
    }
  }

  #onDrain = (): void => {
    this.#full = false;
    this.#drain();
    if (this.#httpGone && !this.#full && !this.#closed) this.#t.destroySoon();
  };

  #onError = (): void => {
    this.#t.destroy();
  };

  #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.peers.delete(this.#id);
    if (!this.#httpGone) this.#link.bell(this.#id, BELL_ABORT);
    this.#onGone();
  };
}
