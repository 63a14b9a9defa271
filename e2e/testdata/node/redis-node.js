// A Node.js socket.io server on the official Redis adapter, driven over
// stdin/stdout by the Go interop tests (e2e/redis_interop_test.go): one JSON
// command per line in ({id, cmd, ...}), one JSON reply per line out ({id,
// result} or {id, error}); unsolicited lines ({event, ...}) report the
// server-side events it receives. Buffers travel as {"$bin": hex}.
//
// Environment: REDIS_URL, NODE_NAME, ADAPTER (classic | sharded),
// SUBSCRIPTION_MODE (sharded: static | dynamic | dynamic-private).
"use strict";
const { createServer } = require("http");
const readline = require("readline");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");

const name = process.env.NODE_NAME || "node";

const replacer = (k, v) =>
  v && v.type === "Buffer" && Array.isArray(v.data) ? { $bin: Buffer.from(v.data).toString("hex") } : v;
const reviver = (k, v) => (v && typeof v === "object" && typeof v.$bin === "string" ? Buffer.from(v.$bin, "hex") : v);
const out = (obj) => process.stdout.write(JSON.stringify(obj, replacer) + "\n");

(async () => {
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const adapter =
    process.env.ADAPTER === "sharded"
      ? createShardedAdapter(pub, sub, process.env.SUBSCRIPTION_MODE ? { subscriptionMode: process.env.SUBSCRIPTION_MODE } : {})
      : createAdapter(pub, sub);
  const httpServer = createServer();
  const io = new Server(httpServer, { adapter });
  const nsp = io.of("/");
  io.on("connection", (socket) => {
    socket.data = { node: name };
    socket.on("join", (room, cb) => {
      socket.join(room);
      cb(name);
    });
    socket.on("broadcast", (...args) => {
      const cb = args.pop();
      socket.broadcast.emit("msg", ...args);
      cb();
    });
  });
  nsp.on("ping", (cb) => cb(name));
  nsp.on("hello", (...args) => out({ event: "hello", args }));

  const op = (sel) => {
    sel = sel || {};
    let o = io.of("/");
    if (sel.to && sel.to.length) o = o.to(sel.to);
    if (sel.except && sel.except.length) o = o.except(sel.except);
    if (sel.local) o = o.local;
    return o;
  };
  const commands = {
    emit: (c) => op(c.sel).emit(c.event, ...(c.args || [])),
    emitAck: async (c) => {
      try {
        return { replies: await op(c.sel).timeout(c.timeout).emitWithAck(c.event), error: null };
      } catch (e) {
        return { replies: e.responses || [], error: e.message };
      }
    },
    fetch: async (c) =>
      (await op(c.sel).fetchSockets()).map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data, handshake: s.handshake })),
    remote: async (c) => {
      for (const s of await op(c.sel).fetchSockets()) {
        if (c.op === "emit") s.emit(c.event, ...(c.args || []));
        if (c.op === "join") s.join(c.rooms);
        if (c.op === "leave") s.leave(c.rooms[0]);
        if (c.op === "disconnect") s.disconnect(!!c.close);
      }
    },
    socketsJoin: (c) => op(c.sel).socketsJoin(c.rooms),
    socketsLeave: (c) => op(c.sel).socketsLeave(c.rooms),
    disconnectSockets: (c) => op(c.sel).disconnectSockets(!!c.close),
    sse: (c) => nsp.serverSideEmit(c.event, ...(c.args || [])),
    sseAck: async (c) => {
      try {
        return { replies: await nsp.serverSideEmitWithAck(c.event, ...(c.args || [])), error: null };
      } catch (e) {
        return { replies: e.responses || [], error: e.message };
      }
    },
    count: () => nsp.adapter.serverCount(),
    rooms: () => [...nsp.adapter.rooms.keys()].sort(),
  };
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    let c;
    try {
      c = JSON.parse(line, reviver);
    } catch (e) {
      return;
    }
    try {
      const result = await commands[c.cmd](c);
      out({ id: c.id, result: result === undefined ? null : result });
    } catch (e) {
      out({ id: c.id, error: String((e && e.message) || e) });
    }
  });
  rl.on("close", () => process.exit(0));
  httpServer.listen(0, "127.0.0.1", () => out({ port: httpServer.address().port }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
