// Prints, one JSON line each, the messages published (PUBLISH and SPUBLISH)
// on a Redis server, as the official packages decode them. It watches with
// MONITOR, which subscribes to nothing (a subscriber would count as a node
// in the adapters' server count), and prints for each message {channel,
// format, value, canonical}: format "json" when the message starts with "{"
// (JSON.parse), "msgpack" otherwise (notepack.io's decode); canonical tells
// whether JSON.stringify / notepack.encode of the value gives back the same
// bytes. Buffers are printed as {"$bin": hex}. Prints {"ready": true} once
// watching. Environment: REDIS_URL (redis://host:port).
"use strict";
const net = require("net");
const notepack = require("notepack.io");

const replacer = (k, v) =>
  v && v.type === "Buffer" && Array.isArray(v.data) ? { $bin: Buffer.from(v.data).toString("hex") } : v;

function report(channel, raw) {
  const line = { channel };
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

// args parses the quoted arguments of a MONITOR line, undoing Redis'
// sdscatrepr escapes, into Buffers.
function args(s) {
  const out = [];
  let i = 0;
  while ((i = s.indexOf('"', i)) !== -1) {
    i++;
    const bytes = [];
    while (i < s.length && s[i] !== '"') {
      let c = s[i++];
      if (c === "\\") {
        c = s[i++];
        const map = { n: 10, r: 13, t: 9, a: 7, b: 8, "\\": 92, '"': 34 };
        if (c === "x") {
          bytes.push(parseInt(s.substr(i, 2), 16));
          i += 2;
        } else {
          bytes.push(map[c] !== undefined ? map[c] : c.charCodeAt(0));
        }
      } else {
        bytes.push(c.charCodeAt(0));
      }
    }
    i++;
    out.push(Buffer.from(bytes));
  }
  return out;
}

const url = new URL(process.env.REDIS_URL);
const sock = net.connect(Number(url.port), url.hostname, () => sock.write("MONITOR\r\n"));
let buf = "";
sock.setEncoding("latin1");
sock.on("data", (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf("\r\n")) !== -1) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 2);
    if (line === "+OK") {
      process.stdout.write(JSON.stringify({ ready: true }) + "\n");
      continue;
    }
    const a = args(line);
    if (a.length === 3) {
      const cmd = a[0].toString().toLowerCase();
      if (cmd === "publish" || cmd === "spublish") report(a[1].toString(), a[2]);
    }
  }
});
sock.on("error", (e) => {
  console.error(e.message);
  process.exit(1);
});
// The test ends it by closing stdin.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
