// Runs the official @socket.io/redis-emitter once per JSON line read on
// stdin ({id, ns, to, except, event, args, op}), replying {id} when
// published. Environment: REDIS_URL. Buffers travel as {"$bin": hex}.
"use strict";
const readline = require("readline");
const { createClient } = require("redis");
const { Emitter } = require("@socket.io/redis-emitter");

const reviver = (k, v) => (v && typeof v === "object" && typeof v.$bin === "string" ? Buffer.from(v.$bin, "hex") : v);

(async () => {
  const client = createClient({ url: process.env.REDIS_URL });
  client.on("error", () => {});
  await client.connect();
  const emitter = new Emitter(client);
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const c = JSON.parse(line, reviver);
    let e = c.ns ? emitter.of(c.ns) : emitter;
    if (c.to) e = e.to(c.to);
    if (c.except) e = e.except(c.except);
    if (c.op === "join") e.socketsJoin(c.rooms);
    else if (c.op === "leave") e.socketsLeave(c.rooms);
    else if (c.op === "disconnect") e.disconnectSockets(!!c.close);
    else if (c.op === "sse") (c.ns ? emitter.of(c.ns) : emitter).serverSideEmit(c.event, ...(c.args || []));
    else e.emit(c.event, ...(c.args || []));
    process.stdout.write(JSON.stringify({ id: c.id }) + "\n");
  });
  rl.on("close", () => client.quit().then(() => process.exit(0)));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
