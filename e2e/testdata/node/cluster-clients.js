"use strict";
// Official socket.io-client sockets driven by a Go test over stdin/stdout,
// one JSON object per line (see "Clients of the cluster checker" in
// CONTRACT.md). The checker's logic lives in Go (e2e/internal/clusterenv);
// this process only opens sockets, emits what it is told and reports what
// its sockets receive.
//
// Binary values travel as {"$bin": "<hex>"} both ways.

const http = require("node:http");
const readline = require("node:readline");
const { io } = require("socket.io-client");
const { norm } = require("./check.js");

function out(msg) {
  process.stdout.write(JSON.stringify(msg) + "\n");
}

// revive turns {"$bin": hex} back into Buffers.
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$bin" && typeof v.$bin === "string") return Buffer.from(v.$bin, "hex");
    const o = {};
    for (const k of keys) o[k] = revive(v[k]);
    return o;
  }
  return v;
}

const sockets = new Map(); // client id → socket

function connect(cmd) {
  const opts = {
    forceNew: true,
    reconnection: false,
    timeout: 10000,
  };
  if (cmd.reconnect) {
    Object.assign(opts, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 });
  }
  if (cmd.transports) opts.transports = cmd.transports;
  if (cmd.upgrade === false) opts.upgrade = false;
  if (cmd.localAddress) {
    // Polling goes through an agent bound to the address, WebSocket
    // through the ws option of the same name.
    opts.agent = new http.Agent({ keepAlive: true, localAddress: cmd.localAddress });
    opts.localAddress = cmd.localAddress;
  }
  const socket = io(cmd.url, opts);
  sockets.set(cmd.id, socket);
  let watched = null;
  socket.on("connect", () => {
    const engine = socket.io.engine;
    out({ id: cmd.id, type: "connect", sid: socket.id, transport: engine.transport.name });
    if (watched !== engine) {
      watched = engine;
      engine.on("upgrade", (t) => out({ id: cmd.id, type: "upgrade", transport: t.name }));
    }
  });
  socket.on("connect_error", (err) => out({ id: cmd.id, type: "connect_error", error: err.message }));
  socket.on("disconnect", (reason) => out({ id: cmd.id, type: "disconnect", reason }));
  socket.onAny((event, ...args) => {
    let ack = false;
    if (typeof args[args.length - 1] === "function") {
      const cb = args.pop();
      ack = true;
      // The contract: the checker's clients answer with their socket id.
      if (!cmd.silent) cb(socket.id);
    }
    out({ id: cmd.id, type: "event", event, args: norm(args), ack });
  });
}

function handle(cmd) {
  switch (cmd.op) {
    case "connect":
      return connect(cmd);
    case "call": {
      const socket = sockets.get(cmd.id);
      if (!socket) return out({ type: "reply", seq: cmd.seq, error: `no client ${cmd.id}` });
      socket.timeout(cmd.timeoutMs || 30000).emit(cmd.event, ...revive(cmd.args || []), (err, ...reply) => {
        if (err) out({ type: "reply", seq: cmd.seq, error: err.message });
        else out({ type: "reply", seq: cmd.seq, args: norm(reply) });
      });
      return;
    }
    case "emit": {
      const socket = sockets.get(cmd.id);
      if (socket) socket.emit(cmd.event, ...revive(cmd.args || []));
      return;
    }
    case "info": {
      const socket = sockets.get(cmd.id);
      out({
        type: "reply",
        seq: cmd.seq,
        args: [
          socket
            ? { sid: socket.id || null, connected: socket.connected, transport: socket.io.engine ? socket.io.engine.transport.name : null }
            : null,
        ],
      });
      return;
    }
    case "close": {
      const socket = sockets.get(cmd.id);
      if (socket) socket.disconnect();
      sockets.delete(cmd.id);
      return;
    }
    default:
      out({ type: "error", error: `unknown op ${cmd.op}` });
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    return out({ type: "error", error: `bad command: ${e.message}` });
  }
  try {
    handle(cmd);
  } catch (e) {
    out({ type: "error", error: `${cmd.op}: ${e.stack || e.message}` });
  }
});
rl.on("close", () => {
  for (const s of sockets.values()) s.disconnect();
  process.exit(0);
});
out({ type: "ready" });
