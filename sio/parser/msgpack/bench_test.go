package msgpack

import (
	"testing"

	"github.com/gosio/socketio/sio/parser"
)

// benchEvent is a usual event: a name, a 100-byte string and an ack id.
var benchEvent = parser.Packet{Type: parser.Event, Namespace: "/", ID: 12, HasID: true,
	Data: []byte(`["echo","0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123",{"at":1733443200000,"n":1.5}]`)}

// BenchmarkEncodeEvent compares the fast path with the value tree it
// replaces for the usual packets.
func BenchmarkEncodeEvent(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = appendPacket(buf[:0], &benchEvent)
		}
	})
	b.Run("tree", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = appendDataTree(buf[:0], benchEvent.Data, nil)
		}
	})
}

func BenchmarkDecodeEvent(b *testing.B) {
	msg := appendPacket(nil, &benchEvent)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := (decoder{}).Decode(msg, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tree", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeTree(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
