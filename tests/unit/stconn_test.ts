/**
 * The stream interface state machine with a fake data layer that records
 * what it is asked to do, so each transition is checked in isolation.
 */
import assert from "node:assert/strict";
import { Channel, chnShutwNow } from "../../lib/buf/channel.ts";
import {
  CF_READ_ERROR,
  CF_READ_NULL,
  CF_READ_PARTIAL,
  CF_SHUTR,
  CF_SHUTW,
  CF_SHUTW_NOW,
  CF_WRITE_ERROR,
  CF_WRITE_PARTIAL,
} from "../../lib/buf/channel_types.ts";
import type { Buf } from "../../lib/buf/buffer.ts";
import { Connection } from "../../lib/conn/connection.ts";
import {
  CO_FL_CONNECTED,
  CO_FL_HANDSHAKE,
  CO_FL_RD_PENDING,
  CO_FL_SOCK_RD_SH,
  type DataLayer,
} from "../../lib/conn/conn_types.ts";
import { TICK_ETERNITY } from "../../lib/core/time.ts";
import { Scheduler } from "../../lib/sched/scheduler.ts";
import { Task } from "../../lib/sched/task.ts";
import { SC_FL_ERR, SC_ST_CLO, SC_ST_CON, SC_ST_EST } from "../../lib/stconn/sc_types.ts";
import {
  scClose,
  scShutr,
  scShutw,
  scSync,
  scUpdate,
  StreamInterface,
} from "../../lib/stconn/stconn.ts";

class Idle extends Task {
  process(): void {}
  crashed(): void {}
}

/** A data layer that only records calls; sends complete when told. */
class FakeLayer implements DataLayer {
  readonly name = "fake";
  calls: string[] = [];
  attach(): void {}
  connect(): void {
    this.calls.push("connect");
  }
  rcvBuf(conn: Connection, buf: Buf): void {
    this.calls.push("rcv");
    conn.rcvStarted(buf);
  }
  sndBuf(conn: Connection, buf: Buf): void {
    this.calls.push(`snd:${buf.sndView().length}`);
    conn.sndStarted(buf, buf.sndView().length);
  }
  rcvStop(conn: Connection): void {
    this.calls.push("rcvStop");
    conn.rcvStopped();
  }
  shutw(): void {
    this.calls.push("shutw");
  }
  close(): void {
    this.calls.push("close");
  }
}

function setup() {
  const sched = new Scheduler();
  const layer = new FakeLayer();
  const conn = new Connection(sched, layer);
  conn.owner = new Idle();
  conn.flags |= CO_FL_CONNECTED;
  conn.sock = {} as never; // the fake layer never touches it
  const ib = new Channel(), ob = new Channel();
  ib.buf.attach(new Uint8Array(1024));
  ob.buf.attach(new Uint8Array(1024));
  ib.rto = ob.wto = 1000;
  const sc = new StreamInterface(ib, ob);
  sc.conn = conn;
  sc.state = SC_ST_EST;
  return { sched, layer, conn, sc, ib, ob };
}

Deno.test("scUpdate() starts receiving when the input has room and arms the read timeout", () => {
  const { layer, conn, sc, ib } = setup();
  scUpdate(sc, 100);
  assert.deepEqual(layer.calls, ["rcv"]);
  assert.ok(conn.flags & CO_FL_RD_PENDING);
  assert.equal(ib.rex, 1100);
  scUpdate(sc, 200);
  assert.deepEqual(layer.calls, ["rcv"], "receiving is already on");
});

Deno.test("scUpdate() does not receive into a full buffer, and the peer is not blamed", () => {
  const { layer, sc, ib } = setup();
  ib.buf.putIn(new Uint8Array(1024));
  ib.rex = 500;
  scUpdate(sc, 100);
  assert.deepEqual(layer.calls, []);
  assert.equal(ib.rex, TICK_ETERNITY);
});

Deno.test("scUpdate() does not receive into a sliver of room while the buffer is being sent", () => {
  const { layer, conn, sc, ib } = setup();
  // 900 of 1024 bytes on their way out from the input buffer (the other
  // side sends them): 124 bytes of room, under a quarter.
  ib.buf.putIn(new Uint8Array(900));
  ib.buf.forward(900);
  ib.buf.sndPending = 900;
  scUpdate(sc, 100);
  assert.deepEqual(layer.calls, [], "no receive into the sliver");
  assert.equal(ib.rex, TICK_ETERNITY, "and the peer is not blamed");
  // Once the send is done the whole room is there: receive.
  ib.buf.sndPending = 0;
  ib.buf.sndCommit(900);
  scUpdate(sc, 200);
  assert.deepEqual(layer.calls, ["rcv"]);
  assert.ok(conn.flags & CO_FL_RD_PENDING);
  // Without a send in flight even a small room is used.
  const t = setup();
  t.ib.buf.putIn(new Uint8Array(1000));
  scUpdate(t.sc, 0);
  assert.deepEqual(t.layer.calls, ["rcv"]);
});

Deno.test("scUpdate() starts no data I/O while a handshake is pending, but waits for the peer", () => {
  const { layer, conn, sc, ib, ob } = setup();
  conn.flags |= CO_FL_HANDSHAKE;
  ob.buf.putIn(new Uint8Array(10));
  ob.buf.forward(10);
  scUpdate(sc, 0);
  assert.deepEqual(layer.calls, []);
  assert.equal(ib.rex, 1000);
});

Deno.test("scUpdate() sends the output once and arms the write timeout until it is taken", () => {
  const { layer, conn, sc, ob } = setup();
  ob.buf.putIn(new Uint8Array(100));
  ob.buf.forward(100);
  scUpdate(sc, 0);
  assert.deepEqual(layer.calls, ["snd:100", "rcv"]);
  assert.equal(ob.wex, 1000);
  scUpdate(sc, 10);
  assert.deepEqual(layer.calls, ["snd:100", "rcv"], "one send in flight at a time");
  conn.sndDone(null);
  scSync(sc, 20);
  assert.ok(ob.flags & CF_WRITE_PARTIAL);
  scUpdate(sc, 20);
  assert.equal(ob.wex, TICK_ETERNITY);
});

Deno.test("scSync() turns received bytes into READ_PARTIAL and refreshes the read timeout", () => {
  const { conn, sc, ib } = setup();
  scUpdate(sc, 0);
  ib.buf.putIn(new Uint8Array(5));
  conn.rcvDone(5);
  scSync(sc, 50);
  assert.ok(ib.flags & CF_READ_PARTIAL);
  assert.equal(ib.total, 5);
  assert.equal(ib.rex, 1050);
  assert.equal(conn.rcvd, 0);
});

Deno.test("a peer's EOF shuts the read side; with the write side shut the side closes", () => {
  const { layer, conn, sc, ib, ob } = setup();
  conn.flags |= CO_FL_SOCK_RD_SH;
  scSync(sc, 0);
  assert.ok(ib.flags & CF_READ_NULL);
  assert.ok(ib.flags & CF_SHUTR);
  assert.equal(sc.state, SC_ST_EST, "still writable: a half-close");
  scShutw(sc);
  assert.ok(ob.flags & CF_SHUTW);
  assert.deepEqual(layer.calls, ["shutw", "close"], "shut first so TLS sends close_notify");
  assert.equal(sc.state, SC_ST_CLO);
});

Deno.test("SHUTW_NOW shuts the write side only after every byte is sent", () => {
  const { layer, conn, sc, ob } = setup();
  ob.buf.putIn(new Uint8Array(10));
  ob.buf.forward(10);
  chnShutwNow(ob);
  scUpdate(sc, 0);
  assert.deepEqual(layer.calls, ["snd:10", "rcv"]);
  assert.ok(!(ob.flags & CF_SHUTW), "bytes are still in flight");
  conn.sndDone(null);
  scSync(sc, 1);
  scUpdate(sc, 1);
  assert.deepEqual(layer.calls, ["snd:10", "rcv", "shutw"]);
  assert.ok(ob.flags & CF_SHUTW);
  assert.ok(!(ob.flags & CF_SHUTW_NOW));
  assert.equal(sc.state, SC_ST_EST, "the read side is still open");
});

Deno.test("scShutr() then scShutw() closes once; repeated calls do nothing", () => {
  const { layer, sc } = setup();
  scShutr(sc);
  scShutr(sc);
  assert.equal(sc.state, SC_ST_EST);
  scShutw(sc);
  scShutw(sc);
  assert.deepEqual(layer.calls, ["shutw", "close"]);
  assert.equal(sc.state, SC_ST_CLO);
});

Deno.test("scShutw() on a side that is not established closes it", () => {
  const { layer, sc } = setup();
  sc.state = SC_ST_CON;
  scShutw(sc);
  assert.deepEqual(layer.calls, ["close"]);
  assert.equal(sc.state, SC_ST_CLO);
});

Deno.test("a connection error flags both directions and the side", () => {
  const { conn, sc, ib, ob } = setup();
  conn.setError(2, new Error("reset"));
  scSync(sc, 0);
  assert.ok(sc.flags & SC_FL_ERR);
  assert.ok(ib.flags & CF_READ_ERROR);
  assert.ok(ob.flags & CF_WRITE_ERROR);
});

Deno.test("scClose() settles a send in flight at once; the late cancellation is ignored", () => {
  const { conn, sc, ob } = setup();
  ob.buf.putIn(new Uint8Array(10));
  ob.buf.forward(10);
  scUpdate(sc, 0);
  assert.equal(ob.buf.sndPending, 10);
  scClose(sc);
  assert.equal(sc.state, SC_ST_CLO);
  assert.equal(conn.ioPending, 0);
  assert.equal(ob.buf.sndPending, 0);
  conn.sndDone(new Error("cancelled"));
  assert.equal(conn.ioPending, 0);
  assert.equal(ob.buf.out, 10, "the unsent bytes stay for the caller to drop");
});
