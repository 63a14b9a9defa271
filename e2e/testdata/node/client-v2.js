"use strict";
// Runs the socket.io 2.x client (socket.io-client 2.5.0, the npm alias
// socket.io-client-v2) against a server that allows Engine.IO 3 clients
// (upstream's allowEIO3) and has the handlers of e2e/interop_v2_test.go:
//
//   node client-v2.js http://127.0.0.1:PORT
//
// Every scenario runs once per transport mode. Progress goes to stderr; the
// last stdout line is {"ok":true} or {"ok":false,"error":"..."}; the exit
// code is 0 only on success.

const io = require("socket.io-client-v2");

const TIMEOUT_MS = 5000;
const [url] = process.argv.slice(2);

function log(...args) {
  console.error("[client-v2.js]", ...args);
}

const { checker } = require("./check");
const { expectEqual } = checker(log);

// once resolves with the arguments of the next event of socket, or fails
// after TIMEOUT_MS.
function once(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

function emitWithAck(socket, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${args[0]} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    socket.emit(...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

function connect(path, transports, query) {
  return io(url + path, { transports, query, forceNew: true, reconnection: false, timeout: TIMEOUT_MS });
}

async function scenarios(mode, transports) {
  // The main namespace: connected without a CONNECT packet of the client's.
  const s = connect("/", transports, { q: "1" });
  try {
    const [welcome] = await once(s, "welcome");
    expectEqual(`${mode}: welcome on /`, welcome, { nsp: "/", query: "1" });

    expectEqual(`${mode}: echo ack`, await emitWithAck(s, "echo", 1, "two", { three: [3] }), [1, "two", { three: [3] }]);

    const bin = Buffer.from([1, 2, 3]);
    expectEqual(`${mode}: binary echo ack`, await emitWithAck(s, "echo", bin, { nested: Buffer.from([4]) }), [
      bin,
      { nested: Buffer.from([4]) },
    ]);

    s.emit("binary-me");
    const got = await once(s, "binary");
    expectEqual(`${mode}: binary from the server`, got, [Buffer.from([9, 8, 7]), { n: Buffer.from([6]) }]);

    expectEqual(`${mode}: server acks its emit`, await emitWithAck(s, "ask"), ["answer", 42]);

    // Another namespace, with the auth in the query.
    const admin = connect("/admin", transports, { token: "abc" });
    try {
      const [welcomeAdmin] = await once(admin, "welcome");
      expectEqual(`${mode}: welcome on /admin with the query as auth`, welcomeAdmin, { nsp: "/admin", token: "abc" });
      expectEqual(`${mode}: echo on /admin`, await emitWithAck(admin, "echo", "x"), ["x"]);
    } finally {
      admin.close();
    }

    // Refused by a middleware: the error's data.
    const refused = connect("/admin", transports, { token: "wrong" });
    try {
      const [err] = await once(refused, "error");
      expectEqual(`${mode}: middleware refusal with data`, err, { code: 401 });
    } finally {
      refused.close();
    }

    // Refused without data: the message.
    const plain = connect("/plain", transports, {});
    try {
      const [err] = await once(plain, "error");
      expectEqual(`${mode}: middleware refusal without data`, err, "not today");
    } finally {
      plain.close();
    }

    // A server-side disconnect.
    const bye = once(s, "disconnect");
    s.emit("disconnect-me");
    const [reason] = await bye;
    expectEqual(`${mode}: server disconnect reason`, reason, "io server disconnect");
  } finally {
    s.close();
  }
}

async function main() {
  for (const [mode, transports] of [
    ["polling", ["polling"]],
    ["websocket", ["websocket"]],
    ["polling+upgrade", ["polling", "websocket"]],
  ]) {
    await scenarios(mode, transports);
  }
}

main().then(
  () => {
    console.log(JSON.stringify({ ok: true }));
    process.exit(0);
  },
  (err) => {
    console.log(JSON.stringify({ ok: false, error: String(err && err.stack ? err.stack : err) }));
    process.exit(1);
  },
);
