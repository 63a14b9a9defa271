package jsval

import "testing"

var benchData = []byte(`["chat",{"user":"alice","text":"hello there, how are you doing today?","ts":1733400000000,"tags":["a","b"]}]`)

// BenchmarkEncodeBroadcast is what a Go node does per published broadcast:
// the packet's JSON to a value, the value to msgpack.
func BenchmarkEncodeBroadcast(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		v, err := FromPacketData(benchData, nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = EncodeMsgpack([]any{"abcdef", NewObject("type", 2.0, "data", v, "nsp", "/"), NewObject("rooms", []any{}, "except", []any{}, "flags", &Object{})})
	}
}

// BenchmarkDecodeBroadcast is what a Go node does per received broadcast:
// msgpack to a value, the value to the packet's JSON.
func BenchmarkDecodeBroadcast(b *testing.B) {
	v, _ := FromPacketData(benchData, nil)
	msg := EncodeMsgpack([]any{"abcdef", NewObject("type", 2.0, "data", v, "nsp", "/"), NewObject("rooms", []any{}, "except", []any{}, "flags", &Object{})})
	b.ReportAllocs()
	for b.Loop() {
		x, err := DecodeMsgpack(msg)
		if err != nil {
			b.Fatal(err)
		}
		d, _ := Field(x.([]any)[1], "data")
		_, _ = ToPacketData(d)
	}
}
