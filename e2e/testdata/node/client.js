"use strict";
// Runs ONE interop scenario of the official socket.io-client against a server
// implementing CONTRACT.md:
//
//   node client.js http://127.0.0.1:PORT <scenario>
//   node client.js --list        (prints the scenario names as a JSON array)
//
// Progress goes to stderr; the last stdout line is {"ok":true} or
// {"ok":false,"error":"..."}; the exit code is 0 only on success.
// Every scenario has its own overall timeout (SCENARIO_TIMEOUT_MS).

const { io, Manager } = require("socket.io-client");

const SCENARIO_TIMEOUT_MS = 10000;
const ACK_TIMEOUT_MS = 5000;

const [url, scenario] = process.argv.slice(2);

function log(...args) {
  console.error(`[client.js ${scenario}]`, ...args);
}

// ---------------------------------------------------------------------------
// Assertions

const { show, checker } = require("./check");
const { expectEqual, expect } = checker(log);

function bin(...bytes) {
  return Buffer.from(bytes);
}

// ---------------------------------------------------------------------------
// Event recording: every socket gets an Inbox at creation time, so that no
// event can be missed by registering a listener too late.

// Volatile events are never stored for recovery, so they carry no offset.
const VOLATILE_EVENTS = new Set(["vol"]);

class Inbox {
  constructor(name, emitter) {
    this.name = name;
    this.records = []; // {event, args}
    this.waiters = []; // {event, resolve}
    if (emitter) this.attach(emitter);
  }

  attach(socket) {
    socket.onAny((event, ...args) => {
      // With connection state recovery the server appends its offset (a
      // string) to every event it emits without an ack; the official client
      // hands it to the listeners as an extra last argument.
      if (
        socket._pid &&
        !VOLATILE_EVENTS.has(event) &&
        !(args.length > 0 && typeof args[args.length - 1] === "function")
      ) {
        const offset = args.pop();
        if (typeof offset !== "string") {
          finish(new Error(`${this.name}: ${event} lacks the recovery offset: ${show([...args, offset])}`));
          return;
        }
      }
      this.push(event, args);
    });
    for (const ev of ["connect", "connect_error", "disconnect"]) {
      socket.on(ev, (...args) => this.push(ev, args));
    }
  }

  push(event, args) {
    log(`${this.name} <- ${event} ${show(args)}`);
    this.records.push({ event, args });
    this.wake();
  }

  wake() {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const idx = this.records.findIndex((r) => w.events.includes(r.event));
      if (idx >= 0) {
        const [rec] = this.records.splice(idx, 1);
        this.waiters.splice(i, 1);
        i--;
        w.resolve(w.withName ? rec : rec.args);
      }
    }
  }

  // take resolves with the args of the oldest not yet taken `event`.
  take(event) {
    return new Promise((resolve) => {
      this.waiters.push({ events: [event], resolve });
      this.wake();
    });
  }

  // takeFirst resolves with the oldest not yet taken {event, args} among events.
  takeFirst(...events) {
    return new Promise((resolve) => {
      this.waiters.push({ events, withName: true, resolve });
      this.wake();
    });
  }

  // takeNow returns the args of the oldest not yet taken `event`, which must
  // already have been received.
  takeNow(event) {
    const idx = this.records.findIndex((r) => r.event === event);
    if (idx < 0) throw new Error(`${this.name}: expected ${event} to have been received already`);
    return this.records.splice(idx, 1)[0].args;
  }

  // none asserts that no (not yet taken) `event` was received.
  none(event) {
    const extra = this.records.filter((r) => r.event === event);
    if (extra.length > 0) {
      throw new Error(`${this.name}: unexpected ${event}: ${extra.map((r) => show(r.args)).join(", ")}`);
    }
    log(`ok: ${this.name} got no (more) ${event}`);
  }
}

// ---------------------------------------------------------------------------
// Connection helpers

const managers = new Set();

function track(socket) {
  managers.add(socket.io);
  return socket;
}

// connect opens a socket on its own Manager (its own Engine.IO connection).
function connect(name, nsp, opts = {}) {
  const s = track(io(url + (nsp === "/" ? "" : nsp), { forceNew: true, reconnection: false, ...opts }));
  const inbox = new Inbox(name, s);
  return { s, inbox };
}

// multiplexed opens sockets on one shared Manager.
function manager(opts = {}) {
  const m = new Manager(url, { reconnection: false, ...opts });
  managers.add(m);
  return m;
}

function socketOn(m, name, nsp, opts = {}) {
  const s = m.socket(nsp, opts);
  const inbox = new Inbox(name, s);
  return { s, inbox };
}

// ack emits with an acknowledgement and resolves with ALL reply args.
function ack(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, ...args, (err, ...reply) => {
      if (err) reject(new Error(`no ack for ${event} within ${ACK_TIMEOUT_MS}ms: ${err.message}`));
      else resolve(reply);
    });
  });
}

async function connected(c, wantAuth = {}) {
  const first = await c.inbox.takeFirst("connect", "connect_error");
  if (first.event !== "connect") {
    const err = first.args[0];
    throw new Error(`${c.inbox.name}: connect_error: ${err && err.message} ${show(err && err.data)}`);
  }
  expect(`${c.inbox.name} connected`, c.s.connected === true && typeof c.s.id === "string");
  const [auth] = await c.inbox.take("auth");
  expectEqual(`${c.inbox.name} auth`, auth, wantAuth);
}

// roundTrips does an echo ack round trip and a message/message-back one.
async function roundTrips(c) {
  const args = [1, "two", { three: [3, true, null] }, null, "héllo 🌍", -2.5];
  expectEqual(`${c.inbox.name} echo reply`, await ack(c.s, "echo", ...args), args);
  const margs = ["hi", 42, { a: [true, false] }, "ünïcode ✓"];
  c.s.emit("message", ...margs);
  expectEqual(`${c.inbox.name} message-back`, await c.inbox.take("message-back"), margs);
  const wargs = [{ k: "v" }, [1, [2, [3]]]];
  expectEqual(`${c.inbox.name} message-with-ack reply`, await ack(c.s, "message-with-ack", ...wargs), wargs);
}

async function lastDisconnects(socket) {
  const [list] = await ack(socket, "last-disconnects");
  expect("last-disconnects is a list", Array.isArray(list), show(list));
  return list;
}

// uniqueNsp returns a fresh child of a dynamic namespace (prefix "/dyn-" or
// "/priv-"), so that broadcasts of scenarios running at the same time against
// the same server do not reach it.
let nspSeq = 0;
function uniqueNsp(prefix) {
  return `${prefix}${process.pid}${Math.floor(Math.random() * 1e9)}${nspSeq++}`;
}

// waitFor polls check (an async function) until it returns a truthy value.
async function waitFor(what, check) {
  for (;;) {
    const v = await check();
    if (v) {
      log(`ok: ${what}`);
      return v;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---------------------------------------------------------------------------
// Scenarios

async function basic(transports) {
  const opts = transports ? { transports } : {};
  const c = connect("c", "/", opts);
  await connected(c);
  expectEqual("transport", c.s.io.engine.transport.name, transports[0]);
  await roundTrips(c);
  expectEqual("transport after round trips", c.s.io.engine.transport.name, transports[0]);
}

const scenarios = {
  polling: () => basic(["polling"]),

  websocket: () => basic(["websocket"]),

  upgrade: async () => {
    const c = connect("c", "/");
    const engine = c.s.io.engine;
    const opened = new Promise((resolve) => engine.once("open", () => resolve(engine.transport.name)));
    const upgraded = new Promise((resolve) => engine.once("upgrade", (t) => resolve(t.name)));
    expectEqual("transport at engine open", await opened, "polling");
    await connected(c);
    expectEqual("upgrade event transport", await upgraded, "websocket");
    expectEqual("engine transport after upgrade", engine.transport.name, "websocket");
    await roundTrips(c);
    expectEqual("engine transport after round trips", engine.transport.name, "websocket");
  },

  namespaces: async () => {
    const m = manager();
    const root = socketOn(m, "root", "/");
    const custom = socketOn(m, "custom", "/custom");
    await connected(root);
    await connected(custom);
    expect("same manager", root.s.io === custom.s.io && root.s.io === m);
    expect("same engine", root.s.io.engine === custom.s.io.engine && !!m.engine);
    const engineId = m.engine.id;
    expect("engine has an id", typeof engineId === "string" && engineId.length > 0);
    expect("distinct socket ids", root.s.id !== custom.s.id, `${root.s.id} vs ${custom.s.id}`);
    await roundTrips(root);
    await roundTrips(custom);

    // A broadcast stays in its namespace. Both namespaces share one ordered
    // connection, so the root broadcast must be the first one root receives.
    custom.s.emit("broadcast", "in-custom");
    expectEqual("custom broadcast", await custom.inbox.take("broadcast"), ["in-custom"]);
    root.s.emit("broadcast", "in-root");
    expectEqual("root broadcast", await root.inbox.take("broadcast"), ["in-root"]);
    await ack(custom.s, "echo", "fence");
    custom.inbox.none("broadcast");
    root.inbox.none("broadcast");

    custom.s.disconnect();
    expectEqual("custom local disconnect reason", (await custom.inbox.take("disconnect"))[0], "io client disconnect");
    expect("custom disconnected", custom.s.connected === false);
    await roundTrips(root);
    expectEqual("same engine after /custom disconnect", m.engine.id, engineId);

    const nope = socketOn(m, "nope", "/nope");
    const [err] = await nope.inbox.take("connect_error");
    expectEqual("/nope connect_error message", err.message, "Invalid namespace");
    expect("/nope not connected", nope.s.connected === false);
    nope.inbox.none("connect");
    await roundTrips(root);
    expectEqual("same engine after /nope", m.engine.id, engineId);
  },

  auth: async () => {
    const want = { token: "abc", n: 1 };
    const c = connect("c", "/", { auth: want });
    await connected(c, want);
    const cc = connect("cc", "/custom", { auth: { token: "xyz", nested: { list: [1, "2"] } } });
    await connected(cc, { token: "xyz", nested: { list: [1, "2"] } });
  },

  "middleware-reject": async () => {
    for (const nsp of ["/", "/custom"]) {
      const c = connect(`c${nsp}`, nsp, { auth: { token: "reject" } });
      const [err] = await c.inbox.take("connect_error");
      expect(`${nsp} connect_error is an Error`, err instanceof Error);
      expectEqual(`${nsp} connect_error message`, err.message, "unauthorized");
      expectEqual(`${nsp} connect_error data`, err.data, { reason: "bad token" });
      expect(`${nsp} not connected`, c.s.connected === false);
      c.inbox.none("connect");
      c.inbox.none("auth");
    }
    // The middleware lets other tokens through.
    const ok = connect("ok", "/custom", { auth: { token: "fine" } });
    await connected(ok, { token: "fine" });
  },

  binary: async () => {
    for (const transports of [["polling"], ["websocket"]]) {
      const c = connect(`c-${transports[0]}`, "/", { transports });
      await connected(c);

      const top = [bin(0x00, 0x01, 0x02, 0xff)];
      expectEqual("echo top-level Buffer", await ack(c.s, "echo", ...top), top);

      const mixed = [
        "a",
        bin(0x10),
        { nested: new Uint8Array([9, 8, 7]), list: [bin(0x20, 0x21), "x", bin(0x30)] },
        5,
        new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      ];
      expectEqual("echo mixed binary", await ack(c.s, "echo", ...mixed), mixed);

      c.s.emit("message", { deep: { deeper: [bin(0xaa, 0xbb)] } }, bin(0xcc));
      expectEqual("message-back binary", await c.inbox.take("message-back"), [
        { deep: { deeper: [bin(0xaa, 0xbb)] } },
        bin(0xcc),
      ]);

      expectEqual("binary-me ack", await ack(c.s, "binary-me"), [null]);
      // The server emits "binary" before acking, on the same connection.
      const got = c.inbox.takeNow("binary");
      expectEqual("binary-me event", got, [bin(0x01, 0x02, 0x03), { nested: bin(0x04) }]);
      expect("binary-me top-level is a Buffer", Buffer.isBuffer(got[0]) || got[0] instanceof ArrayBuffer);
      c.inbox.none("binary");
    }
  },

  "server-ack": async () => {
    const c = connect("c", "/");
    await connected(c);
    const seen = [];
    c.s.on("please-ack", (...args) => {
      const cb = args.pop();
      seen.push(args);
      expect("please-ack carries an ack callback", typeof cb === "function");
      cb("pong", bin(0x05, 0x06), { got: args });
    });
    const [res] = await ack(c.s, "request-ack", "please-ack", ["x", 2, { y: [bin(0x07)] }], 2000);
    expectEqual("request-ack reply", res, {
      ok: true,
      reply: ["pong", bin(0x05, 0x06), { got: ["x", 2, { y: [bin(0x07)] }] }],
    });
    expectEqual("please-ack received", seen, [["x", 2, { y: [bin(0x07)] }]]);

    const [res2] = await ack(c.s, "request-ack", "please-ack", [], 2000);
    expectEqual("request-ack reply without args", res2, { ok: true, reply: ["pong", bin(0x05, 0x06), { got: [] }] });
  },

  "ack-timeout": async () => {
    const c = connect("c", "/");
    await connected(c);

    // The server never acks unknown-event.
    const err = await new Promise((resolve) => {
      c.s.timeout(200).emit("unknown-event", 1, "x", (e, ...rest) => resolve({ e, rest }));
    });
    expect("client ack timeout is an Error", err.e instanceof Error, show(err));
    expectEqual("client ack timeout message", err.e.message, "operation has timed out");
    expectEqual("client ack timeout carries no reply", err.rest, []);

    // The client never acks no-ack-event.
    const seen = [];
    c.s.on("no-ack-event", (...args) => {
      const cb = args.pop();
      expect("no-ack-event carries an ack callback", typeof cb === "function");
      seen.push(args);
    });
    const [res] = await ack(c.s, "request-ack", "no-ack-event", ["a", 1], 200);
    expectEqual("request-ack without client ack", res, { ok: false, error: "timeout" });
    expectEqual("no-ack-event received", seen, [["a", 1]]);
    await roundTrips(c);
  },

  rooms: async () => {
    const A = connect("A", "/");
    const B = connect("B", "/");
    const C = connect("C", "/");
    const all = [A, B, C];
    for (const c of all) await connected(c);

    expectEqual("A join r1", await ack(A.s, "join", "r1"), [null]);
    expectEqual("B join r1", await ack(B.s, "join", "r1"), [null]);
    expectEqual("C join r2", await ack(C.s, "join", "r2"), [null]);
    expectEqual("A rooms", await ack(A.s, "rooms"), [[A.s.id, "r1"].sort()]);
    expectEqual("B rooms", await ack(B.s, "rooms"), [[B.s.id, "r1"].sort()]);
    expectEqual("C rooms", await ack(C.s, "rooms"), [[C.s.id, "r2"].sort()]);

    let fences = 0;
    // fence makes sure everything sent before it reached every client: the
    // server sends "fence" after, on each (ordered) connection.
    async function fence() {
      const n = ++fences;
      expectEqual(`fence ${n} ack`, await ack(A.s, "emit-to", { event: "fence", args: [n] }), [null]);
      for (const c of all) expectEqual(`${c.inbox.name} fence ${n}`, await c.inbox.take("fence"), [n]);
    }
    async function expectReceivers(event, args, receivers) {
      for (const c of receivers) expectEqual(`${c.inbox.name} ${event}`, await c.inbox.take(event), args);
      await fence();
      for (const c of all) c.inbox.none(event);
    }

    const ok1 = await ack(A.s, "emit-to", { rooms: ["r1", "r2"], event: "ev1", args: [1, "x", bin(0x01)] });
    expectEqual("emit-to r1+r2 ack", ok1, [null]);
    await expectReceivers("ev1", [1, "x", bin(0x01)], [A, B, C]);

    expectEqual("emit-to except r2 ack", await ack(C.s, "emit-to", { except: ["r2"], event: "ev2", args: [{ k: 2 }] }), [null]);
    await expectReceivers("ev2", [{ k: 2 }], [A, B]);

    expectEqual(
      "emit-to fromSocket ack",
      await ack(A.s, "emit-to", { rooms: ["r1"], fromSocket: true, event: "ev3", args: ["from-A"] }),
      [null],
    );
    await expectReceivers("ev3", ["from-A"], [B]);

    // A is in both r1 and its own room: still exactly once.
    expectEqual("emit-to r1+own ack", await ack(B.s, "emit-to", { rooms: ["r1", A.s.id], event: "ev4", args: [] }), [null]);
    await expectReceivers("ev4", [], [A, B]);

    expectEqual("emit-to r1 except A ack", await ack(C.s, "emit-to", { rooms: ["r1", "r2"], except: [A.s.id], event: "ev5", args: [5] }), [null]);
    await expectReceivers("ev5", [5], [B, C]);

    expectEqual("B leave r1", await ack(B.s, "leave", "r1"), [null]);
    expectEqual("B rooms after leave", await ack(B.s, "rooms"), [[B.s.id]]);
    expectEqual("emit-to r1 after leave ack", await ack(C.s, "emit-to", { rooms: ["r1"], event: "ev6", args: ["only-A"] }), [null]);
    await expectReceivers("ev6", ["only-A"], [A]);
  },

  broadcast: async () => {
    const A = connect("A", "/");
    const B = connect("B", "/");
    const X = connect("X", "/custom");
    for (const c of [A, B, X]) await connected(c);

    A.s.emit("broadcast", "hello", { n: 1 }, bin(0x0a));
    for (const c of [A, B]) expectEqual(`${c.inbox.name} broadcast 1`, await c.inbox.take("broadcast"), ["hello", { n: 1 }, bin(0x0a)]);
    // A second broadcast must be the next one each receives: no duplicates.
    B.s.emit("broadcast", "second");
    for (const c of [A, B]) expectEqual(`${c.inbox.name} broadcast 2`, await c.inbox.take("broadcast"), ["second"]);
    // Broadcasts of / do not reach /custom: X's own broadcast is its first.
    X.s.emit("broadcast", "custom-only");
    expectEqual("X broadcast", await X.inbox.take("broadcast"), ["custom-only"]);
    X.inbox.none("broadcast");
    // Fence on A and B, then neither got the /custom broadcast.
    for (const c of [A, B]) await ack(c.s, "echo", "fence");
    A.inbox.none("broadcast");
    B.inbox.none("broadcast");
  },

  "server-disconnect": async () => {
    const m = manager({ reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    let attempts = 0;
    m.on("reconnect_attempt", () => attempts++);
    const root = socketOn(m, "root", "/");
    const custom = socketOn(m, "custom", "/custom");
    await connected(root);
    await connected(custom);
    const customId = custom.s.id;
    const rootId = root.s.id;

    custom.s.emit("server-disconnect");
    expectEqual("custom disconnect reason", (await custom.inbox.take("disconnect"))[0], "io server disconnect");
    expect("custom will not reconnect", custom.s.active === false && custom.s.connected === false);
    // The connection itself is still up: / keeps working.
    await roundTrips(root);
    const list = await lastDisconnects(root.s);
    expectEqual(
      "server-side reason for /custom",
      list.filter((d) => d.id === customId),
      [{ id: customId, nsp: "/custom", reason: "server namespace disconnect" }],
    );
    custom.inbox.none("connect");

    // Closing the whole connection.
    const engineClosed = new Promise((resolve) => m.engine.once("close", (reason) => resolve(reason)));
    root.s.emit("server-disconnect-all");
    expectEqual("root disconnect reason", (await root.inbox.take("disconnect"))[0], "io server disconnect");
    expect("root will not reconnect", root.s.active === false && root.s.connected === false);
    log(`engine closed: ${await engineClosed}`);
    expect("manager is not reconnecting", m._reconnecting !== true && attempts === 0, `attempts=${attempts}`);

    const other = connect("other", "/");
    await connected(other);
    const list2 = await lastDisconnects(other.s);
    expectEqual(
      "server-side reason for / after disconnect(true)",
      list2.filter((d) => d.id === rootId),
      [{ id: rootId, nsp: "/", reason: "server namespace disconnect" }],
    );
    // The other client's round trips gave the manager time to misbehave.
    expect("still no reconnection attempt", attempts === 0 && !root.s.connected && !custom.s.connected, `attempts=${attempts}`);
    root.inbox.none("connect");
    custom.inbox.none("connect");
  },

  "client-disconnect": async () => {
    const m = manager();
    const root = socketOn(m, "root", "/");
    const custom = socketOn(m, "custom", "/custom");
    await connected(root);
    await connected(custom);
    const customId = custom.s.id;
    custom.s.disconnect();
    expectEqual("custom local disconnect reason", (await custom.inbox.take("disconnect"))[0], "io client disconnect");
    // The DISCONNECT packet precedes this request on the same connection.
    const list = await lastDisconnects(root.s);
    expectEqual(
      "server-side reason for /custom",
      list.filter((d) => d.id === customId),
      [{ id: customId, nsp: "/custom", reason: "client namespace disconnect" }],
    );
    await roundTrips(root);
  },

  "ping-timeout": async () => {
    const victims = [];
    for (const transports of [["polling"], ["websocket"]]) {
      const v = connect(`victim-${transports[0]}`, "/", { transports });
      await connected(v);
      const engine = v.s.io.engine;
      const orig = engine._sendPacket;
      expect("engine has _sendPacket", typeof orig === "function");
      let dropped = 0;
      engine._sendPacket = function (type, ...rest) {
        if (type === "pong") {
          dropped++;
          log(`${v.inbox.name}: dropping pong #${dropped}`);
          return;
        }
        return orig.call(this, type, ...rest);
      };
      victims.push({ v, id: v.s.id, dropped: () => dropped });
    }
    for (const { v, dropped } of victims) {
      const [reason] = await v.inbox.take("disconnect");
      log(`${v.inbox.name} disconnected: ${reason}`);
      expect(`${v.inbox.name} dropped at least one pong`, dropped() >= 1, `dropped=${dropped()}`);
    }
    const other = connect("other", "/");
    await connected(other);
    const list = await lastDisconnects(other.s);
    for (const { v, id } of victims) {
      expectEqual(
        `server-side reason for ${v.inbox.name}`,
        list.filter((d) => d.id === id),
        [{ id, nsp: "/", reason: "ping timeout" }],
      );
    }
  },

  "dynamic-namespace": async () => {
    const n1 = uniqueNsp("/dyn-");
    const n2 = uniqueNsp("/dyn-");
    const d1 = connect("d1", n1);
    const d2 = connect("d2", n2);
    await connected(d1);
    await connected(d2);
    await roundTrips(d1);
    await roundTrips(d2);
    expect("distinct socket ids", d1.s.id !== d2.s.id, `${d1.s.id} vs ${d2.s.id}`);

    // The children share one multiplexed connection too.
    const m = manager();
    const m1 = socketOn(m, "m1", n1);
    const m2 = socketOn(m, "m2", n2);
    await connected(m1);
    await connected(m2);
    expect("same engine", m1.s.io.engine === m2.s.io.engine);

    // The parent's middleware applies to the children.
    const rej = connect("rej", uniqueNsp("/dyn-"), { auth: { token: "reject" } });
    const [rerr] = await rej.inbox.take("connect_error");
    expectEqual("dyn middleware connect_error message", rerr.message, "unauthorized");
    expectEqual("dyn middleware connect_error data", rerr.data, { reason: "bad token" });
    rej.inbox.none("connect");

    // Names the regular expression does not match stay invalid.
    for (const bad of ["/dyn-x", "/dyn-", "/dyn-1a"]) {
      const c = connect(`bad${bad}`, bad);
      const [err] = await c.inbox.take("connect_error");
      expectEqual(`${bad} connect_error message`, err.message, "Invalid namespace");
      expect(`${bad} not connected`, c.s.connected === false);
      c.inbox.none("connect");
    }

    // broadcast stays in the child namespace.
    d1.s.emit("broadcast", "only-n1");
    for (const c of [d1, m1]) expectEqual(`${c.inbox.name} child broadcast`, await c.inbox.take("broadcast"), ["only-n1"]);
    // broadcast-parent reaches every child; each receives it once, and as
    // its next broadcast (nothing else broadcasts to these children).
    const token = `to-all-${process.pid}`;
    d2.s.emit("broadcast-parent", token, { n: 1 }, bin(0x0b));
    for (const c of [d1, d2, m1, m2]) {
      expectEqual(`${c.inbox.name} parent broadcast`, await c.inbox.take("broadcast"), [token, { n: 1 }, bin(0x0b)]);
    }
    for (const c of [d1, d2, m1, m2]) await ack(c.s, "echo", "fence");
    for (const c of [d1, d2, m1, m2]) c.inbox.none("broadcast");
  },

  "packet-middleware": async () => {
    for (const nsp of ["/", "/custom", uniqueNsp("/priv-")]) {
      const c = connect(`c${nsp}`, nsp);
      await connected(c);
      let acked = 0;
      c.s.emit("forbidden", "x", 1, () => acked++);
      expectEqual(`${nsp} error-seen`, await c.inbox.take("error-seen"), ["forbidden event"]);
      c.s.emit("forbidden");
      expectEqual(`${nsp} second error-seen`, await c.inbox.take("error-seen"), ["forbidden event"]);
      // Other events still go through, and the refused ones never reached
      // their handler nor were acknowledged.
      await roundTrips(c);
      c.inbox.none("forbidden-ran");
      c.inbox.none("error-seen");
      expect(`${nsp} refused event not acknowledged`, acked === 0, `acked=${acked}`);
    }
  },

  "catch-all": async () => {
    // A namespace of its own: no broadcast of another scenario is counted.
    const c = connect("c", uniqueNsp("/priv-"));
    await connected(c);
    expectEqual("any-count first", await ack(c.s, "any-count"), [1]);
    expectEqual("outgoing-count after auth", await ack(c.s, "outgoing-count"), [1]);
    c.s.emit("message", "m1");
    c.s.emit("message", "m2");
    expectEqual("message-back 1", await c.inbox.take("message-back"), ["m1"]);
    expectEqual("message-back 2", await c.inbox.take("message-back"), ["m2"]);
    expectEqual("echo", await ack(c.s, "echo", "e"), ["e"]);
    // any-count, outgoing-count, message x2, echo, any-count.
    expectEqual("any-count counts every incoming event", await ack(c.s, "any-count"), [6]);
    // auth, message-back x2; acknowledgements are not events.
    expectEqual("outgoing-count counts emitted events", await ack(c.s, "outgoing-count"), [3]);
    // Catch-all listeners run before packet middlewares: a refused event counts.
    c.s.emit("forbidden");
    expectEqual("error-seen", await c.inbox.take("error-seen"), ["forbidden event"]);
    expectEqual("any-count counts refused events", await ack(c.s, "any-count"), [9]);
    expectEqual("outgoing-count counts error-seen", await ack(c.s, "outgoing-count"), [4]);
  },

  "broadcast-ack": async () => {
    const nsp = uniqueNsp("/priv-");
    const names = ["A", "B", "C"];
    const cs = names.map((n) => connect(n, nsp));
    for (const c of cs) await connected(c);
    const [A, B, C] = cs;
    let cAnswers = false;
    const seen = { A: 0, B: 0, C: 0 };
    for (const c of cs) {
      const name = c.inbox.name;
      c.s.on("ping-all", (...args) => {
        const cb = args.pop();
        expect(`${name} ping-all carries an ack callback`, typeof cb === "function");
        expectEqual(`${name} ping-all args`, args, []);
        seen[name]++;
        if (name !== "C" || cAnswers) cb(name);
      });
    }
    expectEqual("broadcast-ack with one silent client", await ack(A.s, "broadcast-ack", 1500), [
      { ok: false, replies: ["A", "B"], error: "timeout" },
    ]);
    // (C got it too, but nothing orders that with A's ack; the second round does.)
    expectEqual("A and B got ping-all once", [seen.A, seen.B], [1, 1]);
    cAnswers = true;
    expectEqual("broadcast-ack with everyone answering", await ack(B.s, "broadcast-ack", 4000), [
      { ok: true, replies: ["A", "B", "C"] },
    ]);
    expectEqual("each got ping-all twice", seen, { A: 2, B: 2, C: 2 });
  },

  utilities: async () => {
    const nsp = uniqueNsp("/priv-");
    const A = connect("A", nsp);
    const B = connect("B", nsp);
    const C = connect("C", nsp);
    for (const c of [A, B, C]) await connected(c);
    const info = (c, rooms, data) => ({ id: c.s.id, rooms: [c.s.id, ...rooms].sort(), data });
    const byId = (list) => list.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const fetch = async (what, spec, want) => expectEqual(what, await ack(C.s, "fetch-sockets", spec), [byId(want)]);

    expectEqual("A set-data", await ack(A.s, "set-data", { name: "A", n: [1, 2] }), [null]);
    expectEqual("B set-data", await ack(B.s, "set-data", "just B"), [null]);
    await fetch("fetch-sockets whole namespace", {}, [
      info(A, [], { name: "A", n: [1, 2] }),
      info(B, [], "just B"),
      info(C, [], {}),
    ]);

    expectEqual("A join r1", await ack(A.s, "join", "r1"), [null]);
    expectEqual("B join r1", await ack(B.s, "join", "r1"), [null]);
    await fetch("fetch-sockets r1", { room: "r1" }, [info(A, ["r1"], { name: "A", n: [1, 2] }), info(B, ["r1"], "just B")]);
    await fetch("fetch-sockets unknown room", { room: "nobody-here" }, []);

    expectEqual("sockets-join r2 for r1", await ack(C.s, "sockets-join", { room: "r2", target: "r1" }), [null]);
    expectEqual("A rooms after sockets-join", await ack(A.s, "rooms"), [[A.s.id, "r1", "r2"].sort()]);
    await fetch("fetch-sockets r2", { room: "r2" }, [
      info(A, ["r1", "r2"], { name: "A", n: [1, 2] }),
      info(B, ["r1", "r2"], "just B"),
    ]);
    // Targeting a socket by its own room.
    expectEqual("sockets-join r3 for C", await ack(A.s, "sockets-join", { room: "r3", target: C.s.id }), [null]);
    expectEqual("C rooms after sockets-join", await ack(C.s, "rooms"), [[C.s.id, "r3"].sort()]);

    expectEqual("sockets-leave r1 for r2", await ack(C.s, "sockets-leave", { room: "r1", target: "r2" }), [null]);
    await fetch("fetch-sockets r1 after sockets-leave", { room: "r1" }, []);
    expectEqual("B rooms after sockets-leave", await ack(B.s, "rooms"), [[B.s.id, "r2"].sort()]);

    expectEqual("disconnect-room r2", await ack(C.s, "disconnect-room", { room: "r2" }), [null]);
    for (const c of [A, B]) {
      expectEqual(`${c.inbox.name} disconnect reason`, (await c.inbox.take("disconnect"))[0], "io server disconnect");
      expect(`${c.inbox.name} will not reconnect`, c.s.active === false && c.s.connected === false);
    }
    expect("C still connected", C.s.connected === true);
    await fetch("fetch-sockets after disconnect-room", {}, [info(C, ["r3"], {})]);
    await roundTrips(C);
  },

  volatile: async () => {
    const n = 50;
    for (const transports of [["websocket"], ["polling"]]) {
      const c = connect(`c-${transports[0]}`, "/", { transports });
      await connected(c);
      for (let round = 1; round <= 2; round++) {
        expectEqual(`${c.inbox.name} volatile-burst ${round} ack`, await ack(c.s, "volatile-burst", n), [null]);
        // Every vol delivered was sent before the ack, on the same ordered
        // connection: they are all here already.
        const got = [];
        for (const r of c.inbox.records.filter((r) => r.event === "vol")) got.push(r.args);
        c.inbox.records = c.inbox.records.filter((r) => r.event !== "vol");
        log(`${c.inbox.name} round ${round}: ${got.length}/${n} vol delivered`);
        expect(`${c.inbox.name} at most ${n} vol`, got.length <= n, `got ${got.length}`);
        for (const args of got) {
          expect(`${c.inbox.name} vol carries one index (no offset)`, args.length === 1 && Number.isInteger(args[0]), show(args));
        }
        const idx = got.map((a) => a[0]);
        expect(`${c.inbox.name} vol in order, no duplicates`, idx.every((v, i) => i === 0 || v > idx[i - 1]), show(idx));
        expect(`${c.inbox.name} vol in range`, idx.every((v) => v >= 0 && v < n), show(idx));
      }
      await roundTrips(c);
      c.inbox.none("vol");
    }
  },

  recovery: async () => {
    const nsp = uniqueNsp("/priv-");
    const m = manager({ transports: ["websocket"], reconnection: true, reconnectionDelay: 10, reconnectionDelayMax: 10 });
    const A = socketOn(m, "A", nsp);
    await connected(A);
    const mustRecover = process.env.SIO_EXPECT_RECOVERY === "1";
    if (!A.s._pid) {
      expect("the server has connection state recovery (SIO_EXPECT_RECOVERY=1)", !mustRecover, "no pid in CONNECT");
      log("SKIP: the server has no connection state recovery (no pid in CONNECT)");
      return;
    }
    const B = connect("B", nsp);
    await connected(B);
    const id = A.s.id;
    expectEqual("A join r", await ack(A.s, "join", "r"), [null]);
    expectEqual("A set-data", await ack(A.s, "set-data", { kept: true }), [null]);
    expectEqual("before: missed to r", await ack(B.s, "emit-to", { rooms: ["r"], event: "missed", args: [0] }), [null]);
    expectEqual("A got missed 0 live", await A.inbox.take("missed"), [0]);

    // Hold the automatic reconnection until the events were missed.
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const open = m.open;
    let attempts = 0;
    m.open = function (...args) {
      attempts++;
      gate.then(() => open.apply(this, args));
      return this;
    };

    A.s.io.engine.transport.ws.close();
    expectEqual("A disconnect reason", (await A.inbox.take("disconnect"))[0], "transport close");
    expect("A will reconnect", A.s.active === true);
    // The session is kept before the disconnect handlers run, which record it.
    await waitFor("server saw A's transport close", async () => {
      const list = await lastDisconnects(B.s);
      return list.some((d) => d.id === id && d.nsp === nsp && d.reason === "transport close");
    });
    for (const i of [1, 2]) {
      expectEqual(`missed ${i} to r`, await ack(B.s, "emit-to", { rooms: ["r"], event: "missed", args: [i] }), [null]);
    }
    A.inbox.none("missed");

    release();
    const first = await A.inbox.takeFirst("connect", "connect_error");
    expectEqual("A reconnect event", first.event, "connect");
    expect("reconnected through the automatic reconnection", attempts === 1, `attempts=${attempts}`);
    expect("A recovered", A.s.recovered === true, `recovered=${A.s.recovered}`);
    expectEqual("A id after recovery", A.s.id, id);
    expectEqual("A missed 1", await A.inbox.take("missed"), [1]);
    expectEqual("A missed 2", await A.inbox.take("missed"), [2]);
    expectEqual("A rooms after recovery", await ack(A.s, "rooms"), [[id, "r"].sort()]);
    const [list] = await ack(B.s, "fetch-sockets", { room: "r" });
    expectEqual("A data after recovery", list, [{ id, rooms: [id, "r"].sort(), data: { kept: true } }]);
    // Still a member of r, live.
    expectEqual("after: emit to r", await ack(B.s, "emit-to", { rooms: ["r"], event: "missed", args: [3] }), [null]);
    expectEqual("A missed 3 live", await A.inbox.take("missed"), [3]);
    await roundTrips(A);
    A.inbox.none("missed");
  },
};

// ---------------------------------------------------------------------------

let finished = false;
function finish(err) {
  if (finished) return;
  finished = true;
  for (const m of managers) {
    try {
      m.disconnect();
    } catch (_) {
      /* ignore */
    }
  }
  const res = err ? { ok: false, error: String((err && err.message) || err) } : { ok: true };
  if (err) log(`FAIL: ${res.error}`);
  else log("PASS");
  process.stdout.write(JSON.stringify(res) + "\n", () => process.exit(err ? 1 : 0));
}

process.on("uncaughtException", (err) => finish(err));
process.on("unhandledRejection", (err) => finish(err));

function main() {
  if (url === "--list") {
    // Machine-readable list of the scenarios, for the Go side to check.
    process.stdout.write(JSON.stringify(Object.keys(scenarios)) + "\n");
    return;
  }
  if (!url || !scenario) {
    finish(new Error("usage: node client.js <url> <scenario>"));
    return;
  }
  const fn = scenarios[scenario];
  if (!fn) {
    finish(new Error(`unknown scenario ${JSON.stringify(scenario)}; known: ${Object.keys(scenarios).join(", ")}`));
    return;
  }
  log(`start against ${url}`);
  const timer = setTimeout(
    () => finish(new Error(`scenario ${scenario} timed out after ${SCENARIO_TIMEOUT_MS}ms`)),
    SCENARIO_TIMEOUT_MS,
  );
  Promise.resolve()
    .then(fn)
    .then(
      () => finish(),
      (err) => finish(err),
    )
    .finally(() => clearTimeout(timer));
}

main();
