//go:build !js

package msgpack

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// officialScript encodes each JavaScript packet of the input with the
// official Encoder, and decodes each message of the input with the official
// Decoder, printing the packet as JSON (Buffers as {"$bin": hex}) or the
// error.
const officialScript = `
const parser = require("socket.io-msgpack-parser");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const revive = (k, v) => (v && typeof v === "object" && typeof v.$bin === "string" ? Buffer.from(v.$bin, "hex") : v);
  const out = { encoded: [], decoded: [] };
  for (const text of req.encode) {
    const msgs = new parser.Encoder().encode(JSON.parse(text, revive));
    out.encoded.push(msgs.length === 1 && Buffer.isBuffer(msgs[0]) ? msgs[0].toString("hex") : "NOT ONE BUFFER");
  }
  for (const h of req.decode) {
    const d = new parser.Decoder();
    let got = "NOTHING";
    d.on("decoded", (p) => {
      got = JSON.stringify(p, (k, v) => (v && v.type === "Buffer" && Array.isArray(v.data) ? { $bin: Buffer.from(v.data).toString("hex") } : v));
    });
    try { d.add(Buffer.from(h, "hex")); } catch (e) { got = "ERR " + e.message; }
    out.decoded.push(got);
  }
  process.stdout.write(JSON.stringify(out));
});
`

// TestAgainstOfficialParser: each packet encodes to exactly the bytes of
// socket.io-msgpack-parser 3.0.2 (notepack.io 2.2) for the same packet
// built by the official server, and the official decoder reads it back.
func TestAgainstOfficialParser(t *testing.T) {
	dir, _ := filepath.Abs("../../../e2e/testdata/node")
	_, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "socket.io-msgpack-parser"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and the fixture's node_modules are required under CI: %v", err)
		}
		t.Skipf("node or the fixture's node_modules are missing: %v", err)
	}
	var req struct {
		Encode []string `json:"encode"`
		Decode []string `json:"decode"`
	}
	p := New()
	for _, tc := range encodeCases {
		req.Encode = append(req.Encode, tc.js)
		msg, _, _ := p.Encode(nil, &tc.packet)
		req.Decode = append(req.Decode, hex.EncodeToString(msg))
	}
	in, err := json.Marshal(req)
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), "node", "-e", officialScript)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	require.NoError(t, err)
	var res struct {
		Encoded []string `json:"encoded"`
		Decoded []string `json:"decoded"`
	}
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res.Encoded, len(encodeCases))
	for i, tc := range encodeCases {
		assert.Equal(t, res.Encoded[i], req.Decode[i], "%s: bytes differ from the official encoder's", tc.name)
		assert.JSONEq(t, tc.js, res.Decoded[i], "%s: the official decoder reads another packet", tc.name)
	}
}
