package eio

import (
	"testing"
)

// dataLen returns the total length of the packets' data.
func dataLen(pkts []Packet) int {
	n := 0
	for _, p := range pkts {
		n += len(p.Data)
	}
	return n
}

func FuzzDecodePayload(f *testing.F) {
	for _, tc := range payloadCases {
		f.Add([]byte(tc.wire), 0)
	}
	f.Add([]byte("4a\x1e4b\x1e4c"), 2)
	f.Add([]byte("b\x1eb\x1eb"), 0)
	f.Add([]byte("bAQ*"), 0)
	f.Add([]byte(""), 0)
	f.Fuzz(func(t *testing.T, data []byte, maxPackets int) {
		in := append([]byte(nil), data...)
		pkts, err := DecodePayload(nil, in, Limits{MaxPackets: maxPackets % 8})
		if err != nil {
			if len(pkts) != 0 {
				t.Fatalf("packets appended on error: %v", pkts)
			}
			return
		}
		if len(pkts) == 0 {
			t.Fatal("successful decode without packets")
		}
		if n := dataLen(pkts); n > len(data) {
			t.Fatalf("decoded %d data bytes from %d input bytes", n, len(data))
		}
		if cap(pkts) > 2*len(data)+8 {
			t.Fatalf("packet slice capacity %d for %d input bytes", cap(pkts), len(data))
		}
		enc := AppendPayload(nil, pkts...)
		again, err := DecodePayload(nil, enc, Limits{MaxPackets: len(pkts), MaxBytes: len(enc)})
		if err != nil {
			t.Fatalf("re-encoded payload %q: %v", enc, err)
		}
		if !equalPackets(pkts, again) {
			t.Fatalf("round trip mismatch:\n%v\n%v", pkts, again)
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	for _, tc := range frameCases {
		f.Add([]byte(tc.wire), tc.binary)
	}
	f.Add([]byte("bAQIDBA=="), false)
	f.Add([]byte("bAQIDBA"), false)
	f.Add([]byte("abc"), false)
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		p, err := DecodeFrame(data, binary)
		if err != nil {
			return
		}
		if len(p.Data) > len(data) {
			t.Fatalf("decoded %d data bytes from %d input bytes", len(p.Data), len(data))
		}
		if p.Binary && p.Type != Message {
			t.Fatalf("binary packet of type %v", p.Type)
		}
		enc := AppendFrame(nil, p)
		again, err := DecodeFrame(enc, p.Binary)
		if err != nil {
			t.Fatalf("re-encoded frame %q: %v", enc, err)
		}
		if !equalPackets([]Packet{p}, []Packet{again}) {
			t.Fatalf("round trip mismatch: %v != %v", p, again)
		}
		if !binary && !p.Binary && string(enc) != string(data) {
			t.Fatalf("text frame not reproduced: %q != %q", enc, data)
		}
	})
}

func equalPackets(a, b []Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Binary != b[i].Binary || string(a[i].Data) != string(b[i].Data) ||
			(a[i].Data == nil) != (b[i].Data == nil) {
			return false
		}
	}
	return true
}
