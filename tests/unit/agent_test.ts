/**
 * agentParse(): HAProxy's agent protocol, one line of words in any order,
 * and agentProbe() against loopback agents (a line, a mute agent, an
 * incomplete line, a refused port).
 */
import assert from "node:assert/strict";
import { agentParse, agentProbe } from "../../lib/check/agent.ts";
import { readN, refusedPort, upstream, writeAll } from "../helpers/net.ts";

const enc = new TextEncoder();

Deno.test("agentParse() reads weights, admin and health words, maxconn and the description", () => {
  assert.deepEqual(agentParse("75%"), {
    health: null,
    admin: null,
    weight: "75%",
    maxconn: null,
    err: null,
    desc: "",
  });
  assert.deepEqual(agentParse("UP,ready 100%\tmaxconn:30"), {
    health: "up",
    admin: "ready",
    weight: "100%",
    maxconn: "30",
    err: null,
    desc: "",
  });
  const r = agentParse("drain down # disk full, back soon");
  assert.equal(r.health, "down");
  assert.equal(r.admin, "drain");
  assert.equal(r.desc, "disk full, back soon");
  // The last word of a kind wins; the first unknown one is kept.
  const last = agentParse("up stopped maint ready 10% 20% bogus other");
  assert.equal(last.health, "stopped");
  assert.equal(last.admin, "ready");
  assert.equal(last.weight, "20%");
  assert.equal(last.err, "bogus");
});

Deno.test("agentProbe() sends agent-send and reads one line; failures are reported, not thrown", async () => {
  const got: string[] = [];
  await using agent = upstream(async (conn) => {
    got.push(new TextDecoder().decode(await readN(conn, 6)));
    await writeAll(conn, enc.encode("50% drain\r\nignored\n"));
  });
  const cfg = { host: "127.0.0.1", port: agent.port, inter: 1000, timeout: 1000 };
  assert.deepEqual(await agentProbe({ ...cfg, send: enc.encode("hello\n") }), {
    line: "50% drain",
  });
  assert.deepEqual(got, ["hello\n"]);

  await using partial = upstream(async (conn) => {
    await writeAll(conn, enc.encode("75%"));
  });
  assert.deepEqual(await agentProbe({ ...cfg, port: partial.port, send: null }), {
    error: "Ignoring incomplete line from agent",
  });

  await using mute = upstream(async (conn) => {
    await readN(conn, 1);
  });
  assert.deepEqual(await agentProbe({ ...cfg, port: mute.port, timeout: 50, send: null }), {
    error: "no answer after 50 ms",
  });
  assert.deepEqual(await agentProbe({ ...cfg, port: refusedPort(), send: null }), {
    error: "Connection refused",
  });
});
