/**
 * The userlist fetches (HAProxy's smp_fetch_http_auth and
 * smp_fetch_http_auth_grp): `http_auth(L)` is true when the request's Basic
 * credentials are those of a user of userlist L; `http_auth_group(L)`, in
 * an ACL, yields each group of that user, so that `acl admins
 * http_auth_group(L) admin ops` is true when the user belongs to one of
 * the groups (HAProxy's ACL derivative), and as a sample (`%[...]`) gives
 * the user's name, as HAProxy.
 *
 * @module
 */
import {
  type AclCtx,
  type AclFetch,
  type AclSampleSink,
  SMP_T_BOOL,
  SMP_T_STR,
} from "./acl_types.ts";
import { type AuthUser, basicCredentials, type Userlist, userlistFind } from "./auth.ts";

const ENC = new TextEncoder();

/** The user of `list` whose credentials the request carries, or null. */
function authUser(list: Userlist, ctx: AclCtx): AuthUser | null {
  const c = basicCredentials(ctx);
  return c === null ? null : list.check(c.user, c.pass);
}

/** `http_auth(L)`: the request's credentials are valid in L. */
class FetchHttpAuth implements AclFetch {
  readonly type = SMP_T_BOOL;
  constructor(readonly kw: string, readonly list: Userlist) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchInt(authUser(this.list, ctx) === null ? 0 : 1);
  }
}

/** `http_auth_group(L)` as a sample: the authenticated user's name. */
class FetchHttpAuthUser implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string, readonly list: Userlist) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const u = authUser(this.list, ctx);
    if (u === null) return false;
    const b = ENC.encode(u.name);
    return m.matchBytes(b, 0, b.length);
  }
}

/** `http_auth_group(L)` in an ACL: each group of the authenticated user. */
class FetchHttpAuthGroup implements AclFetch {
  readonly type = SMP_T_STR;
  readonly sample: AclFetch;
  readonly #groups = new Map<AuthUser, Uint8Array[]>();
  constructor(readonly kw: string, readonly list: Userlist) {
    this.sample = new FetchHttpAuthUser(kw, list);
  }
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const u = authUser(this.list, ctx);
    if (u === null) return false;
    let gs = this.#groups.get(u);
    if (gs === undefined) {
      // Bounded by the userlist's users: entries are made once per user.
      gs = u.groups.map((g) => ENC.encode(g));
      this.#groups.set(u, gs);
    }
    for (const g of gs) if (m.matchBytes(g, 0, g.length)) return true;
    return false;
  }
}

/** The userlist named by the only argument, or why not. */
function listArg(word: string, args: readonly string[]): Userlist | string {
  if (args.length !== 1 || args[0] === "") return `expected a userlist name in "${word}"`;
  const l = userlistFind(args[0]);
  return typeof l === "string" ? `${l} in "${word}"` : l;
}

/** `http_auth(L)`. */
export function fetchHttpAuthNew(word: string, args: readonly string[]): AclFetch | string {
  const l = listArg(word, args);
  return typeof l === "string" ? l : new FetchHttpAuth(word, l);
}

/** `http_auth_group(L)`. */
export function fetchHttpAuthGroupNew(word: string, args: readonly string[]): AclFetch | string {
  const l = listArg(word, args);
  return typeof l === "string" ? l : new FetchHttpAuthGroup(word, l);
}
