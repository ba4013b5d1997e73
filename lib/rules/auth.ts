/**
 * HAProxy's userlists (auth.c): users with a plain (`insecure-password`) or
 * crypt(3) (`password`) password and the groups they belong to, and the
 * check of a request's HTTP Basic credentials against them, for the
 * `http_auth(L)` and `http_auth_group(L)` fetches.
 *
 * Plain passwords are compared in constant time. A hash costs thousands of
 * digests by design (about 30 ms for `$6$` at 5000 rounds), so results are
 * kept per (user, password) in a bounded cache keyed by a digest of both:
 * no password is kept in memory.
 *
 * Fetches are compiled from their words alone; the userlists they name are
 * found through authScope(), which the configuration sets around the
 * compilation of rules, so an unknown userlist is a load-time error.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { eqNoCase, lc } from "../http/h1_chars.ts";
import type { AclCtx } from "./acl_types.ts";
import { cryptHash } from "./auth_crypt.ts";

/** One user of a userlist. */
export interface AuthUser {
  readonly name: string;
  /** The plain password, or the crypt(3) hash when `hashed`. */
  readonly pass: string;
  readonly hashed: boolean;
  /** The groups the user belongs to (from `user … groups` and `group … users`). */
  readonly groups: readonly string[];
}

/** Results of hash checks kept per userlist; the oldest goes first when full. */
const CACHE_MAX = 1024;

/** A userlist: its users by name and its groups. */
export class Userlist {
  readonly #users = new Map<string, AuthUser>();
  readonly #cache = new Map<string, boolean>();

  constructor(
    readonly name: string,
    users: readonly AuthUser[],
    readonly groups: readonly string[],
  ) {
    for (const u of users) this.#users.set(u.name, u);
  }

  /** The user when `pass` is theirs, else null. */
  check(user: string, pass: Uint8Array): AuthUser | null {
    const u = this.#users.get(user);
    if (u === undefined) return null;
    if (!u.hashed) return sameBytes(new TextEncoder().encode(u.pass), pass) ? u : null;
    const key = createHash("sha256").update(user).update("\0").update(pass).digest("base64");
    let ok = this.#cache.get(key);
    if (ok === undefined) {
      const got = cryptHash(pass, u.pass);
      ok = got !== null &&
        sameBytes(new TextEncoder().encode(got), new TextEncoder().encode(u.pass));
      if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(key, ok);
    }
    return ok ? u : null;
  }
}

/** Equal byte strings, in time that depends on neither content (lengths are hidden by digests). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** What rules being compiled may refer to: the userlists, the proxy's name. */
export interface AuthScope {
  readonly userlists: ReadonlyMap<string, Userlist>;
  /** The section whose rules these are: `http-request auth`'s default realm. */
  readonly proxy: string;
}

/** The scope of the rules being compiled; null outside a configuration. */
let SCOPE: AuthScope | null = null;

/**
 * Runs `fn` (the compilation of a proxy's rules) in `scope`: the userlists
 * that `http_auth(L)` and `http_auth_group(L)` may name, and the proxy name.
 */
export function authScope<T>(scope: AuthScope, fn: () => T): T {
  const prev = SCOPE;
  SCOPE = scope;
  try {
    return fn();
  } finally {
    SCOPE = prev;
  }
}

/** Runs `fn` in the current scope's userlists, with `proxy` as the proxy's name. */
export function authScopeProxyNamed<T>(proxy: string, fn: () => T): T {
  return authScope({ userlists: SCOPE?.userlists ?? new Map(), proxy }, fn);
}

/** The name of the proxy whose rules are being compiled ("" outside a configuration). */
export function authScopeProxy(): string {
  return SCOPE?.proxy ?? "";
}

/** The userlist called `name` in the current scope, or a message saying why not. */
export function userlistFind(name: string): Userlist | string {
  const l = SCOPE?.userlists.get(name);
  if (l !== undefined) return l;
  const known = SCOPE === null ? [] : [...SCOPE.userlists.keys()];
  return `no userlist named ${JSON.stringify(name)}${
    known.length > 0 ? ` (known: ${known.join(", ")})` : " (declare it in a userlist section)"
  }`;
}

const AUTHORIZATION = lc("authorization");
const BASIC = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The Basic credentials of the request in `ctx` (the first Authorization
 * header, as HAProxy): user name and password bytes, or null when there are
 * none, the scheme is not Basic, or they do not decode (bad base64, no `:`,
 * a user name that is not UTF-8).
 */
export function basicCredentials(ctx: AclCtx): { user: string; pass: Uint8Array } | null {
  const msg = ctx.msg, a = ctx.a, base = ctx.base, hdrs = msg.hdrs;
  for (let k = 0; k < msg.nHdrs * 4; k += 4) {
    if (!eqNoCase(a, base + hdrs[k], hdrs[k + 1], AUTHORIZATION)) continue;
    const vp = base + hdrs[k + 2];
    let v = "";
    for (let i = vp; i < vp + hdrs[k + 3]; i++) v += String.fromCharCode(a[i]);
    // The first comma-separated element, as HAProxy reads the header (base64 has no comma).
    const comma = v.indexOf(",");
    const m = BASIC.exec((comma < 0 ? v : v.slice(0, comma)).trim());
    if (m === null || m[1].length % 4 !== 0) return null;
    let raw: Uint8Array;
    try {
      raw = Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0));
    } catch {
      return null;
    }
    const colon = raw.indexOf(0x3a);
    if (colon < 0) return null;
    try {
      return { user: UTF8.decode(raw.subarray(0, colon)), pass: raw.subarray(colon + 1) };
    } catch {
      return null;
    }
  }
  return null;
}
