package jsval

import (
	"bytes"
	"testing"
)

// FuzzDecodeMsgpack: any input decodes or fails cleanly, and what decodes
// encodes to bytes that decode and encode again to the same bytes (not
// always at the first round: like notepack, the encoder loses integers
// beyond 64 bits).
func FuzzDecodeMsgpack(f *testing.F) {
	for _, seed := range [][]byte{
		EncodeMsgpack([]any{"uid", NewObject("type", 2.0, "data", []any{"ev", []byte{1}}), NewObject("rooms", []any{})}),
		{0xdd, 0xff, 0xff, 0xff, 0xff}, {0xc7, 0x0c, 0xff}, {0x81, 0xd4, 0x00, 0x00, 0x01}, {0xcb, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeMsgpack(b)
		if err != nil {
			return
		}
		_ = StringifyJSON(v)
		w, err := DecodeMsgpack(EncodeMsgpack(v))
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		e2 := EncodeMsgpack(w)
		x, err := DecodeMsgpack(e2)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if e3 := EncodeMsgpack(x); !bytes.Equal(e2, e3) {
			t.Fatalf("round trip changed %x into %x", e2, e3)
		}
	})
}

// FuzzParseJSON: any input parses or fails cleanly, and what parses
// stringifies to JSON that parses to the same text.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{`{"uid":"abc","type":6,"data":["ev",1,{"a":[true,null]}]}`, `{"2":1,"1":2}`, `"\ud800"`, `[1e999]`, `{"a":1,"a":2}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseJSON(b)
		if err != nil {
			return
		}
		j := StringifyJSON(v)
		w, err := ParseJSON(j)
		if err != nil {
			t.Fatalf("stringified %q does not parse: %v", j, err)
		}
		if !bytes.Equal(j, StringifyJSON(w)) {
			t.Fatalf("round trip changed %s", j)
		}
		data, atts := ToPacketData(v)
		if _, err := FromPacketData(data, atts); err != nil {
			t.Fatalf("packet data %q does not parse: %v", data, err)
		}
	})
}
