/**
 * The `userlist NAME` section (HAProxy's cfg_parse_users): `user NAME
 * [password HASH|insecure-password PASS] [groups G,...]` and `group NAME
 * [users U,...]` lines into a UserlistConfig. A hash in a scheme sluice does
 * not compute is refused here, naming the scheme; names that refer to each
 * other (a user's groups, a group's users) are checked by
 * resolveUserlists().
 *
 * @module
 */
import { cryptUnsupported } from "../rules/auth_crypt.ts";
import type { CfgAt } from "./cfg_at.ts";
import type { CfgSources } from "./cfg_sources.ts";
import type { UserConfig, UserlistConfig } from "./config_types.ts";

/** HAProxy's invalid_char(): names are letters, digits, `.`, `:`, `_` and `-`. */
const NAME = /^[A-Za-z0-9.:_-]+$/;

/** The name argument of `userlist`, `user` or `group`, checked. */
export function cfgUserlistName(at: CfgAt, what: string, v: string | undefined): string {
  if (v === undefined || v === "") throw at.fail(`"${what}" expects <name> as argument`);
  const bad = /[^A-Za-z0-9.:_-]/.exec(v);
  if (!NAME.test(v)) {
    throw at.fail(`character '${bad?.[0]}' is not permitted in ${what} name "${v}"`);
  }
  return v;
}

/** A comma-separated list of names (`G1,G2`). */
function names(at: CfgAt, what: string, v: string | undefined): string[] {
  if (v === undefined || v === "") throw at.fail(`missing value for "${what}"`);
  return v.split(",").map((n) => cfgUserlistName(at, what === "users" ? "user" : "group", n));
}

/**
 * Applies one line of a userlist section to `ul` (index `i` in the
 * configuration's userlists): `words` are the line's words, keyword first.
 */
export function cfgUserlistKeyword(
  ul: UserlistConfig,
  i: number,
  x: { at: CfgAt; words: readonly string[]; sources: CfgSources },
): void {
  const { at, words } = x;
  const [kw, name, ...rest] = words;
  if (kw === "group") {
    const groups = ul.groups ??= [];
    const g: { name: string; users?: string[] } = { name: cfgUserlistName(at, "group", name) };
    for (let k = 0; k < rest.length; k += 2) {
      if (rest[k] !== "users") throw at.fail(`"group" only supports the "users" option`);
      g.users = [...(g.users ?? []), ...names(at, "users", rest[k + 1])];
    }
    x.sources.field(`userlists[${i}].groups[${groups.length}]`, at.where);
    groups.push(g);
    return;
  }
  if (kw !== "user") {
    throw at.fail(
      `unsupported keyword "${kw}" in section "userlist ${ul.name}" (expected user or group)`,
    );
  }
  const u: UserConfig = { name: cfgUserlistName(at, "user", name) };
  for (let k = 0; k < rest.length; k += 2) {
    const opt = rest[k], v = rest[k + 1];
    if (opt === "groups") {
      u.groups = [...(u.groups ?? []), ...names(at, "groups", v)];
      continue;
    }
    if (opt !== "password" && opt !== "insecure-password") {
      throw at.fail(
        `"user" only supports the "password", "insecure-password" and "groups" options`,
      );
    }
    if (v === undefined) throw at.fail(`missing value for "${opt}"`);
    if (u.password !== undefined || u.insecurePassword !== undefined) {
      throw at.fail(`user "${u.name}" has two passwords`);
    }
    if (opt === "insecure-password") {
      u.insecurePassword = v;
      continue;
    }
    const scheme = cryptUnsupported(v);
    if (scheme !== null) {
      throw at.fail(
        `the password of user "${u.name}" is ${scheme}, which sluice does not support: ` +
          `use a SHA-512 ($6$) or SHA-256 ($5$) crypt hash (openssl passwd -6)`,
      );
    }
    u.password = v;
  }
  const users = ul.users ??= [];
  x.sources.field(`userlists[${i}].users[${users.length}]`, at.where);
  users.push(u);
}
