"use strict";
// The assertions of client.js and client-v2.js.

const util = require("node:util");

// norm maps binary values to {$bin: hex} and functions to "[Function]" so
// that values compare (and print) by their bytes.
function norm(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bin: Buffer.from(v).toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (typeof v === "function") return "[Function]";
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v)) out[k] = norm(v[k]);
    return out;
  }
  return v;
}

function show(v) {
  return JSON.stringify(norm(v));
}

// checker returns expectEqual and expect, which log what passed with log
// and throw what failed.
function checker(log) {
  return {
    expectEqual(what, got, want) {
      const g = norm(got);
      const w = norm(want);
      if (!util.isDeepStrictEqual(g, w)) {
        throw new Error(`${what}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
      }
      log(`ok: ${what} = ${JSON.stringify(g)}`);
    },
    expect(what, cond, detail) {
      if (!cond) throw new Error(`${what}${detail === undefined ? "" : ": " + detail}`);
      log(`ok: ${what}`);
    },
  };
}

module.exports = { norm, show, checker };
