/**
 * `show ssl crt-list [-n] [<list>]` (admin_crtlist.ts) in HAProxy 2.6's
 * format and errors, and the lists it shows as the configuration carries
 * them (cfg_proxy.ts -> `crtList` -> config_crt_lists.ts): crt-list files
 * with their line numbers and SNI filters, `crt` directories (line 0), a
 * list several binds use listed once.
 */
import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { crtListsOf } from "../../lib/cfg/config_crt_lists.ts";
import { showCrtList } from "../../lib/stats/admin_crtlist.ts";
import { createAdminApi } from "../../lib/stats/admin_api.ts";
import type { AdminTarget, CrtLists } from "../../lib/stats/admin_types.ts";
import { makeTestCa } from "../helpers/test_ca.ts";

const pki = makeTestCa();
globalThis.addEventListener("unload", () => pki[Symbol.dispose]());

Deno.test("showCrtList(): names in order, a list's lines, -n, HAProxy's errors", () => {
  const lists: CrtLists = new Map([
    ["/etc/z.list", [{ crt: "/c/z.pem", line: 1, filters: [] }]],
    [
      "/etc/a.list",
      [
        { crt: "/c/a.pem", line: 2, filters: ["*.a.test", "!x.a.test"] },
        { crt: "/c/b.pem", line: 5, filters: [] },
      ],
    ],
    ["/etc/certs", [{ crt: "/etc/certs/one.pem", line: 0, filters: [] }]],
  ]);
  assert.equal(showCrtList(lists, []), "/etc/a.list\n/etc/certs\n/etc/z.list\n");
  assert.equal(
    showCrtList(lists, ["/etc/a.list"]),
    "# /etc/a.list\n/c/a.pem *.a.test !x.a.test\n/c/b.pem\n",
  );
  assert.equal(
    showCrtList(lists, ["-n", "/etc/a.list"]),
    "# /etc/a.list\n/c/a.pem:2 *.a.test !x.a.test\n/c/b.pem:5\n",
  );
  assert.equal(showCrtList(lists, ["-n", "/etc/certs/"]), "# /etc/certs\n/etc/certs/one.pem:0\n");
  assert.equal(showCrtList(lists, ["/etc/nope"]), "didn't find the specified filename\n");
  assert.equal(
    showCrtList(lists, ["-n"]),
    "'show ssl crt-list -n' expects a filename or a directory\n",
  );
  assert.equal(showCrtList(new Map(), []), "");
});

Deno.test("show ssl crt-list: lists and directories from the configuration, through the API", () => {
  const list = `${pki.dir}/sites.list`;
  Deno.writeTextFileSync(
    list,
    `# default first\n${pki.srv.localhost}\n\n${pki.srv.wild} *.w.example.com !no.w.example.com\n`,
  );
  const dir = `${pki.dir}/certdir`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.copyFileSync(pki.srv.a, `${dir}/a.pem`);
  const text = [
    "frontend fe",
    "  mode http",
    `  bind :443,:8443 ssl crt-list ${list}`,
    `  bind :9443 ssl crt ${pki.srv.localhost} crt ${dir}/ crt-list ${list}`,
    "  default_backend be",
    "backend be",
    "  mode http",
    "  server s 127.0.0.1:80",
  ].join("\n");
  const lists = crtListsOf(resolveConfig(parseConfigText(text, "t.cfg", {})).frontends);
  assert.deepEqual([...lists.keys()].sort(), [dir, list].sort());
  const api = createAdminApi({ crtLists: () => lists } as unknown as AdminTarget);
  assert.equal(
    api.exec(`show ssl crt-list -n ${list}`),
    `# ${list}\n${pki.srv.localhost}:2\n${pki.srv.wild}:4 *.w.example.com !no.w.example.com\n\n`,
    "listed once though three binds use it",
  );
  assert.equal(api.exec(`show ssl crt-list ${dir}`), `# ${dir}\n${dir}/a.pem\n\n`);
  assert.equal(api.exec("show ssl crt-list x"), "didn't find the specified filename\n\n");
  // A `crt FILE` alone is no list.
  const plain = text.replace(/crt-list \S+/g, `crt ${pki.srv.a}`).replace(` crt ${dir}/`, "");
  assert.equal(crtListsOf(resolveConfig(parseConfigText(plain, "t.cfg", {})).frontends).size, 0);
  // As HAProxy: crt-base applies to the list's lines, not to the list's name.
  const based = `global\n  crt-base ${pki.dir}/nowhere\n${text.replace(list, "sites.list")}`;
  const named = crtListsOf(
    resolveConfig(parseConfigText(based, `${pki.dir}/t.cfg`, {})).frontends,
  );
  assert.ok(named.has("sites.list"), [...named.keys()].join());
  // The API checks the field.
  const bad = parseConfigText(text, "t.cfg", {});
  bad.frontends![0].binds[0].tls!.crtList = { file: "x", line: -1 };
  assert.throws(() => resolveConfig(bad), /tls\.crtList: expected \{ file, line \}/);
});
