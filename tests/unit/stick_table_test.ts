/**
 * StickTable: the bounded, expiring map from client address to server
 * behind `stickSource`. An entry dies `expire` ms after its last store (at
 * exactly that tick), a store refreshes it, a full table forgets the least
 * recently stored entry, and `expire` 0 keeps entries forever.
 */
import assert from "node:assert/strict";
import { StickTable } from "../../lib/backend/stick_table.ts";

Deno.test("StickTable keeps its size and expire settings and starts empty", () => {
  const t = new StickTable<string>(10, 500);
  assert.equal(t.size, 10);
  assert.equal(t.expire, 500);
  assert.equal(t.length, 0);
  assert.equal(t.get("10.0.0.1", 0), null);
});

Deno.test("StickTable.set() stores a value that get() returns", () => {
  const t = new StickTable<string>(10, 1000);
  t.set("10.0.0.1", "s1", 0);
  t.set("10.0.0.2", "s2", 0);
  assert.equal(t.get("10.0.0.1", 1), "s1");
  assert.equal(t.get("10.0.0.2", 1), "s2");
  assert.equal(t.get("10.0.0.3", 1), null, "an unknown key");
  assert.equal(t.length, 2);
});

Deno.test("StickTable.set() on an existing key replaces the value without growing", () => {
  const t = new StickTable<string>(10, 1000);
  t.set("10.0.0.1", "s1", 0);
  t.set("10.0.0.1", "s2", 5);
  assert.equal(t.get("10.0.0.1", 6), "s2");
  assert.equal(t.length, 1);
});

Deno.test("StickTable.get() forgets an entry at exactly its expiry tick", () => {
  const t = new StickTable<string>(10, 100);
  t.set("a", "s1", 1000);
  assert.equal(t.get("a", 1099), "s1", "one tick before expiry");
  assert.equal(t.get("a", 1099.999), "s1", "ticks are fractional");
  assert.equal(t.get("a", 1100), null, "at exp the entry is gone");
  assert.equal(t.length, 0, "an expired entry found by get() is deleted");
  assert.equal(t.get("a", 1000), null, "and stays gone even for an earlier tick");
});

Deno.test("StickTable.set() refreshes the expiry of an existing entry", () => {
  const t = new StickTable<string>(10, 100);
  t.set("a", "s1", 0);
  t.set("a", "s1", 50);
  assert.equal(t.get("a", 100), "s1", "the first expiry has been pushed back");
  assert.equal(t.get("a", 149), "s1");
  assert.equal(t.get("a", 150), null, "expires 100 ms after the last store");
});

Deno.test("StickTable.get() does not revive a value: a new set() after expiry starts afresh", () => {
  const t = new StickTable<string>(10, 100);
  t.set("a", "s1", 0);
  assert.equal(t.get("a", 200), null);
  t.set("a", "s2", 200);
  assert.equal(t.get("a", 299), "s2");
  assert.equal(t.get("a", 300), null);
});

Deno.test("StickTable forgets the least recently stored entry when full", () => {
  const t = new StickTable<string>(3, 0);
  t.set("a", "s1", 0);
  t.set("b", "s2", 1);
  t.set("c", "s3", 2);
  assert.equal(t.length, 3);
  t.set("d", "s4", 3);
  assert.equal(t.length, 3, "never more than size entries");
  assert.equal(t.get("a", 4), null, "the oldest entry went");
  assert.deepEqual(["b", "c", "d"].map((k) => t.get(k, 4)), ["s2", "s3", "s4"]);
});

Deno.test("StickTable: storing a key again makes it the most recently used one", () => {
  const t = new StickTable<string>(3, 0);
  t.set("a", "s1", 0);
  t.set("b", "s2", 1);
  t.set("c", "s3", 2);
  t.set("a", "s1", 3); // a is now the most recent; b the least
  t.set("d", "s4", 4);
  assert.equal(t.get("b", 5), null, "b was the least recently used");
  assert.equal(t.get("a", 5), "s1");
  t.set("e", "s5", 6);
  assert.equal(t.get("c", 7), null, "then c");
  assert.deepEqual(["a", "d", "e"].map((k) => t.get(k, 7)), ["s1", "s4", "s5"]);
});

Deno.test("StickTable refreshing a key in a full table evicts nothing", () => {
  const t = new StickTable<string>(2, 0);
  t.set("a", "s1", 0);
  t.set("b", "s2", 1);
  t.set("b", "s3", 2);
  t.set("a", "s4", 3);
  assert.equal(t.length, 2);
  assert.equal(t.get("a", 4), "s4");
  assert.equal(t.get("b", 4), "s3");
});

Deno.test("StickTable with size 1 holds only the last key", () => {
  const t = new StickTable<string>(1, 1000);
  t.set("a", "s1", 0);
  t.set("b", "s2", 1);
  assert.equal(t.length, 1);
  assert.equal(t.get("a", 2), null);
  assert.equal(t.get("b", 2), "s2");
});

Deno.test("StickTable with expire 0 never expires entries", () => {
  const t = new StickTable<string>(10, 0);
  t.set("a", "s1", 0);
  assert.equal(t.get("a", 0), "s1");
  assert.equal(t.get("a", 1e12), "s1");
  assert.equal(t.get("a", Number.MAX_VALUE), "s1");
  assert.equal(t.length, 1);
});

Deno.test("StickTable holds any value type, including objects by identity", () => {
  const srv = { name: "s1" };
  const t = new StickTable<typeof srv>(10, 1000);
  t.set("::1", srv, 0);
  assert.equal(t.get("::1", 1), srv);
});
