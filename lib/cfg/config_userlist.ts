/**
 * Userlists checked and built (resolveConfig()'s `userlists` part): unique
 * names, one password per user in a supported form, and the groups and
 * users that users and groups name, each user getting the groups of both
 * directions (HAProxy's userlist_postinit()).
 *
 * @module
 */
import { type AuthUser, Userlist } from "../rules/auth.ts";
import { cryptUnsupported } from "../rules/auth_crypt.ts";
import type { UserlistConfig } from "./config_types.ts";
import { type ResolveErrors, resolveFail, resolveName } from "./config_values.ts";

/** A list of names at `at`, or none. */
function nameList(at: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) resolveFail(at, "expected a list of names");
  return v.map((n, i) => resolveName(`${at}[${i}]`, n));
}

/** One userlist at `at`. */
function userlistOf(at: string, ul: UserlistConfig): Userlist {
  if (typeof ul !== "object" || ul === null) resolveFail(at, "expected { name, users?, groups? }");
  const name = resolveName(`${at}.name`, ul.name);
  const groups = new Map<string, Set<string>>();
  (ul.groups ?? []).forEach((g, i) => {
    const gname = resolveName(`${at}.groups[${i}].name`, g?.name);
    if (groups.has(gname)) resolveFail(`${at}.groups[${i}]`, `duplicate group "${gname}"`);
    groups.set(gname, new Set());
  });
  const users = new Map<string, { pass: string; hashed: boolean }>();
  (ul.users ?? []).forEach((u, i) => {
    const uat = `${at}.users[${i}]`;
    const uname = resolveName(`${uat}.name`, u?.name);
    if (users.has(uname)) resolveFail(uat, `duplicate user "${uname}"`);
    const hashed = u.password !== undefined;
    const pass = u.password ?? u.insecurePassword;
    if (typeof pass !== "string" || (hashed && u.insecurePassword !== undefined)) {
      resolveFail(uat, `user "${uname}" needs one of password and insecurePassword`);
    }
    const scheme = hashed ? cryptUnsupported(pass) : null;
    if (scheme !== null) {
      resolveFail(`${uat}.password`, `${scheme} is not supported: use a $6$ or $5$ crypt hash`);
    }
    users.set(uname, { pass, hashed });
    for (const g of nameList(`${uat}.groups`, u.groups)) {
      const members = groups.get(g);
      if (members === undefined) resolveFail(uat, `no group "${g}" in userlist "${name}"`);
      members.add(uname);
    }
  });
  (ul.groups ?? []).forEach((g, i) => {
    for (const uname of nameList(`${at}.groups[${i}].users`, g.users)) {
      if (!users.has(uname)) {
        resolveFail(`${at}.groups[${i}]`, `no user "${uname}" in userlist "${name}"`);
      }
      groups.get(g.name)!.add(uname);
    }
  });
  const list: AuthUser[] = [...users].map(([uname, p]) => ({
    name: uname,
    ...p,
    groups: [...groups].filter(([, m]) => m.has(uname)).map(([g]) => g),
  }));
  return new Userlist(name, list, [...groups.keys()]);
}

/** The userlists of a configuration by name; each one in error is recorded and left out. */
export function resolveUserlists(v: unknown, errs: ResolveErrors): Map<string, Userlist> {
  const out = new Map<string, Userlist>();
  if (v === undefined) return out;
  if (!Array.isArray(v)) resolveFail("userlists", "expected a list of userlists");
  v.forEach((ul, i) => {
    const l = errs.run(() => userlistOf(`userlists[${i}]`, ul), null);
    if (l === null) return;
    if (out.has(l.name)) {
      errs.run(() => resolveFail(`userlists[${i}].name`, `duplicate userlist "${l.name}"`), null);
    } else out.set(l.name, l);
  });
  return out;
}
