package msgpack

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/parser"
)

// directData are payloads (JSON text) for the fast path's equivalence with
// the tree path: those it takes and those it leaves to the tree.
var directData = []string{
	`["echo","hello"]`,
	`["msg","hello",1,-1,1.5,-300,70000,4294967296,-4294967297,true,false,null,{"a":[1,2]}]`,
	` [ "spaces" , { "k" : "v" } ] `,
	`["esc\"aped\\ \n \u00e9 \ud83d\ude00 \u2028"]`,
	`["é", "日本語", "😀"]`,
	`[{"b":1,"a":2,"c":{"d":[]}}]`,
	`[{"2":"x","1":"y","a":"z"}]`,     // index keys: JavaScript reorders them
	`[{"a":1,"b":2,"a":3}]`,           // a repeated key
	`[{"a\"b":1}]`,                    // an escaped key
	`[{"_placeholder":true,"num":0}]`, // a placeholder without attachments
	`[1e400,-1e400,1e-400,-0,0.1,1e21,123456789012345678901234567890]`,
	`[9007199254740993,-9007199254740993,18446744073709551616]`,
	`["` + strings.Repeat("x", 40) + `","` + strings.Repeat("y", 300) + `","` + strings.Repeat("z", 70000) + `"]`,
	`[[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]]`,
	`[{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"ka":10,"kb":11,"kc":12,"kd":13,"ke":14,"kf":15,"kg":16}]`,
	strings.Repeat("[", 70) + strings.Repeat("]", 70),
	`"a string"`, `{"sid":"x"}`, `42`, `null`, `[]`, `{}`,
	`["bad" "json"]`, `[1,]`, `[01]`, `["unterminated`, `[tru]`, `["ctl` + "\x01" + `"]`,
	"[\"\xff invalid utf-8\"]",
}

// TestDirectEncodeMatchesTree: the fast encoder writes what the tree path
// writes, and takes the usual payloads.
func TestDirectEncodeMatchesTree(t *testing.T) {
	for _, d := range directData {
		want := appendDataTree([]byte("x"), []byte(d), nil)
		got := appendData([]byte("x"), []byte(d), nil)
		assert.Equal(t, want, got, "%.80s", d)
	}
	for _, d := range []string{`["echo","hello"]`, `[{"a":[1,2.5,null,true]},"é\n"]`, ` [ -0 ] `} {
		_, err := appendDataFast(nil, []byte(d))
		assert.NoError(t, err, "%s takes the fast path", d)
	}
}

// TestDirectDecodeMatchesTree: the fast decoder gives the packet (or the
// error) the tree path gives, for events and acks as the official encoder
// writes them and for what it leaves to the tree.
func TestDirectDecodeMatchesTree(t *testing.T) {
	var msgs [][]byte
	for _, d := range directData {
		for _, p := range []parser.Packet{
			{Type: parser.Event, Namespace: "/", Data: []byte(d)},
			{Type: parser.Event, Namespace: "/chat", ID: 70000, HasID: true, Data: []byte(d)},
			{Type: parser.Ack, Namespace: "/", ID: 3, HasID: true, Data: []byte(d)},
		} {
			msgs = append(msgs, appendPacket(nil, &p))
		}
	}
	for _, tc := range encodeCases {
		msgs = append(msgs, appendPacket(nil, &tc.packet))
	}
	for _, js := range []string{
		`{"type":2,"data":["connect"],"nsp":"/"}`,
		`{"type":2,"data":[],"nsp":"/"}`,
		`{"type":2,"data":[1],"nsp":"/"}`,
		`{"type":3,"data":["x"],"nsp":"/"}`,
		`{"type":2,"data":["x"],"nsp":"chat"}`,
		`{"type":2,"data":["x"],"id":-1,"nsp":"/"}`,
		`{"type":2,"data":["x"],"id":1.5,"nsp":"/"}`,
		`{"type":2,"data":{"a":1},"nsp":"/"}`,
		`{"type":2,"data":["x"],"nsp":"/","extra":1}`,
		`{"type":2,"data":["x"],"data":["y"],"nsp":"/"}`,
		`{"data":["x",{"b":1}],"nsp":"/","type":2}`,
		`{"type":2,"nsp":"/"}`,
	} {
		v, err := jsval.ParseJSON([]byte(js))
		require.NoError(t, err, js)
		msgs = append(msgs, jsval.EncodeMsgpack(v))
	}
	for _, msg := range msgs {
		checkDecodeSame(t, msg)
	}
	for i, d := range directData[:6] {
		_, err := decodeFast(msgs[3*i+2]) // as an ack: an event needs a name first
		assert.NoError(t, err, "%s takes the fast path", d)
	}
}

// checkDecodeSame fails unless Decode and the tree path agree on msg.
func checkDecodeSame(t *testing.T, msg []byte) {
	t.Helper()
	want, wantErr := decodeTree(msg)
	got, err := decoder{}.Decode(msg, true)
	if wantErr != nil {
		require.Error(t, err, "%x", msg)
		assert.Equal(t, wantErr.Error(), err.Error(), "%x", msg)
		return
	}
	require.NoError(t, err, "%x", msg)
	assert.Equal(t, want, got, "%x", msg)
}

func FuzzDirectEncode(f *testing.F) {
	for _, d := range directData {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := appendDataTree([]byte("x"), data, nil)
		got := appendData([]byte("x"), data, nil)
		if string(want) != string(got) {
			t.Fatalf("fast path %x, tree %x", got, want)
		}
	})
}

func FuzzDirectDecode(f *testing.F) {
	for _, d := range directData {
		f.Add(appendPacket(nil, &parser.Packet{Type: parser.Event, Namespace: "/", ID: 1, HasID: true, Data: []byte(d)}))
	}
	for _, tc := range encodeCases {
		f.Add(appendPacket(nil, &tc.packet))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		want, wantErr := decodeTree(msg)
		got, err := decoder{}.Decode(msg, true)
		if (wantErr == nil) != (err == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("fast path %v, tree %v", err, wantErr)
		}
		if err == nil {
			assert.Equal(t, want, got)
		}
	})
}
