"use strict";
// The official socket.io server implementing the load-test contract of
// cmd/server -mode bench, for cmd/server/loadtool/compare.sh:
//
//   on "/", event "echo" is acknowledged with its own arguments, and event
//   "broadcast" is emitted again, with the same arguments, to every socket
//   of the namespace.
//
//   PORT=0 node bench-server.js
//   PORT=0 REDIS_URL=redis://127.0.0.1:6379 ADAPTER=redis node bench-server.js
//
// Listens on 127.0.0.1:$PORT (0 or unset = a free port) with the official
// defaults (pingInterval 25s, pingTimeout 20s, both transports) and prints
// one line {"port":N} on stdout once listening. Exits on SIGTERM or SIGINT,
// and with EXIT_ON_STDIN_END=1 when its stdin closes (for tests, so that it
// does not outlive a test binary that was killed; compare.sh starts it in
// the background, where stdin is /dev/null).
//
// With REDIS_URL it runs on the official @socket.io/redis-adapter, as a
// node of a cluster (the same as cmd/server -mode bench -redis URL):
// ADAPTER=redis (default) is createAdapter, ADAPTER=sharded is
// createShardedAdapter (Redis 7), both with their default options, on a
// publishing and a subscribing connection of the `redis` package.

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 0);

async function adapter() {
  const url = process.env.REDIS_URL;
  if (!url) return undefined;
  const { createClient } = require("redis");
  const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
  const pub = createClient({ url });
  const sub = pub.duplicate();
  // Errors are reported and retried by the client; an unreachable server at
  // start fails connect() below.
  pub.on("error", (err) => process.stderr.write(`redis: ${err}\n`));
  sub.on("error", (err) => process.stderr.write(`redis: ${err}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  switch (process.env.ADAPTER || "redis") {
    case "redis":
      return createAdapter(pub, sub);
    case "sharded":
      return createShardedAdapter(pub, sub);
    default:
      throw new Error(`unknown ADAPTER ${process.env.ADAPTER} (redis or sharded)`);
  }
}

async function main() {
  const httpServer = http.createServer();
  const io = new Server(httpServer, { path: "/socket.io/", serveClient: false, adapter: await adapter() });

  io.on("connection", (socket) => {
    socket.on("echo", (...args) => {
      const ack = args.length > 0 && typeof args[args.length - 1] === "function" ? args.pop() : undefined;
      if (ack) ack(...args);
    });
    socket.on("broadcast", (...args) => {
      if (args.length > 0 && typeof args[args.length - 1] === "function") args.pop();
      io.emit("broadcast", ...args);
    });
  });

  httpServer.listen(port, "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
  });

  function shutdown() {
    io.close();
    httpServer.close();
    process.exit(0);
  }
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  if (process.env.EXIT_ON_STDIN_END === "1") {
    process.stdin.on("end", shutdown);
    process.stdin.on("close", shutdown);
    process.stdin.resume();
  }
}

main().catch((err) => {
  process.stderr.write(`bench-server: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
