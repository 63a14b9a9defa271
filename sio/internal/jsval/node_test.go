//go:build !js

package jsval

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/nodefixture"
)

// nodeModules returns the interop fixture's node_modules, skipping the test
// when node or the modules are absent (failing under CI=true).
func nodeModules(t *testing.T) (node, dir string) {
	t.Helper()
	node, dir = nodefixture.Require(t, "notepack.io")
	return node, filepath.Join(dir, "node_modules")
}

const crossScript = `
const notepack = require("notepack.io");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const revive = (k, v) => (v && typeof v === "object" && typeof v.$bin === "string" ? Buffer.from(v.$bin, "hex") : v);
  const out = { encoded: [], decoded: [], json: [] };
  for (const text of req.encode) out.encoded.push(notepack.encode(JSON.parse(text, revive)).toString("hex"));
  for (const h of req.decode) {
    try { out.decoded.push(JSON.stringify(notepack.decode(Buffer.from(h, "hex")))); } catch (e) { out.decoded.push("ERR"); }
  }
  for (const text of req.json) out.json.push(JSON.stringify(JSON.parse(text)));
  process.stdout.write(JSON.stringify(out));
});
`

// reviveBin replaces the {"$bin": hex} markers of the test inputs by Buffers.
func reviveBin(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = reviveBin(x[i])
		}
	case *Object:
		if len(x.Keys) == 1 && x.Keys[0] == "$bin" {
			if s, ok := x.Vals[0].(string); ok {
				b, _ := hex.DecodeString(s)
				return b
			}
		}
		for i := range x.Vals {
			x.Vals[i] = reviveBin(x.Vals[i])
		}
	}
	return v
}

// TestAgainstNotepack encodes values with EncodeMsgpack and with
// notepack.io, decodes bytes with both, and parses/stringifies JSON with
// both: the results must be identical.
func TestAgainstNotepack(t *testing.T) {
	node, dir := nodeModules(t)
	long := strings.Repeat("é", 200)
	values := []string{
		`null`, `true`, `0`, `-0`, `1`, `127`, `128`, `255`, `256`, `65535`, `65536`,
		`4294967295`, `4294967296`, `9007199254740993`, `18446744073709551616`, `1e300`, `-1e300`,
		`-1`, `-32`, `-33`, `-128`, `-129`, `-32768`, `-32769`, `-2147483648`, `-2147483649`,
		`-9007199254740991`, `-9223372036854775808`, `-1e19`, `1.5`, `-0.1`, `1e-7`, `3.4028234663852886e38`,
		`""`, `"a"`, `"` + strings.Repeat("x", 31) + `"`, `"` + strings.Repeat("x", 32) + `"`,
		`"` + long + `"`, `"` + strings.Repeat("y", 70000) + `"`, `"😀 \u0001 \u2028"`,
		`[]`, `[1,[2,[3]]]`, `[` + strings.Repeat("0,", 15) + `0]`, `[` + strings.Repeat("0,", 65535) + `0]`,
		`{}`, `{"b":1,"2":2,"a":3,"1":4,"01":5,"b":6}`, `{"type":2,"data":["ev",{"$bin":"0102"}],"nsp":"/"}`,
		`{"$bin":""}`, `{"$bin":"` + strings.Repeat("ab", 256) + `"}`, `{"$bin":"` + strings.Repeat("cd", 65536) + `"}`,
		`{"a":{"b":{"c":[null,false,{"d":-1.25}]}}}`,
	}
	obj := "{"
	for i := range 20 {
		if i > 0 {
			obj += ","
		}
		obj += `"k` + string(rune('a'+i)) + `":` + string(rune('0'+i%10))
	}
	values = append(values, obj+"}")

	var goEncoded, decodeInputs []string
	var goDecoded []string
	for _, text := range values {
		v, err := ParseJSON([]byte(text))
		require.NoError(t, err, text)
		b := EncodeMsgpack(reviveBin(v))
		goEncoded = append(goEncoded, hex.EncodeToString(b))
		decodeInputs = append(decodeInputs, hex.EncodeToString(b))
	}
	// Bytes notepack does not write but decodes: other widths, extensions, keys.
	extra := []string{"ca3fc00000", "d00a", "d1000a", "d20000000a", "d3000000000000000a", "cf0000000000000001",
		"d6ff5f5e1000", "d7ff0000000100000000", "c70cff000000000000000000000001", "92d40000c0",
		"82a161d40000a16201", "d50102ab", "c7030001020300", "81cc0101", "81c0c3", "81c3c2", "8192010201",
		"83a16201a13102a13003", "d9026869", "da00026869", "db000000026869", "dc0001c0", "dd00000001c0",
		"de0001a16101", "df00000001a16101", "a2c3", "a3ff6162", "c1", "92", "c0c0", "d70000000000000003e8"}
	decodeInputs = append(decodeInputs, extra...)
	for _, h := range decodeInputs {
		b, _ := hex.DecodeString(h)
		v, err := DecodeMsgpack(b)
		if err != nil {
			goDecoded = append(goDecoded, "ERR")
			continue
		}
		goDecoded = append(goDecoded, string(StringifyJSON(v)))
	}
	var goJSON []string
	for _, text := range values {
		v, _ := ParseJSON([]byte(text))
		goJSON = append(goJSON, string(StringifyJSON(v)))
	}

	req, _ := json.Marshal(map[string]any{"encode": values, "decode": decodeInputs, "json": values})
	cmd := exec.Command(node, "-e", crossScript)
	cmd.Env = append(os.Environ(), "NODE_PATH="+dir)
	cmd.Stdin = bytes.NewReader(req)
	out, err := cmd.Output()
	require.NoError(t, err)
	var res struct{ Encoded, Decoded, JSON []string }
	require.NoError(t, json.Unmarshal(out, &res))
	for i := range values {
		assert.Equal(t, res.Encoded[i], goEncoded[i], "encode %.80s", values[i])
		assert.Equal(t, res.JSON[i], goJSON[i], "json %.80s", values[i])
	}
	for i := range decodeInputs {
		assert.Equal(t, res.Decoded[i], goDecoded[i], "decode %.80s", decodeInputs[i])
	}
}
