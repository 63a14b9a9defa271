package streamsadapter

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/server"
)

// revive turns {"$bin": hex} objects of a parsed value into Buffers.
func revive(v any) any {
	switch v := v.(type) {
	case []any:
		for i := range v {
			v[i] = revive(v[i])
		}
	case *jsval.Object:
		if len(v.Keys) == 1 && v.Keys[0] == "$bin" {
			if s, ok := v.Vals[0].(string); ok {
				b, _ := hex.DecodeString(s)
				return b
			}
		}
		for i := range v.Vals {
			v.Vals[i] = revive(v.Vals[i])
		}
	}
	return v
}

func parse(t *testing.T, s string) any {
	t.Helper()
	v, err := jsval.ParseJSON([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return revive(v)
}

// official runs streams-wire.js (the official adapter's own encoders) on
// cmds and returns its answers, in order.
func official(t *testing.T, cmds []map[string]any) []map[string]json.RawMessage {
	t.Helper()
	dir, _ := filepath.Abs("../../e2e/testdata/node")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@socket.io", "redis-streams-adapter"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and the fixture's node_modules are required under CI: %v", err)
		}
		t.Skipf("node or the fixture's node_modules are missing: %v", err)
	}
	var in bytes.Buffer
	for _, c := range cmds {
		b, _ := json.Marshal(c)
		in.Write(append(b, '\n'))
	}
	cmd := exec.Command(node, "streams-wire.js")
	cmd.Dir = dir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("streams-wire.js: %v\n%s", err, stderr.String())
	}
	var res []map[string]json.RawMessage
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] { // after ready
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("streams-wire.js: %q: %v", line, err)
		}
		res = append(res, m)
	}
	if len(res) != len(cmds) {
		t.Fatalf("streams-wire.js answered %d of %d commands", len(res), len(cmds))
	}
	return res
}

// TestWireOfficial compares, byte for byte, what this package writes with
// what the official adapter writes for the same input: the hash that
// spreads namespaces over streams, the msgpack of its encoder, and the
// fields of stream entries (JSON data, base64 msgpack data with binary).
func TestWireOfficial(t *testing.T) {
	names := []string{"/", "/admin", "/notifications", "/a-very-long-namespace-name-to-overflow-the-hash-many-times", "/ünï", "/😀emoji"}
	values := []string{
		`{"a":[1,-1,300,-300,70000,-70000,4294967296,-4294967297,1.5,-0.25,9007199254740993,-9007199254740993,{"$bin":"0102"}],"s":"x"}`,
		`{"long":"` + strings.Repeat("é", 40) + `","n":null,"t":true,"f":false,"arr":[` + strings.Repeat("0,", 20) + `0]}`,
		`{"sid":"abc","pid":"def","rooms":["abc","r"],"data":{"k":"v"}}`,
	}
	messages := []string{
		`{"type":3,"data":{"packet":{"type":2,"data":["ev",1,"two",{"x":[null]}]},"opts":{"rooms":["r"],"except":["e"],"flags":{}}},"uid":"0123456789abcdef","nsp":"/"}`,
		`{"type":3,"data":{"packet":{"type":2,"data":["ev",{"$bin":"ff00"},{"n":{"$bin":""}}]},"opts":{"rooms":[],"except":[],"flags":{"volatile":true}}},"uid":"0123456789abcdef","nsp":"/x"}`,
		`{"type":4,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"rooms":["a","b"]},"uid":"u","nsp":"/"}`,
		`{"type":5,"data":{"opts":{"rooms":[],"except":["z"],"flags":{"local":false}},"rooms":["a"]},"uid":"u","nsp":"/"}`,
		`{"type":6,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"close":true},"uid":"u","nsp":"/"}`,
	}
	var cmds []map[string]any
	for _, n := range names {
		cmds = append(cmds, map[string]any{"op": "hash", "s": n})
	}
	for _, v := range values {
		cmds = append(cmds, map[string]any{"op": "msgpack", "value": json.RawMessage(v)})
	}
	for _, m := range messages {
		cmds = append(cmds, map[string]any{"op": "entry", "message": json.RawMessage(m)})
	}
	res := official(t, cmds)
	i := 0
	for _, n := range names {
		var h int32
		if err := json.Unmarshal(res[i]["hash"], &h); err != nil {
			t.Fatal(err)
		}
		if got := hashCode(n); got != h {
			t.Errorf("hashCode(%q) = %d, official %d", n, got, h)
		}
		i++
	}
	for _, v := range values {
		var b64 string
		_ = json.Unmarshal(res[i]["b64"], &b64)
		if got := base64.StdEncoding.EncodeToString(encodeMsgpack(parse(t, v))); got != b64 {
			t.Errorf("msgpack of %s:\n got %s\nwant %s", v, got, b64)
		}
		i++
	}
	for _, s := range messages {
		m, err := cluster.DecodeMessage(parse(t, s))
		if err != nil {
			t.Fatal(err)
		}
		f := entryFields(m, false)
		got := map[string]string{}
		var keys []string
		for k := 0; k+1 < len(f); k += 2 {
			got[f[k].(string)] = f[k+1].(string)
			keys = append(keys, f[k].(string))
		}
		var want map[string]string
		_ = json.Unmarshal(res[i]["fields"], &want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if !bytes.Equal(gb, wb) || strings.Join(keys, ",") != "uid,nsp,type,data" {
			t.Errorf("entry of %s:\n got %s (%v)\nwant %s", s, gb, keys, wb)
		}
		// And back.
		vals := map[string]any{}
		for k, v := range got {
			vals[k] = v
		}
		back, err := decodeEntry(vals)
		if err != nil {
			t.Fatalf("decodeEntry(%s): %v", gb, err)
		}
		if a, b := jsval.StringifyJSON(back.Value()), jsval.StringifyJSON(m.Value()); !bytes.Equal(a, b) {
			t.Errorf("entry of %s read back as %s", s, a)
		}
		i++
	}
}

func TestStreamName(t *testing.T) {
	o := Options{}
	o.defaults()
	if got := streamName("/x", &o); got != "socket.io" {
		t.Errorf("one stream: %s", got)
	}
	o.StreamCount = 3
	// hashCode("/") = 47 → 47 % 3 = 2; a negative hash gives a negative
	// index, as JavaScript's %.
	if got := streamName("/", &o); got != "socket.io-2" {
		t.Errorf("streamName(/) = %s", got)
	}
	// hashCode("/notifications") = -1014064871, and -1014064871 % 3 = -2
	// in JavaScript.
	if got := streamName("/notifications", &o); got != "socket.io--2" {
		t.Errorf("streamName(/notifications) = %s, want socket.io--2 as upstream", got)
	}
}

func TestOffsets(t *testing.T) {
	for s, ok := range map[string]bool{"1-0": true, "1700000000000-12": true, "": false, "1": false, "-1": false, "1-": false, "a-1": false, "1-1-1": false, "1 -1": false} {
		if validOffset(s) != ok {
			t.Errorf("validOffset(%q) = %v", s, !ok)
		}
	}
	if got := nextOffset("12-9"); got != "12-10" {
		t.Errorf("nextOffset = %s", got)
	}
	if compareIDs("2-0", "10-0") >= 0 || compareIDs("5-10", "5-9") <= 0 || compareIDs("5-5", "5-5") != 0 {
		t.Error("compareIDs orders ids as text")
	}
}

func TestIncludes(t *testing.T) {
	rooms := []server.Room{"sid", "r1"}
	for _, c := range []struct {
		rooms, except []string
		want          bool
	}{
		{nil, nil, true},
		{[]string{"r1"}, nil, true},
		{[]string{"sid"}, nil, true},
		{[]string{"r2"}, nil, false},
		{nil, []string{"r1"}, false},
		{[]string{"r1"}, []string{"sid"}, false},
		{[]string{"r2", "r1"}, []string{"r3"}, true},
	} {
		if got := includes(rooms, &server.BroadcastOptions{Rooms: c.rooms, Except: c.except}); got != c.want {
			t.Errorf("includes(%v, to %v except %v) = %v", rooms, c.rooms, c.except, got)
		}
	}
}

func TestSessionRoundTrip(t *testing.T) {
	v := jsval.NewObject("sid", "s", "pid", "p", "rooms", []any{"s", "r"}, "data", jsval.NewObject("k", []byte{1}))
	sess, err := decodeSession(base64.StdEncoding.EncodeToString(encodeMsgpack(v)))
	if err != nil {
		t.Fatal(err)
	}
	if sess.SID != "s" || sess.PID != "p" || strings.Join(sess.Rooms, ",") != "s,r" {
		t.Errorf("session %+v", sess)
	}
	if d, ok := sess.Data.(map[string]any); !ok || !bytes.Equal(d["k"].([]byte), []byte{1}) {
		t.Errorf("session data %#v", sess.Data)
	}
	for _, bad := range []string{"!!", base64.StdEncoding.EncodeToString([]byte{0x91, 0x01}), base64.StdEncoding.EncodeToString(encodeMsgpack(jsval.NewObject("pid", "p")))} {
		if _, err := decodeSession(bad); err == nil {
			t.Errorf("decodeSession(%q) accepted it", bad)
		}
	}
}
