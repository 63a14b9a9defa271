"use strict";
// The cluster contract of CONTRACT.md on the official socket.io server with
// the official Redis adapter: the Node.js reference of `cmd/server -mode
// cluster`.
//
//   node cluster-server.js --node NAME [--redis URL] [--adapter redis|sharded|streams|streams-sharded]
//                          [--addr 127.0.0.1:0] [--recovery]
//
// Without --redis it uses the in-memory adapter (a cluster of one node).
// streams is createAdapter of @socket.io/redis-streams-adapter (streams-sharded
// with useShardedPubSub). --recovery
// turns connection state recovery on (60 s, skipMiddlewares). It
// prints "listening on http://ADDR/" once it listens, and exits on SIGTERM,
// SIGINT or when its stdin closes.

const http = require("node:http");
const { Server } = require("socket.io");

function parseArgs(argv) {
  const opts = { node: "", redis: "", adapter: "redis", addr: "127.0.0.1:0", recovery: false };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in opts)) throw new Error(`unknown argument ${argv[i]}`);
    if (typeof opts[m[1]] === "boolean") {
      opts[m[1]] = m[2] === undefined || m[2] === "true";
      continue;
    }
    opts[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  if (!opts.node) throw new Error("--node NAME is required");
  if (!["redis", "sharded", "streams", "streams-sharded"].includes(opts.adapter)) throw new Error(`unknown --adapter ${opts.adapter}`);
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const NAME = opts.node;
const log = (...a) => console.error(`[${NAME}]`, ...a);

async function adapter() {
  if (!opts.redis) return null;
  const { createClient } = require("redis");
  const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
  const pubClient = createClient({ url: opts.redis });
  const subClient = pubClient.duplicate();
  // Without an error listener a lost Redis connection would end the
  // process; the clients reconnect by themselves.
  for (const [name, c] of [["pub", pubClient], ["sub", subClient]]) {
    let down = false;
    c.on("error", (err) => {
      if (!down) log(`redis ${name}: ${err.message}`);
      down = true;
    });
    c.on("ready", () => {
      if (down) log(`redis ${name}: ready again`);
      down = false;
    });
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);
  if (opts.adapter === "streams" || opts.adapter === "streams-sharded") {
    // One client: the adapter duplicates it for its readers and subscriptions.
    subClient.disconnect();
    return require("@socket.io/redis-streams-adapter").createAdapter(pubClient, {
      useShardedPubSub: opts.adapter === "streams-sharded",
    });
  }
  return opts.adapter === "sharded"
    ? createShardedAdapter(pubClient, subClient)
    : createAdapter(pubClient, subClient);
}

// op applies sel ({to, except, local}, each optional) to the namespace.
function op(io, sel) {
  sel = sel || {};
  let o = io.to(sel.to || []).except(sel.except || []);
  if (sel.local) o = o.local;
  return o;
}

// sortReplies sorts by the JSON text of each reply, as the Go side does.
function sortReplies(replies) {
  return (replies || [])
    .map((r) => [JSON.stringify(r === undefined ? null : r), r === undefined ? null : r])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((p) => p[1]);
}

const last = (args) => (typeof args[args.length - 1] === "function" ? args.pop() : () => {});

async function main() {
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    pingInterval: 2000,
    pingTimeout: 5000,
    cors: { origin: "*" },
    connectionStateRecovery: opts.recovery ? { maxDisconnectionDuration: 60000, skipMiddlewares: true } : undefined,
  });
  const a = await adapter();
  if (a) io.adapter(a);
  const nsp = io.of("/");

  nsp.on("ping", (...args) => {
    const cb = last(args);
    cb(NAME);
  });

  io.on("connection", (socket) => {
    socket.emit("hello", NAME);

    socket.on("join", (room, cb) => {
      socket.join(room);
      cb(NAME);
    });
    socket.on("leave", (room, cb) => {
      socket.leave(room);
      cb(NAME);
    });
    socket.on("emit", (...args) => {
      const cb = last(args);
      const [sel, event, ...rest] = args;
      try {
        op(io, sel).emit(event, ...rest);
        cb();
      } catch (e) {
        cb({ error: e.message });
      }
    });
    socket.on("fetch", async (sel, cb) => {
      try {
        const sockets = await op(io, sel).fetchSockets();
        const out = sockets
          .map((s) => ({ id: s.id, rooms: [...s.rooms].sort() }))
          .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
        cb(out);
      } catch (e) {
        cb({ error: e.message });
      }
    });
    socket.on("sockets-join", (sel, room, cb) => {
      op(io, sel).socketsJoin(room);
      cb();
    });
    socket.on("sockets-leave", (sel, room, cb) => {
      op(io, sel).socketsLeave(room);
      cb();
    });
    socket.on("disconnect-sockets", (sel, cb) => {
      cb();
      op(io, sel).disconnectSockets(true);
    });
    socket.on("emit-with-ack", (sel, event, timeoutMs, cb) => {
      op(io, sel)
        .timeout(timeoutMs)
        .emit(event, (err, replies) => {
          cb({ replies: sortReplies(replies), error: err ? err.message : null });
        });
    });
    socket.on("server-side-emit", (timeoutMs, cb) => {
      if (!a) {
        // Alone, there is no other node to answer (socket.io's in-memory
        // adapter only warns that it "does not support" server-side emits).
        return cb({ replies: [], error: null });
      }
      // The adapters have no per-call timeout for server-side emits (theirs
      // is 5 s): timeoutMs is enforced here, without the partial replies.
      let done = false;
      const finish = (res) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        cb(res);
      };
      const timer = setTimeout(() => finish({ replies: [], error: `no reply from every node within ${timeoutMs} ms` }), timeoutMs);
      io.serverSideEmitWithAck("ping", NAME).then(
        (replies) => finish({ replies: sortReplies(replies), error: null }),
        (err) => finish({ replies: sortReplies(err.responses), error: err.message }),
      );
    });
    socket.on("server-count", async (cb) => {
      try {
        cb(await nsp.adapter.serverCount());
      } catch (e) {
        cb({ error: e.message });
      }
    });
    socket.on("set-data", (data, cb) => {
      socket.data = data;
      cb(NAME);
    });
    socket.on("state", (cb) => {
      cb({ id: socket.id, rooms: [...socket.rooms].sort(), data: socket.data, recovered: socket.recovered, node: NAME });
    });
  });

  const [host, port] = [opts.addr.slice(0, opts.addr.lastIndexOf(":")), Number(opts.addr.slice(opts.addr.lastIndexOf(":") + 1))];
  httpServer.listen(port, host, () => {
    const addr = httpServer.address();
    console.log(`listening on http://${addr.address}:${addr.port}/`);
  });

  const stop = () => {
    io.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}

main().catch((e) => {
  log(e && e.stack ? e.stack : e);
  process.exit(1);
});
