/**
 * The libc calls of the FFI data layer (Linux, x86-64 and arm64), opened
 * once per thread on first use, with the constants they take.
 *
 * Types are chosen for V8's fast FFI path (measured: `recv` ~177 ns with
 * `u32`/`i32` lengths, 293 ns when a JS number goes to a `usize`): lengths
 * are `u32`, results `i32` (an `isize` result would come back as a BigInt),
 * buffers are typed arrays. errno is read through `__errno_location()`,
 * whose address is fixed for the thread and read once.
 *
 * @module
 */
import { ipv4Put, ipv4Text, ipv6Put, ipv6Text } from "../../core/ip_bytes.ts";

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_REUSEPORT = 15;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;
export const TCP_NODELAY = 1;
export const IPV6_V6ONLY = 26;
export const MSG_NOSIGNAL = 0x4000;
export const SHUT_WR = 1;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;

export const EINTR = 4;
export const EAGAIN = 11;
export const EINPROGRESS = 115;
export const ENFILE = 23;
export const EMFILE = 24;

/** errno values and the names node:net would give them (the error mapping reads names). */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  23: "ENFILE",
  24: "EMFILE",
  32: "EPIPE",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
  115: "EINPROGRESS",
};

/** An error from a libc call, with node's `code` and `errno` fields. */
export class SysError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(call: string, errno: number, detail = "") {
    const code = ERRNO_NAMES[errno] ?? `E${errno}`;
    super(`${call} ${code}${detail === "" ? "" : ` ${detail}`}`);
    this.code = code;
    this.errno = errno;
  }
}

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  /** The same call on a runtime thread: the idle wait (see poller.ts). */
  epoll_wait_nb: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The opened library. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Libc | null = null;
let errnoView: Deno.UnsafePointerView | null = null;

function open(): Libc {
  lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  errnoView = new Deno.UnsafePointerView(lib.__errno_location()!);
  return lib;
}

/**
 * Why the FFI data layer cannot run here, or null when it can: Linux on
 * x86-64 or arm64, with `--allow-ffi`.
 */
export function ffiUnavailable(): string | null {
  if (Deno.build.os !== "linux") return `the ffi I/O layer needs Linux (this is ${Deno.build.os})`;
  if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") {
    return `the ffi I/O layer needs x86-64 or arm64 (this is ${Deno.build.arch})`;
  }
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return "the ffi I/O layer needs --allow-ffi";
  }
  return null;
}

/** The libc symbols, opened on first use (throws where `ffiUnavailable()` says why). */
export function libc(): Libc {
  if (lib !== null) return lib;
  const why = ffiUnavailable();
  if (why !== null) throw new Error(why);
  return open();
}

/** errno of the last failed call on this thread. */
export function errno(): number {
  return errnoView!.getInt32(0);
}

/** `struct epoll_event` size: packed (12 bytes) on x86-64, 16 elsewhere. */
export const EPOLL_EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
/** Offset of `data` in `struct epoll_event`. */
export const EPOLL_DATA_AT = Deno.build.arch === "x86_64" ? 4 : 8;

/** A socket address in kernel form (`sockaddr_in`/`sockaddr_in6`), or null for a non-IP host. */
export function sockaddrOf(host: string, port: number): Uint8Array | null {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    const sa = new Uint8Array(16);
    new DataView(sa.buffer).setUint16(0, AF_INET, true);
    sa[2] = port >> 8;
    sa[3] = port & 0xff;
    ipv4Put(sa, 4, host);
    return sa;
  }
  if (host.includes(":")) {
    const sa = new Uint8Array(28);
    new DataView(sa.buffer).setUint16(0, AF_INET6, true);
    sa[2] = port >> 8;
    sa[3] = port & 0xff;
    ipv6Put(sa, 8, host);
    return sa;
  }
  return null;
}

/** Host and port of a kernel socket address (`sockaddr_in`/`sockaddr_in6`). */
export function sockaddrParse(sa: Uint8Array): { host: string; port: number } {
  const family = sa[0] | (sa[1] << 8);
  const port = (sa[2] << 8) | sa[3];
  if (family === AF_INET) return { host: ipv4Text(sa, 4), port };
  if (family === AF_INET6) return { host: ipv6Text(sa, 8), port };
  return { host: "", port: 0 };
}

const INT = new Int32Array(1);
const INT_BYTES = new Uint8Array(INT.buffer);
const INT_LEN = new Uint32Array(1);
const INT_LEN_BYTES = new Uint8Array(INT_LEN.buffer);

/** Turns TCP_NODELAY on (small responses leave at once, as with node:net's `noDelay`). */
export function tcpNoDelay(fd: number): void {
  INT[0] = 1;
  libc().setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, INT_BYTES, 4);
}

/** The pending error of socket `fd` (SO_ERROR), 0 for none. */
export function soError(fd: number): number {
  INT_LEN[0] = 4;
  if (libc().getsockopt(fd, SOL_SOCKET, SO_ERROR, INT_BYTES, INT_LEN_BYTES) !== 0) return errno();
  return INT[0];
}

// Opened with the module where it can be (a process with --allow-ffi on
// Linux): the library then belongs to the process from its start, not to
// whichever instance or test first used it.
if (ffiUnavailable() === null) open();

/**
 * With worker threads: the sockets this thread holds open, one byte per fd,
 * in memory the control thread shares. libc fds belong to the process, not
 * to the thread: if the thread dies, the control thread closes what is
 * marked here, so that no client waits on a connection nobody serves and no
 * listening socket keeps taking connections nobody accepts.
 */
let fdTable: Uint8Array | null = null;

/** Marks this thread's sockets in `table` from now on (see fdTable). */
export function fdTableUse(table: Uint8Array): void {
  fdTable = table;
}

/** A socket was opened (accept4, socket). */
export function fdOpened(fd: number): void {
  if (fdTable !== null && fd < fdTable.length) fdTable[fd] = 1;
}

/** Closes `fd`, unmarking it. */
export function fdClose(fd: number): void {
  if (fdTable !== null && fd < fdTable.length) fdTable[fd] = 0;
  libc().close(fd);
}

/** Closes every fd marked in `table` (a dead thread's), from another thread. */
export function fdTableCloseAll(table: Uint8Array): number {
  let n = 0;
  for (let fd = 0; fd < table.length; fd++) {
    if (table[fd] === 0) continue;
    table[fd] = 0;
    libc().close(fd);
    n++;
  }
  return n;
}
