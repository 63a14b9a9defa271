"use strict";
// Reads JSON lines on stdin, {op, ...}, and answers one JSON line each
// with what @socket.io/redis-streams-adapter 0.3.1 (and its @msgpack/msgpack)
// makes of them, so that the Go adapter's encodings can be compared byte
// for byte:
//   {op:"hash", s}             → {hash: hashCode(s)} (the stream of a namespace)
//   {op:"msgpack", value}      → {b64: base64 of msgpack encode(value)}
//   {op:"entry", message}      → {fields: the XADD fields of message (RedisStreamsAdapter#encode)}
//   {op:"decode", fields}      → {message: RedisStreamsAdapter.decode(fields)}
// Binary values are {"$bin": hex} both ways.
const readline = require("node:readline");
const path = require("node:path");
const dir = path.dirname(require.resolve("@socket.io/redis-streams-adapter"));
const { hashCode } = require(path.join(dir, "util.js"));
const { encode } = require(path.join(path.dirname(require.resolve("@msgpack/msgpack", { paths: [dir] })), "..", "dist", "index.js"));

function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$bin") return Buffer.from(v.$bin, "hex");
    const o = {};
    for (const k of keys) o[k] = revive(v[k]);
    return o;
  }
  return v;
}
const replacer = (k, v) => {
  if (v && v.type === "Buffer" && Array.isArray(v.data)) return { $bin: Buffer.from(v.data).toString("hex") };
  if (v instanceof Uint8Array) return { $bin: Buffer.from(v).toString("hex") };
  return v;
};

// The adapter's encode and decode are methods of an unexported class:
// build one without a Redis client (its constructor only needs a namespace).
const { createAdapter } = require("@socket.io/redis-streams-adapter");
let Adapter;
{
  const never = () => new Promise(() => {});
  const fake = { duplicate: () => ({ on() {}, connect: async () => {}, subscribe() {}, sSubscribe() {}, xRead: never, disconnect() {} }), sSubscribe() {} };
  const nsp = { name: "/", server: { opts: {} }, adapter: null };
  const a = createAdapter(fake, {})(nsp);
  Adapter = a;
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const cmd = JSON.parse(line);
  let out;
  switch (cmd.op) {
    case "hash":
      out = { hash: hashCode(cmd.s) };
      break;
    case "msgpack":
      out = { b64: Buffer.from(encode(revive(cmd.value))).toString("base64") };
      break;
    case "entry":
      out = { fields: Adapter.encode(revive(cmd.message)) };
      break;
    case "decode":
      out = { message: Adapter.constructor.decode(cmd.fields) };
      break;
    default:
      out = { error: `unknown op ${cmd.op}` };
  }
  process.stdout.write(JSON.stringify(out, replacer) + "\n");
});
rl.on("close", () => process.exit(0));
process.stdout.write(JSON.stringify({ ready: true }) + "\n");
