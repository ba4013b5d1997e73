/**
 * The epoll set of the FFI data layer: one per thread, shared by every
 * scheduler of the thread that runs FFI sockets (an old configuration that
 * drains and its replacement, during a reload).
 *
 * Readiness is harvested synchronously: each scheduler turn starts with an
 * `epoll_wait` that does not block (`poll()`), and the events wake the
 * connections' tasks, which then run in that very turn. Deno's event loop
 * stays the master of the thread (timers, node:net and TLS sockets, log
 * writes keep working), so the poller never blocks the thread itself: when
 * every scheduler is idle it arms an **idle wait**, the same `epoll_wait`
 * run on a runtime thread (Deno's `nonblocking` FFI call), on a second epoll
 * set that holds only the first one and an eventfd. It reports that events
 * are pending without taking them; the thread then polls in a turn. An
 * awaited FFI call costs ~4 µs, so it is armed only on the way to idle,
 * never per event.
 *
 * Sockets are registered once, edge-triggered for reads and writes
 * (`EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET`), so no `epoll_ctl` is needed per
 * request; listening sockets are level-triggered (a bounded accept loop may
 * leave connections for the next poll). The event data carries the fd and a
 * generation number, so an event of a closed socket is never delivered to a
 * new socket that got the same fd in the same batch.
 *
 * @module
 */
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EINTR,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_DATA_AT,
  EPOLL_EVENT_SIZE,
  EPOLLET,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  errno,
  type Libc,
  libc,
  SysError,
} from "./libc.ts";

/** Receives the readiness events of one registered fd. */
export interface IoHandler {
  /** Generation of the registration (set by the poller). */
  gen: number;
  /** EPOLL* bits that are ready. */
  ioEvent(events: number): void;
}

/** A scheduler as the poller sees it. */
export interface PollerUser {
  /** A turn is scheduled: it will poll, no idle wait is needed. */
  readonly turnPending: boolean;
}

/** Events taken per `epoll_wait`. */
const MAX_EVENTS = 256;

/** The epoll set of this thread. */
export class Poller {
  readonly #l: Libc;
  readonly #ep: number;
  /** The idle wait's set: `#ep` and the eventfd. */
  readonly #wakeEp: number;
  readonly #efd: number;
  readonly #handlers: (IoHandler | undefined)[] = [];
  readonly #events = new Uint8Array(MAX_EVENTS * EPOLL_EVENT_SIZE);
  readonly #ev: DataView;
  readonly #ctl = new Uint8Array(EPOLL_EVENT_SIZE);
  readonly #ctlView: DataView;
  readonly #idleEvents = new Uint8Array(2 * EPOLL_EVENT_SIZE);
  readonly #users = new Set<PollerUser>();
  #gen = 0;
  /** Registered fds. */
  #count = 0;
  #armed: Promise<number> | null = null;
  #closed = false;
  /** Idle waits armed (for tests and stats). */
  idleWaits = 0;

  constructor() {
    const l = this.#l = libc();
    this.#ev = new DataView(this.#events.buffer);
    this.#ctlView = new DataView(this.#ctl.buffer);
    this.#ep = l.epoll_create1(EPOLL_CLOEXEC);
    if (this.#ep < 0) throw new SysError("epoll_create1", errno());
    this.#wakeEp = l.epoll_create1(EPOLL_CLOEXEC);
    if (this.#wakeEp < 0) throw new SysError("epoll_create1", errno());
    this.#efd = l.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#efd < 0) throw new SysError("eventfd", errno());
    this.#ctlAdd(this.#wakeEp, this.#ep, EPOLLIN, 0);
    this.#ctlAdd(this.#wakeEp, this.#efd, EPOLLIN, 0);
  }

  /** Registered fds right now. */
  get count(): number {
    return this.#count;
  }

  /** Starts delivering events of `fd` to `h`: edge-triggered reads and writes. */
  register(fd: number, h: IoHandler): void {
    this.#add(fd, h, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  }

  /** Starts delivering events of listening socket `fd` to `h` (level-triggered). */
  registerListener(fd: number, h: IoHandler): void {
    this.#add(fd, h, EPOLLIN);
  }

  /**
   * Stops delivering events of `fd`. `closing` says the caller closes the fd
   * next, which removes it from the set by itself (no `epoll_ctl`).
   */
  unregister(fd: number, closing: boolean): void {
    if (this.#handlers[fd] === undefined) return;
    this.#handlers[fd] = undefined;
    this.#count--;
    if (!closing) this.#l.epoll_ctl(this.#ep, EPOLL_CTL_DEL, fd, this.#ctl);
  }

  /**
   * Takes the pending events without waiting and delivers them. Returns the
   * number of events.
   */
  poll(): number {
    if (this.#count === 0) return 0;
    const n = this.#l.epoll_wait(this.#ep, this.#events, MAX_EVENTS, 0);
    if (n <= 0) return 0;
    const ev = this.#ev, handlers = this.#handlers;
    for (let i = 0, at = 0; i < n; i++, at += EPOLL_EVENT_SIZE) {
      const fd = ev.getUint32(at + EPOLL_DATA_AT, true);
      const h = handlers[fd];
      // A handler of another generation got the fd after this event's socket closed.
      if (h !== undefined && h.gen === ev.getUint32(at + EPOLL_DATA_AT + 4, true)) {
        h.ioEvent(ev.getUint32(at, true));
      }
    }
    return n;
  }

  /** `user` polls in its turns and calls `idle()` when it has nothing left to run. */
  attach(user: PollerUser): void {
    this.#users.add(user);
  }

  /** `user` no longer polls. */
  detach(user: PollerUser): void {
    this.#users.delete(user);
  }

  /** Users attached. */
  get users(): number {
    return this.#users.size;
  }

  /**
   * A user has nothing left to run: arm the idle wait unless another user
   * will poll anyway or nothing is registered.
   */
  idle(): void {
    if (this.#armed !== null || this.#closed || this.#count === 0) return;
    for (const u of this.#users) if (u.turnPending) return;
    this.idleWaits++;
    const armed = this.#l.epoll_wait_nb(this.#wakeEp, this.#idleEvents, 2, -1);
    this.#armed = armed;
    armed.then(() => {
      this.#armed = null;
      if (this.#closed) return;
      // Deliver what is pending; the woken tasks' turns poll again and arm
      // the next idle wait when they are done. With nothing woken (an
      // event for a socket nobody reads yet), wait again.
      this.poll();
      this.idle();
    });
  }

  /**
   * Stops the idle wait (through the eventfd) and closes the sets. Every fd
   * must be unregistered by then.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const armed = this.#armed;
    if (armed !== null) {
      const one = new Uint8Array(8);
      one[0] = 1;
      this.#l.write(this.#efd, one, 8);
      await armed;
    }
    this.#l.close(this.#efd);
    this.#l.close(this.#wakeEp);
    this.#l.close(this.#ep);
  }

  #add(fd: number, h: IoHandler, events: number): void {
    h.gen = this.#gen = (this.#gen + 1) >>> 0;
    this.#ctlAdd(this.#ep, fd, events, h.gen);
    this.#handlers[fd] = h;
    this.#count++;
    // Nothing may poll soon (a first listener, a connection made while
    // idle): make sure its events are noticed.
    this.idle();
  }

  #ctlAdd(ep: number, fd: number, events: number, gen: number): void {
    const v = this.#ctlView;
    v.setUint32(0, events >>> 0, true);
    v.setUint32(EPOLL_DATA_AT, fd, true);
    v.setUint32(EPOLL_DATA_AT + 4, gen, true);
    for (;;) {
      if (this.#l.epoll_ctl(ep, EPOLL_CTL_ADD, fd, this.#ctl) === 0) return;
      const e = errno();
      if (e !== EINTR) throw new SysError("epoll_ctl", e);
    }
  }
}

let current: Poller | null = null;

/**
 * Attaches `user` to this thread's poller, creating it on first use. Throws
 * where the FFI layer cannot run (`ffiUnavailable()` says why).
 */
export function pollerAttach(user: PollerUser): Poller {
  current ??= new Poller();
  current.attach(user);
  return current;
}

/**
 * Detaches `user`; the last user to leave closes the poller (its fds must be
 * closed by then), so that nothing of it outlives the instances using it.
 */
export async function pollerDetach(user: PollerUser): Promise<void> {
  const p = current;
  if (p === null) return;
  p.detach(user);
  if (p.users === 0 && p.count === 0) {
    current = null;
    await p.close();
  }
}

/** This thread's poller (it must exist: the caller's scheduler attached it). */
export function poller(): Poller {
  return current!;
}
