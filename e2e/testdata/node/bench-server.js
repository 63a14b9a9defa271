"use strict";
// The official socket.io server implementing the load-test contract of
// cmd/server -mode bench, for cmd/server/loadtool/compare.sh:
//
//   on "/", event "echo" is acknowledged with its own arguments, and event
//   "broadcast" is emitted again, with the same arguments, to every socket
//   of the namespace.
//
//   PORT=0 node bench-server.js
//
// Listens on 127.0.0.1:$PORT (0 or unset = a free port) with the official
// defaults (pingInterval 25s, pingTimeout 20s, both transports) and prints
// one line {"port":N} on stdout once listening. Exits on SIGTERM or SIGINT.

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 0);

const httpServer = http.createServer();
const io = new Server(httpServer, { path: "/socket.io/", serveClient: false });

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
