"use strict";
// The official socket.io server implementing the interop test app of CONTRACT.md.
//
//   PORT=0 SIO_RECOVERY=1 node server.js
//
// SIO_PARSER=msgpack speaks socket.io-msgpack-parser instead of the default
// parser.
// Listens on 127.0.0.1:$PORT (0 or unset = a free port) and prints one line
// {"port":N} on stdout once listening; everything else goes to stderr.
// Exits cleanly on SIGTERM, SIGINT or when stdin is closed, so run it with a
// stdin that stays open (a pipe) for as long as it should live.

const http = require("node:http");
const { Server } = require("socket.io");

const recovery = process.env.SIO_RECOVERY === "1";
const port = Number(process.env.PORT || 0);

function log(...args) {
  console.error("[server.js]", ...args);
}

const httpServer = http.createServer();
const opts = {
  path: "/socket.io/",
  pingInterval: Number(process.env.SIO_PING_INTERVAL || 1000),
  pingTimeout: Number(process.env.SIO_PING_TIMEOUT || 1000),
  connectTimeout: 1000,
  maxHttpBufferSize: 1e6,
  cors: { origin: true, credentials: true },
};
if (process.env.SIO_PARSER === "msgpack") {
  opts.parser = require("socket.io-msgpack-parser");
}
if (recovery) {
  opts.connectionStateRecovery = {
    maxDisconnectionDuration: 60 * 1000,
    skipMiddlewares: true,
  };
}
const io = new Server(httpServer, opts);

// Sockets that disconnected so far, oldest first, at most 50.
const lastDisconnects = [];
const MAX_DISCONNECTS = 50;

function isFn(f) {
  return typeof f === "function";
}

// popAck removes the trailing acknowledgement callback from args, if any.
function popAck(args) {
  return args.length > 0 && isFn(args[args.length - 1]) ? args.pop() : undefined;
}

// setup installs the contract's middleware and handlers on a namespace. For
// a dynamic namespace, nsp is the parent (its children copy the middleware
// and the connection listener) and parent is set too: broadcast-parent
// broadcasts on it, reaching every child.
function setup(nsp, parent) {
  nsp.use((socket, next) => {
    const auth = socket.handshake.auth;
    if (auth && auth.token === "reject") {
      const err = new Error("unauthorized");
      err.data = { reason: "bad token" };
      next(err);
      return;
    }
    next();
  });

  nsp.on("connection", (socket) => {
    // The socket's own namespace: nsp itself, or the child of a dynamic one.
    const nsp = socket.nsp;
    let anyCount = 0;
    let outgoingCount = 0;
    // Registered before anything is emitted, so that "auth" counts.
    socket.onAny(() => anyCount++);
    socket.onAnyOutgoing(() => outgoingCount++);
    socket.use((event, next) => {
      if (event[0] === "forbidden") next(new Error("forbidden event"));
      else next();
    });
    socket.on("error", (err) => {
      socket.emit("error-seen", err && err.message);
    });
    log(`connect nsp=${nsp.name} id=${socket.id} recovered=${socket.recovered}`);
    socket.emit("auth", socket.handshake.auth || {});

    socket.on("disconnect", (reason) => {
      log(`disconnect nsp=${nsp.name} id=${socket.id} reason=${reason}`);
      lastDisconnects.push({ id: socket.id, nsp: nsp.name, reason });
      while (lastDisconnects.length > MAX_DISCONNECTS) lastDisconnects.shift();
    });

    socket.on("message", (...args) => {
      popAck(args);
      socket.emit("message-back", ...args);
    });

    socket.on("message-with-ack", (...args) => {
      const ack = popAck(args);
      if (ack) ack(...args);
    });

    socket.on("echo", (...args) => {
      const ack = popAck(args);
      if (ack) ack(...args);
    });

    socket.on("broadcast", (...args) => {
      popAck(args);
      nsp.emit("broadcast", ...args);
    });

    socket.on("join", (room, ack) => {
      socket.join(room);
      if (isFn(ack)) ack(null);
    });

    socket.on("leave", (room, ack) => {
      socket.leave(room);
      if (isFn(ack)) ack(null);
    });

    socket.on("rooms", (ack) => {
      if (isFn(ack)) ack(Array.from(socket.rooms).sort());
    });

    socket.on("emit-to", (spec, ack) => {
      spec = spec || {};
      let op = spec.fromSocket ? socket : nsp;
      if (Array.isArray(spec.rooms)) op = op.to(spec.rooms);
      if (Array.isArray(spec.except)) op = op.except(spec.except);
      op.emit(spec.event, ...(Array.isArray(spec.args) ? spec.args : []));
      if (isFn(ack)) ack(null);
    });

    socket.on("request-ack", (event, args, timeoutMs, ack) => {
      const list = Array.isArray(args) ? args : [];
      socket.timeout(timeoutMs).emit(event, ...list, (err, ...reply) => {
        if (!isFn(ack)) return;
        if (err) ack({ ok: false, error: "timeout" });
        else ack({ ok: true, reply });
      });
    });

    socket.on("server-disconnect", () => {
      socket.disconnect();
    });

    socket.on("server-disconnect-all", () => {
      socket.disconnect(true);
    });

    socket.on("last-disconnects", (ack) => {
      if (isFn(ack)) ack(lastDisconnects.slice());
    });

    socket.on("binary-me", (ack) => {
      socket.emit("binary", Buffer.from([1, 2, 3]), { nested: Buffer.from([4]) });
      if (isFn(ack)) ack(null);
    });

    // The packet middleware refuses it: this handler must never run.
    socket.on("forbidden", () => {
      socket.emit("forbidden-ran");
    });

    socket.on("any-count", (ack) => {
      if (isFn(ack)) ack(anyCount);
    });

    socket.on("outgoing-count", (ack) => {
      if (isFn(ack)) ack(outgoingCount);
    });

    socket.on("broadcast-ack", (timeoutMs, ack) => {
      nsp.timeout(Number(timeoutMs) || 0).emit("ping-all", (err, replies) => {
        if (!isFn(ack)) return;
        const res = { ok: !err, replies: sortValues(Array.isArray(replies) ? replies : []) };
        if (err) res.error = "timeout";
        ack(res);
      });
    });

    socket.on("set-data", (data, ack) => {
      socket.data = data;
      if (isFn(ack)) ack(null);
    });

    socket.on("fetch-sockets", (spec, ack) => {
      spec = spec || {};
      const op = typeof spec.room === "string" ? nsp.in(spec.room) : nsp;
      op.fetchSockets().then(
        (sockets) => {
          const list = sockets
            .map((s) => ({ id: s.id, rooms: Array.from(s.rooms).sort(), data: s.data === undefined ? {} : s.data }))
            .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
          if (isFn(ack)) ack(list);
        },
        (err) => log(`fetch-sockets failed: ${err}`),
      );
    });

    socket.on("sockets-join", (spec, ack) => {
      spec = spec || {};
      nsp.in(spec.target).socketsJoin(spec.room);
      if (isFn(ack)) ack(null);
    });

    socket.on("sockets-leave", (spec, ack) => {
      spec = spec || {};
      nsp.in(spec.target).socketsLeave(spec.room);
      if (isFn(ack)) ack(null);
    });

    socket.on("disconnect-room", (spec, ack) => {
      spec = spec || {};
      nsp.in(spec.room).disconnectSockets();
      if (isFn(ack)) ack(null);
    });

    socket.on("volatile-burst", (n, ack) => {
      const count = Number(n) || 0;
      for (let i = 0; i < count; i++) socket.volatile.emit("vol", i);
      if (isFn(ack)) ack(null);
    });

    if (parent) {
      socket.on("broadcast-parent", (...args) => {
        popAck(args);
        parent.emit("broadcast", ...args);
      });
    }
  });
}

// sortValues sorts strings in code unit order, other values by their JSON.
function sortValues(list) {
  const key = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  return list.slice().sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

setup(io.of("/"));
setup(io.of("/custom"));
for (const re of [/^\/dyn-\d+$/, /^\/priv-\d+$/]) {
  const parent = io.of(re);
  setup(parent, parent);
}

let closing = false;
function shutdown(why) {
  if (closing) return;
  closing = true;
  log(`shutting down (${why})`);
  // io.close() also closes the HTTP server; keep-alive connections must not
  // keep the process alive, so exit once it is done or after a short grace.
  io.close(() => process.exit(0));
  httpServer.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
process.stdin.on("end", () => shutdown("stdin closed"));
process.stdin.on("close", () => shutdown("stdin closed"));
process.stdin.on("error", () => shutdown("stdin error"));
process.stdin.resume();

httpServer.listen(port, "127.0.0.1", () => {
  const addr = httpServer.address();
  log(`listening on 127.0.0.1:${addr.port} recovery=${recovery}`);
  process.stdout.write(JSON.stringify({ port: addr.port }) + "\n");
});
