/**
 * Converters end to end: in ACLs that route (`use_backend`) and in header
 * values that the server receives, with map files next to the
 * configuration file, over real sockets.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { farm, request } from "../helpers/http_farm.ts";

Deno.test("converters route requests and fill header values, with map files", async () => {
  await using f = farm(2);
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(
      join(dir, "hosts.map"),
      "# host -> name\napi.example.com   api-team\nexample.com       web-team\n",
    );
    Deno.writeTextFileSync(join(dir, "nets.map"), "127.0.0.0/8 loopback\n0.0.0.0/0 world\n");
    const file = join(dir, "h.cfg");
    const cfg = parseConfigText(
      [
        "defaults",
        "    mode http",
        "frontend fe",
        "    bind 127.0.0.1:0",
        "    acl host_api req.hdr(host),lower,field(1,:) -m str api.example.com",
        "    http-request set-header X-Host %[req.hdr(host),lower,field(1,:)]",
        "    http-request set-header X-Team %[req.hdr(host),lower,field(1,:),map_dom(hosts.map,none)]",
        "    http-request set-header X-Net %[src,map_ip(nets.map)]",
        "    http-request set-header X-B64 %[path,base64]",
        "    http-request set-header X-Src %[src,hex]",
        "    http-request set-header X-Path %[path,upper,regsub('/+','_','g'),json]",
        "    http-request set-header X-Word %[path,word(-1,/),bytes(0,3),hex]",
        "    use_backend api if host_api",
        "    use_backend api if { req.hdr(x-key),b64dec -m str secret }",
        "    default_backend web",
        "backend web",
        `    server s1 ${f[0].address}`,
        "backend api",
        `    server s2 ${f[1].address}`,
      ].join("\n"),
      file,
      {},
    );
    cfg.global = { log: { target: "none" } };
    await using h = await startSluice(cfg);
    const port = h.addresses[0].port;
    assert.equal((await request(port, "/x", { Host: "API.Example.COM:8080" })).body, "s2");
    assert.equal((await request(port, "//a//item", { Host: "shop.example.com" })).body, "s1");
    assert.equal((await request(port, "/x", { Host: "t", "X-Key": "c2VjcmV0" })).body, "s2");
    assert.equal((await request(port, "/x", { Host: "t", "X-Key": "c2VjcmV0X" })).body, "s1");
    const api = f[1].heads[0];
    assert.match(api, /\r\nX-Host: api\.example\.com\r\n/);
    assert.match(api, /\r\nX-Team: api-team\r\n/);
    assert.match(api, /\r\nX-Net: loopback\r\n/);
    assert.match(api, /\r\nX-B64: L3g=\r\n/);
    assert.match(api, /\r\nX-Src: 7F000001\r\n/);
    const web = f[0].heads[0];
    assert.match(web, /\r\nX-Host: shop\.example\.com\r\n/);
    assert.match(web, /\r\nX-Team: web-team\r\n/);
    assert.match(web, /\r\nX-Path: _A_ITEM\r\n/);
    assert.match(web, /\r\nX-Word: 697465\r\n/);
    assert.match(f[1].heads[1], /\r\nX-Team: none\r\n/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a bad map file is refused at load time with the keyword's file:line and the map's line", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(join(dir, "nets.map"), "10.0.0.0/8 a\nnot-an-address b\n");
    const file = join(dir, "h.cfg");
    await assert.rejects(
      () =>
        startSluice(parseConfigText(
          [
            "frontend fe",
            "    mode http",
            "    bind 127.0.0.1:0",
            "    http-request set-header X-Net %[src,map_ip(nets.map)]",
          ].join("\n"),
          file,
          {},
        )),
      (e: Error) =>
        e.message.includes(`${file}:4: `) &&
        /map file ".*nets\.map" line 2: bad key "not-an-address"/.test(e.message),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
