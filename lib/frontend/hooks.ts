/**
 * TypeScript hooks of a frontend: `onRequest` (may be async) and
 * `onResponse` (sync). A hook gets a context built from the parsed head
 * (strings are made only here, only when a hook is configured) and its
 * changes become header/target changes of the head rewrite, a backend
 * switch, or a direct answer. Hooks that throw fail their own request only.
 *
 * @module
 */
import type { RequestContext, ResponseContext } from "../backend/hook_types.ts";
import { bytesToStr, lc } from "../http/h1_chars.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import { H1_MF_ABS_URI, H1_MF_VER_11, type HttpMsg } from "../http/h1_types.ts";
import { absoluteFormAuthority, absoluteFormPathPos } from "../http/h1_parser.ts";
import { SF_ENDED } from "../stream/stream_types.ts";
import type { HookOutcome } from "../http/http_txn.ts";
import { buildReply } from "../rules/act_reply.ts";
import { checkEditable, PROTECTED_HEADERS } from "../rules/http_act_args.ts";
import { targetOf } from "../rules/http_target.ts";
import type { Stream } from "../stream/stream.ts";
import type { Backend } from "../backend/backend.ts";

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^\/[\x21-\x7e]*$/;

/** What the hook runner needs from its frontend. */
export interface HookHost {
  readonly name: string;
  /** Backends a hook may route to, by name. */
  backend(name: string): Backend | undefined;
  /** Largest answer a hook may give (it is streamed through the buffer). */
  readonly maxReply: number;
}

function headersOf(msg: HttpMsg, a: Uint8Array, base: number): [string, string][] {
  const out: [string, string][] = [];
  const h = msg.hdrs;
  for (let i = 0; i < msg.nHdrs; i++) {
    const k = i * 4;
    out.push([bytesToStr(a, base + h[k], h[k + 1]), bytesToStr(a, base + h[k + 2], h[k + 3])]);
  }
  return out;
}

function firstHeader(headers: readonly (readonly [string, string])[], name: string): string | null {
  const n = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === n) return v;
  return null;
}

function checkHeader(name: unknown, value: unknown, op: "set" | "add" | "del" | null): void {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(`Invalid header name ${safeText(name)}`);
  }
  if (op !== null) {
    checkEditable(name, op, (why) => {
      throw new TypeError(why);
    });
  } else if (PROTECTED_HEADERS.has(name.toLowerCase())) {
    throw new TypeError(`the ${name} header is set by sluice`);
  }
  if (value !== null && (typeof value !== "string" || !VALUE.test(value))) {
    throw new TypeError(
      `Invalid value for header ${name}: expected text without control characters`,
    );
  }
}

/**
 * Calls a hook and applies what it did with `finish` once it returns (or
 * its promise resolves); a throw or rejection — its own or finish's —
 * goes to `onError` (which may not throw either) and becomes an error
 * outcome: a hook only ever fails its own request.
 */
function callHook(
  call: () => unknown,
  finish: () => HookOutcome,
  onError: (err: unknown) => void,
): HookOutcome | Promise<HookOutcome> {
  const failed = (err: unknown): HookOutcome => {
    const message = safeText(err);
    try {
      onError(err);
    } catch {
      // Reporting must never take the process down.
    }
    return { kind: "error", message };
  };
  let r: unknown;
  try {
    r = call();
  } catch (err) {
    return failed(err);
  }
  if (!isThenable(r)) return finish();
  return Promise.resolve(r).then(() => {
    try {
      return finish();
    } catch (err) {
      return failed(err);
    }
  }, failed);
}

/** Text for a log line from anything (a thrown value may not even convert to a string). */
export function safeText(v: unknown): string {
  let s: string;
  try {
    s = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  } catch {
    s = "<unprintable value>";
  }
  // One log line: no control characters.
  let out = "";
  for (let i = 0; i < s.length && i < 500; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? "?" : s[i];
  }
  return out;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null &&
    typeof (v as { then?: unknown }).then === "function";
}

/** Header edits a hook made, applied to the rewrite when it returns. */
class HeaderEdits {
  readonly drop: Uint8Array[] = [];
  readonly add: [string, string][] = [];

  set(name: string, value: string): void {
    checkHeader(name, value, "set");
    this.delete(name);
    this.add.push([name, value]);
  }

  append(name: string, value: string): void {
    checkHeader(name, value, "add");
    this.add.push([name, value]);
  }

  delete(name: string): void {
    checkHeader(name, null, "del");
    this.drop.push(lc(name));
    const n = name.toLowerCase();
    for (let i = this.add.length - 1; i >= 0; i--) {
      if (this.add[i][0].toLowerCase() === n) this.add.splice(i, 1);
    }
  }

  /** Moves the edits into `rw` (a hook's headers replace those set by rules and by sluice). */
  apply(rw: RewriteOptions): void {
    for (const d of this.drop) {
      rw.drop!.push(d);
      const n = new TextDecoder().decode(d);
      for (let i = rw.add!.length - 1; i >= 0; i--) {
        if (rw.add![i][0].toLowerCase() === n) rw.add!.splice(i, 1);
      }
    }
    for (const x of this.add) rw.add!.push(x);
  }
}

/**
 * Runs `onRequest` for a parsed request. Returns an outcome at once when
 * the hook is synchronous, else a promise that never rejects.
 */
export function runRequestHook(
  hook: (ctx: RequestContext) => void | Promise<void>,
  host: HookHost,
  strm: Stream,
  req: { msg: HttpMsg; a: Uint8Array; base: number; rw: RewriteOptions },
  onError: (err: unknown) => void,
): HookOutcome | Promise<HookOutcome> {
  const { msg, a, base, rw } = req;
  // What the server will get: origin form, Host from an absolute URI.
  const target = targetOf(req);
  const q = target.indexOf("?");
  const headers = headersOf(msg, a, base);
  if (msg.flags & H1_MF_ABS_URI) {
    const up = base + msg.uriPos;
    const auth = absoluteFormAuthority(a, up, msg.uriLen);
    const end = absoluteFormPathPos(a, up, msg.uriLen, auth);
    for (let i = headers.length - 1; i >= 0; i--) {
      if (headers[i][0].toLowerCase() === "host") headers.splice(i, 1);
    }
    headers.push(["Host", bytesToStr(a, up + auth, end - auth)]);
  }
  const edits = new HeaderEdits();
  let newBackend: Backend | null = null;
  let newTarget: string | null = null;
  let reply: HookOutcome | null = null;
  const ctx: RequestContext = {
    method: bytesToStr(a, base + msg.methPos, msg.methLen),
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? "" : target.slice(q + 1),
    version: (msg.flags & H1_MF_VER_11) ? "HTTP/1.1" : "HTTP/1.0",
    headers,
    header: (name) => firstHeader(headers, name),
    client: { address: strm.cliAddr, port: strm.cliPort, tls: strm.cliTls },
    frontend: host.name,
    get backend() {
      return (newBackend ?? strm.be).name;
    },
    useBackend(name) {
      const be = host.backend(name);
      if (be === undefined) throw new TypeError(`No backend named ${JSON.stringify(name)}`);
      newBackend = be;
    },
    setHeader: (n, v) => edits.set(n, v),
    addHeader: (n, v) => edits.append(n, v),
    deleteHeader: (n) => edits.delete(n),
    setPath(p) {
      if (typeof p !== "string" || !TARGET.test(p)) {
        throw new TypeError(`Invalid path ${JSON.stringify(p)}: must start with "/", no spaces`);
      }
      newTarget = p;
    },
    respond(status, options = {}) {
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new TypeError(`Invalid status ${status}: expected 200 to 599`);
      }
      const hdrs = Object.entries(options.headers ?? {});
      for (const [k, v] of hdrs) checkHeader(k, v, null);
      const body = options.body ?? "";
      if (typeof body !== "string" && !(body instanceof Uint8Array)) {
        throw new TypeError("The body must be a string or a Uint8Array");
      }
      const bytes = buildReply(status, hdrs as [string, string][], body);
      if (bytes.length > host.maxReply) {
        throw new RangeError(
          `Response of ${bytes.length} bytes is over the ${host.maxReply}-byte limit`,
        );
      }
      reply = { kind: "reply", status, bytes, deny: false };
    },
  };
  const finish = (): HookOutcome => {
    // Settled after the stream ended (client gone, hook timed out): nothing to apply.
    if (strm.flags & SF_ENDED) return { kind: "error", message: "stream ended" };
    if (reply !== null) return reply;
    edits.apply(rw);
    if (newTarget !== null) rw.target = newTarget;
    if (newBackend !== null) strm.switchBackend(newBackend);
    return { kind: "continue" };
  };
  return callHook(() => hook(ctx), finish, onError);
}

/**
 * Runs `onResponse` on a parsed response head: its header edits go to
 * `res.rw` when it returns (or its promise resolves); a throw or rejection
 * is an error outcome (the client gets 500).
 */
export function runResponseHook(
  hook: (ctx: ResponseContext) => void | Promise<void>,
  strm: Stream,
  res: {
    msg: HttpMsg;
    a: Uint8Array;
    base: number;
    rw: RewriteOptions;
    request: { method: string; path: string };
  },
  onError: (err: unknown) => void,
): HookOutcome | Promise<HookOutcome> {
  const { msg, a, base, rw } = res;
  const headers = headersOf(msg, a, base);
  const edits = new HeaderEdits();
  const srv = strm.target;
  const ctx: ResponseContext = {
    status: msg.status,
    headers,
    header: (name) => firstHeader(headers, name),
    request: res.request,
    server: `${strm.be.name}/${srv === null ? "<NOSRV>" : srv.name}`,
    setHeader: (n, v) => edits.set(n, v),
    addHeader: (n, v) => edits.append(n, v),
    deleteHeader: (n) => edits.delete(n),
  };
  const finish = (): HookOutcome => {
    if (strm.flags & SF_ENDED) return { kind: "error", message: "stream ended" };
    edits.apply(rw);
    return { kind: "continue" };
  };
  return callHook(() => hook(ctx), finish, onError);
}
