/**
 * The state sets are distinct types: mixing a request state, a response
 * state, a stream interface state or a plain number does not type-check
 * (`deno test` type-checks this file; each `@ts-expect-error` fails the
 * check if the line below it compiles).
 */
import assert from "node:assert/strict";
import { HttpTxn, RQ_DONE, RQ_HOOK, RS_DONE, RS_HOOK } from "../../lib/http/http_txn.ts";
import { SC_ST_CON, SC_ST_EST } from "../../lib/stconn/sc_types.ts";
import { StreamInterface } from "../../lib/stconn/stconn.ts";
import { Channel } from "../../lib/buf/channel.ts";

Deno.test("request, response and stream interface states do not mix", () => {
  const txn = new HttpTxn(8);
  // @ts-expect-error a request state is not a response state
  txn.rs = RQ_DONE;
  // @ts-expect-error a response state is not a request state
  txn.rq = RS_DONE;
  // @ts-expect-error a plain number is no state
  txn.rq = 2;
  const isHook = (t: HttpTxn) =>
    // @ts-expect-error nor can they be compared
    t.rq === RS_HOOK;
  assert.equal(typeof isHook, "function");
  const sc = new StreamInterface(new Channel(), new Channel());
  // @ts-expect-error a stream interface state is not a request state
  sc.state = RQ_HOOK;
  sc.state = SC_ST_CON;
  txn.rq = RQ_HOOK;
  // States stay numbers: the stream orders them (connecting comes before established).
  assert.ok(sc.state < SC_ST_EST);
});
