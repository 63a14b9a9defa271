package eio

import (
	"bytes"
	"testing"
)

var (
	benchText    = Packet{Type: Message, Data: []byte(`42["chat","hello world, how are you?!!"]`)} // 40 bytes of data
	benchPayload = []Packet{
		{Type: Message, Data: []byte(`42["chat","hello"]`)},
		{Type: Ping},
		{Type: Message, Data: []byte(`42["chat","world"]`)},
	}
	benchBinary = Packet{Type: Message, Data: bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 64<<10/4), Binary: true}
)

func BenchmarkAppendFrame(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	b.SetBytes(int64(1 + len(benchText.Data)))
	for b.Loop() {
		buf = AppendFrame(buf[:0], benchText)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	in := AppendFrame(nil, benchText)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := DecodeFrame(in, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendPayload(nil, benchPayload...))))
	for b.Loop() {
		buf = AppendPayload(buf[:0], benchPayload...)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	in := AppendPayload(nil, benchPayload...)
	dst := make([]Packet, 0, 4)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		var err error
		if dst, err = DecodePayload(dst[:0], in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPayloadBinary64K(b *testing.B) {
	buf := make([]byte, 0, 100<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBinary.Data)))
	for b.Loop() {
		buf = AppendPayload(buf[:0], benchBinary)
	}
}

func BenchmarkDecodePayloadBinary64K(b *testing.B) {
	in := AppendPayload(nil, benchBinary)
	dst := make([]Packet, 0, 4)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBinary.Data)))
	for b.Loop() {
		var err error
		if dst, err = DecodePayload(dst[:0], in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
