// Prints, one JSON line each, the messages published on a Redis server as
// the official packages decode them: for every channel of the classic
// adapter (PSUBSCRIBE <key>*) and the sharded channels given in
// SHARD_CHANNELS (comma-separated; SSUBSCRIBE), {channel, format, value,
// canonical}: format "json" when the message starts with "{" (JSON.parse),
// "msgpack" otherwise (notepack.io's decode); canonical tells whether
// JSON.stringify / notepack.encode of the value gives back the same bytes.
// Buffers are printed as {"$bin": hex}. Prints {"ready": true} once
// subscribed. Environment: REDIS_URL, KEY (default "socket.io").
"use strict";
const { createClient } = require("redis");
const notepack = require("notepack.io");

const replacer = (k, v) =>
  v && v.type === "Buffer" && Array.isArray(v.data) ? { $bin: Buffer.from(v.data).toString("hex") } : v;

function report(channel, raw) {
  const line = { channel: channel.toString() };
  try {
    if (raw[0] === 0x7b) {
      line.format = "json";
      line.value = JSON.parse(raw.toString());
      line.canonical = JSON.stringify(line.value) === raw.toString();
    } else {
      line.format = "msgpack";
      line.value = notepack.decode(raw);
      line.canonical = Buffer.compare(notepack.encode(line.value), raw) === 0;
    }
  } catch (e) {
    line.error = e.message;
  }
  process.stdout.write(JSON.stringify(line, replacer) + "\n");
}

(async () => {
  const sub = createClient({ url: process.env.REDIS_URL });
  sub.on("error", () => {});
  await sub.connect();
  const key = process.env.KEY || "socket.io";
  await sub.pSubscribe(key + "*", (msg, channel) => report(channel, msg), true);
  for (const ch of (process.env.SHARD_CHANNELS || "").split(",").filter(Boolean)) {
    await sub.sSubscribe(ch, (msg, channel) => report(channel, msg), true);
  }
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
