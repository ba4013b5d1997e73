/**
 * SIGUSR1 without Deno's debugger.
 *
 * Deno ≥ 2.9.2 starts its V8 inspector on 127.0.0.1:9229 when the process
 * gets SIGUSR1 (as Node does): any local user could then run code inside the
 * proxy. A JS listener (`Deno.addSignalListener`) does not stop it, and no
 * flag or environment variable turns it off. HAProxy operators send SIGUSR1
 * for a soft stop, so sluice must take that signal for itself.
 *
 * How: Deno handles every signal through one process-wide handler (a
 * signal-hook registry) that calls the actions registered for the signal —
 * the JS listeners' and, from 500 ms after start, the inspector's. Adding a
 * JS listener first makes the registry install its handler for SIGUSR1 at
 * once; we then replace that handler with `sigaction()` (through FFI) by a
 * four-instruction native handler that only increments a counter in a page
 * of our own. The registry installs its handler once per signal, so the
 * inspector's later registration lands in a list nothing calls any more.
 * `check()` re-installs ours if anything replaced it. The main thread reads
 * the counter (`received()`) on a timer and turns it into a soft stop.
 *
 * The handler is machine code written into an anonymous page that is then
 * made read+execute (never writable and executable at once): x86-64 and
 * arm64 on Linux. Elsewhere (macOS) SIGUSR1 is ignored instead, which keeps
 * the debugger closed but gives no soft stop. Needs `--allow-ffi`.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS_LINUX = 0x20;
const SA_RESTART_LINUX = 0x10000000;
const SIGUSR1_LINUX = 10;
const SIGUSR1_DARWIN = 30;
/** glibc's `struct sigaction` on x86-64 and arm64: handler, 128-byte mask, flags, restorer. */
const SIGACTION_SIZE = 152;
const SIGACTION_FLAGS_AT = 136;
const PAGE = 4096;

/** A SIGUSR1 counter that replaced Deno's SIGUSR1 handling. */
export interface Usr1Guard {
  /** SIGUSR1 signals received since the guard was installed. */
  received(): number;
  /**
   * Makes sure the counting handler is still SIGUSR1's, re-installing it if
   * something replaced it; returns false when it had to.
   */
  check(): boolean;
}

/**
 * The native handler for `arch`, incrementing the 32-bit counter at `counter`:
 * x86-64 `mov rax, imm64; lock inc dword [rax]; ret`; arm64 loads the address
 * from a literal, then load, add 1, store, return (a lost count between two
 * threads only matters as "one or more signals", which is all we need).
 */
export function usr1HandlerCode(arch: string, counter: bigint): Uint8Array | null {
  if (arch === "x86_64") {
    const code = new Uint8Array(14);
    code.set([0x48, 0xb8]);
    new DataView(code.buffer).setBigUint64(2, counter, true);
    code.set([0xf0, 0xff, 0x00, 0xc3], 10);
    return code;
  }
  if (arch === "aarch64") {
    const code = new Uint8Array(32);
    const dv = new DataView(code.buffer);
    const ins = [
      0x580000c1, // ldr x1, #24   (the literal below)
      0xb9400022, // ldr w2, [x1]
      0x11000442, // add w2, w2, #1
      0xb9000022, // str w2, [x1]
      0xd65f03c0, // ret
      0xd503201f, // nop (pads the literal to 8 bytes)
    ];
    ins.forEach((w, i) => dv.setUint32(i * 4, w, true));
    dv.setBigUint64(24, counter, true);
    return code;
  }
  return null;
}

const LINUX_SYMBOLS = {
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
} as const;

/**
 * Takes SIGUSR1 away from Deno's inspector (see the module comment). Throws
 * `ERR_PERMISSION` without `--allow-ffi`, `ERR_UNSUPPORTED` where it cannot
 * be done; call once per process, from the main thread.
 */
export function guardUsr1(): Usr1Guard {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    throw new SluiceError(
      "ERR_PERMISSION",
      "SIGUSR1 would open Deno's debugger on 127.0.0.1:9229: run sluice with --allow-ffi so it can keep the debugger closed",
    );
  }
  // Makes Deno's signal registry install its SIGUSR1 handler now, so that
  // ours, installed next, is the one left in place.
  Deno.addSignalListener("SIGUSR1", () => {});
  if (Deno.build.os === "darwin") return ignoreUsr1Darwin();
  if (Deno.build.os !== "linux") {
    throw new SluiceError("ERR_UNSUPPORTED", `cannot guard SIGUSR1 on ${Deno.build.os}`);
  }
  const libc = Deno.dlopen("libc.so.6", LINUX_SYMBOLS);
  const map = (): Deno.PointerObject => {
    const p = libc.symbols.mmap(
      null,
      BigInt(PAGE),
      PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS_LINUX,
      -1,
      0n,
    );
    if (p === null || Deno.UnsafePointer.value(p) === -1n) {
      throw new SluiceError("ERR_UNSUPPORTED", "cannot guard SIGUSR1: mmap failed");
    }
    return p;
  };
  const data = map();
  const codePage = map();
  const code = usr1HandlerCode(Deno.build.arch, BigInt(Deno.UnsafePointer.value(data)));
  if (code === null) {
    throw new SluiceError("ERR_UNSUPPORTED", `cannot guard SIGUSR1 on ${Deno.build.arch}`);
  }
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(codePage, PAGE)).set(code);
  if (libc.symbols.mprotect(codePage, BigInt(PAGE), PROT_READ | PROT_EXEC) !== 0) {
    throw new SluiceError("ERR_UNSUPPORTED", "cannot guard SIGUSR1: mprotect failed");
  }
  const handler = BigInt(Deno.UnsafePointer.value(codePage));
  const act = new Uint8Array(SIGACTION_SIZE);
  const actView = new DataView(act.buffer);
  actView.setBigUint64(0, handler, true);
  actView.setInt32(SIGACTION_FLAGS_AT, SA_RESTART_LINUX, true);
  const cur = new Uint8Array(SIGACTION_SIZE);
  const curView = new DataView(cur.buffer);
  const install = () => {
    if (libc.symbols.sigaction(SIGUSR1_LINUX, act, null) !== 0) {
      throw new SluiceError("ERR_UNSUPPORTED", "cannot guard SIGUSR1: sigaction failed");
    }
  };
  install();
  const counter = new Deno.UnsafePointerView(data);
  return {
    received: () => counter.getUint32(0),
    check() {
      libc.symbols.sigaction(SIGUSR1_LINUX, null, cur);
      if (curView.getBigUint64(0, true) === handler) return true;
      install();
      return false;
    },
  };
}

/** macOS: SIG_IGN (the debugger stays closed; no soft stop on SIGUSR1). */
function ignoreUsr1Darwin(): Usr1Guard {
  const libc = Deno.dlopen("libSystem.B.dylib", {
    signal: { parameters: ["i32", "usize"], result: "usize" },
  });
  const ignore = () => libc.symbols.signal(SIGUSR1_DARWIN, 1n);
  ignore();
  return {
    received: () => 0,
    check() {
      return ignore() === 1n;
    },
  };
}
