package parser

import (
	"bytes"
	"testing"
)

type chatMsg struct {
	User string `json:"user"`
	Text string `json:"text"`
}

const chatWire = `2["chat",{"user":"ann","text":"hello"}]`

// benchEncode measures AppendEvent then AppendPacket into reused buffers.
func benchEncode(b *testing.B, arg any, want string) {
	b.ReportAllocs()
	var data, frame []byte
	for b.Loop() {
		var err error
		data, _, err = AppendEvent(data[:0], "chat", []any{arg})
		if err != nil {
			b.Fatal(err)
		}
		frame = AppendPacket(frame[:0], &Packet{Type: Event, Data: data})
	}
	if string(frame) != want {
		b.Fatalf("got %s", frame)
	}
}

func BenchmarkEncodeEventMap(b *testing.B) {
	benchEncode(b, map[string]any{"user": "ann", "text": "hello"}, `2["chat",{"text":"hello","user":"ann"}]`)
}

func BenchmarkEncodeEventStruct(b *testing.B) {
	benchEncode(b, chatMsg{User: "ann", Text: "hello"}, chatWire)
}

// benchDecode measures Text, Event and Decode of the argument.
func benchDecode(b *testing.B, decode func(Value) error) {
	b.ReportAllocs()
	frame := []byte(chatWire)
	var d Decoder
	for b.Loop() {
		p, err := d.Text(frame)
		if err != nil {
			b.Fatal(err)
		}
		_, args, err := p.Event()
		if err != nil {
			b.Fatal(err)
		}
		if err := decode(args[0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEventMap(b *testing.B) {
	benchDecode(b, func(v Value) error {
		var m map[string]any
		return v.Decode(&m)
	})
}

func BenchmarkDecodeEventStruct(b *testing.B) {
	benchDecode(b, func(v Value) error {
		var m chatMsg
		return v.Decode(&m)
	})
}

func BenchmarkEncodeAck(b *testing.B) {
	b.ReportAllocs()
	var data, frame []byte
	for b.Loop() {
		data, _, _ = AppendArgs(data[:0], []any{"ok"})
		frame = AppendPacket(frame[:0], &Packet{Type: Ack, ID: 1, HasID: true, Data: data})
	}
	if string(frame) != `31["ok"]` {
		b.Fatalf("got %s", frame)
	}
}

func BenchmarkDecodeAck(b *testing.B) {
	b.ReportAllocs()
	frame := []byte(`31["ok"]`)
	var d Decoder
	for b.Loop() {
		p, err := d.Text(frame)
		if err != nil {
			b.Fatal(err)
		}
		args, err := p.Args()
		if err != nil {
			b.Fatal(err)
		}
		var s string
		if err := args[0].Decode(&s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	b.ReportAllocs()
	p := &Packet{Type: Event, Namespace: "/chat", ID: 12, HasID: true, Data: []byte(`["chat",{"user":"ann","text":"hello"}]`)}
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = AppendPacket(buf[:0], p)
	}
}

var blob64K = bytes.Repeat([]byte{0xab}, 64<<10)

func BenchmarkEncodeBinary64K(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(blob64K)))
	var data, frame []byte
	for b.Loop() {
		var atts [][]byte
		data, atts, _ = AppendEvent(data[:0], "file", []any{"name.bin", blob64K})
		frame = AppendPacket(frame[:0], &Packet{Type: BinaryEvent, Data: data, Attachments: atts})
	}
	if string(frame) != `51-["file","name.bin",{"_placeholder":true,"num":0}]` {
		b.Fatalf("got %s", frame)
	}
}

// benchDecodeBinary measures Text, Binary, Event and Decode of the binary
// argument.
func benchDecodeBinary(b *testing.B, decode func(Value) error) {
	b.ReportAllocs()
	b.SetBytes(int64(len(blob64K)))
	frame := []byte(`51-["file",{"name":"name.bin","data":{"_placeholder":true,"num":0}}]`)
	var d Decoder
	for b.Loop() {
		if _, err := d.Text(frame); err != nil {
			b.Fatal(err)
		}
		p, err := d.Binary(blob64K)
		if err != nil {
			b.Fatal(err)
		}
		_, args, err := p.Event()
		if err != nil {
			b.Fatal(err)
		}
		if err := decode(args[0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinary64KAny(b *testing.B) {
	benchDecodeBinary(b, func(v Value) error {
		var x any
		return v.Decode(&x)
	})
}

func BenchmarkDecodeBinary64KStruct(b *testing.B) {
	type file struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	benchDecodeBinary(b, func(v Value) error {
		var f file
		if err := v.Decode(&f); err != nil {
			return err
		}
		if len(f.Data) != len(blob64K) {
			b.Fatal("short data")
		}
		return nil
	})
}
