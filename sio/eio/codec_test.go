package eio

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func text(t PacketType, data string) Packet {
	p := Packet{Type: t}
	if data != "" {
		p.Data = []byte(data)
	}
	return p
}

func bin(data ...byte) Packet {
	p := Packet{Type: Message, Binary: true}
	if len(data) > 0 {
		p.Data = data
	}
	return p
}

const specHandshake = `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

// frameCases are the WebSocket examples of the Engine.IO v4 specification
// and its test suite, checked in both directions.
var frameCases = []struct {
	name   string
	wire   string
	binary bool
	pkt    Packet
}{
	{"open handshake", "0" + specHandshake, false, text(Open, specHandshake)},
	{"close", "1", false, text(Close, "")},
	{"ping", "2", false, text(Ping, "")},
	{"pong", "3", false, text(Pong, "")},
	{"ping probe", "2probe", false, text(Ping, "probe")},
	{"pong probe", "3probe", false, text(Pong, "probe")},
	{"message hello", "4hello", false, text(Message, "hello")},
	{"message HelloWorld", "4HelloWorld", false, text(Message, "HelloWorld")},
	{"message unicode", "4€", false, text(Message, "€")},
	{"empty message", "4", false, text(Message, "")},
	{"message starting with b", "4bAQIDBA==", false, text(Message, "bAQIDBA==")},
	{"upgrade", "5", false, text(Upgrade, "")},
	{"noop", "6", false, text(Noop, "")},
	{"binary message", "\x01\x02\x03\x04", true, bin(1, 2, 3, 4)},
	{"binary message 0-5", "\x00\x01\x02\x03\x04\x05", true, bin(0, 1, 2, 3, 4, 5)},
	{"empty binary message", "", true, bin()},
}

func TestFrameSpecExamples(t *testing.T) {
	for _, tc := range frameCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeFrame([]byte(tc.wire), tc.binary)
			require.NoError(t, err)
			assert.Equal(t, tc.pkt, got)
			assert.Equal(t, tc.wire, string(AppendFrame(nil, tc.pkt)))
		})
	}
}

func TestDecodeFrameBase64Text(t *testing.T) {
	// engine.io-parser decodes a "b"-prefixed text frame as a binary message.
	for wire, want := range map[string]Packet{
		"bAQIDBA==": bin(1, 2, 3, 4),
		"bAQIDBA":   bin(1, 2, 3, 4), // padding is optional
		"bAAECAwQF": bin(0, 1, 2, 3, 4, 5),
		"b":         bin(),
	} {
		got, err := DecodeFrame([]byte(wire), false)
		require.NoError(t, err, wire)
		assert.Equal(t, want, got, wire)
	}
}

// payloadCases are the long-polling examples of the Engine.IO v4
// specification and its test suite, checked in both directions.
var payloadCases = []struct {
	name string
	wire string
	pkts []Packet
}{
	{"single message", "4hello", []Packet{text(Message, "hello")}},
	{"handshake", "0" + specHandshake, []Packet{text(Open, specHandshake)}},
	{"ping", "2", []Packet{text(Ping, "")}},
	{"pong", "3", []Packet{text(Pong, "")}},
	{"close", "1", []Packet{text(Close, "")}},
	{"noop", "6", []Packet{text(Noop, "")}},
	{"spec text payload", "4hello\x1e2\x1e4world", []Packet{text(Message, "hello"), text(Ping, ""), text(Message, "world")}},
	{"spec binary payload", "4hello\x1ebAQIDBA==", []Packet{text(Message, "hello"), bin(1, 2, 3, 4)}},
	{"unicode and binary", "4hello\x1e4€\x1ebAQIDBA==", []Packet{text(Message, "hello"), text(Message, "€"), bin(1, 2, 3, 4)}},
	{"test suite text", "4test1\x1e4test2\x1e4test3", []Packet{text(Message, "test1"), text(Message, "test2"), text(Message, "test3")}},
	{"empty binary", "b\x1e4", []Packet{bin(), text(Message, "")}},
	{"binary 1 and 2 padding", "bAA==\x1ebAAE=\x1ebAAEC", []Packet{bin(0), bin(0, 1), bin(0, 1, 2)}},
}

func TestPayloadSpecExamples(t *testing.T) {
	for _, tc := range payloadCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodePayload(nil, []byte(tc.wire), Limits{})
			require.NoError(t, err)
			assert.Equal(t, tc.pkts, got)
			assert.Equal(t, tc.wire, string(AppendPayload(nil, tc.pkts...)))
		})
	}
}

func TestAppendPayloadEmpty(t *testing.T) {
	assert.Equal(t, []byte("x"), AppendPayload([]byte("x")))
}

func TestEncodeBinaryFlagWins(t *testing.T) {
	// A packet marked Binary is a binary message whatever its Type.
	p := Packet{Type: Ping, Data: []byte{1, 2, 3, 4}, Binary: true}
	assert.Equal(t, []byte{1, 2, 3, 4}, AppendFrame(nil, p))
	assert.Equal(t, "bAQIDBA==", string(AppendPayload(nil, p)))
}

func TestAppendKeepsPrefix(t *testing.T) {
	dst := []byte("prefix")
	assert.Equal(t, "prefix4hi", string(AppendFrame(dst, text(Message, "hi"))))
	assert.Equal(t, "prefix4hi\x1ebAQ==", string(AppendPayload(dst, text(Message, "hi"), bin(1))))
}

func TestDecodeAliasesInput(t *testing.T) {
	in := []byte("4hello\x1e2probe")
	pkts, err := DecodePayload(nil, in, Limits{})
	require.NoError(t, err)
	require.Len(t, pkts, 2)
	assert.Same(t, &in[1], &pkts[0].Data[0])
	assert.Same(t, &in[8], &pkts[1].Data[0])

	p, err := DecodeFrame(in[:6], false)
	require.NoError(t, err)
	assert.Same(t, &in[1], &p.Data[0])

	raw := []byte{1, 2, 3}
	p, err = DecodeFrame(raw, true)
	require.NoError(t, err)
	assert.Same(t, &raw[0], &p.Data[0])
}

func TestDecodePayloadBinaryDoesNotOverlap(t *testing.T) {
	pkts, err := DecodePayload(nil, []byte("bAQI=\x1ebAwQ="), Limits{})
	require.NoError(t, err)
	require.Len(t, pkts, 2)
	// Appending to one binary message must not clobber the next one.
	_ = append(pkts[0].Data, 0xff)
	assert.Equal(t, []byte{3, 4}, pkts[1].Data)
}

func TestDecodePayloadAppends(t *testing.T) {
	dst := []Packet{text(Noop, "")}
	got, err := DecodePayload(dst, []byte("4a\x1e4b"), Limits{})
	require.NoError(t, err)
	assert.Equal(t, []Packet{text(Noop, ""), text(Message, "a"), text(Message, "b")}, got)
}

func TestDecodeFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire string
		off  int
	}{
		{"empty", "", 0},
		{"unknown type letter", "abc", 0},
		{"unknown type digit", "7", 0},
		{"type below range", "/", 0},
		{"separator as type", "\x1e4", 0},
		{"bad base64 char", "bAQ*DBA==", 3},
		{"bad base64 length", "bAQIDB", 5},
		{"bad base64 padding", "bAQIDBA=", 7},
		{"line break in base64", "bAQID\nBA==", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeFrame([]byte(tc.wire), false)
			require.ErrorIs(t, err, ErrInvalidPacket)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.off, de.Offset)
		})
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire string
		lim  Limits
		want error
		off  int
	}{
		{"empty payload", "", Limits{}, ErrInvalidPacket, 0},
		{"empty packet first", "\x1e4a", Limits{}, ErrInvalidPacket, 0},
		{"empty packet middle", "4a\x1e\x1e4b", Limits{}, ErrInvalidPacket, 3},
		{"trailing separator", "4a\x1e", Limits{}, ErrInvalidPacket, 3},
		{"unknown type", "4a\x1eabc", Limits{}, ErrInvalidPacket, 3},
		{"invalid base64", "4a\x1ebAQ*D", Limits{}, ErrInvalidPacket, 6},
		{"invalid base64 after valid", "bAQ==\x1eb!", Limits{}, ErrInvalidPacket, 7},
		{"too large", "4hello", Limits{MaxBytes: 5}, ErrPayloadTooLarge, 5},
		{"too many", "4a\x1e4b\x1e4c", Limits{MaxPackets: 2}, ErrTooManyPackets, 6},
		{"too many single limit", "4a\x1e4b", Limits{MaxPackets: 1}, ErrTooManyPackets, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []Packet{text(Noop, "")}
			got, err := DecodePayload(dst, []byte(tc.wire), tc.lim)
			require.ErrorIs(t, err, tc.want)
			for _, other := range []error{ErrInvalidPacket, ErrPayloadTooLarge, ErrTooManyPackets} {
				if other != tc.want {
					assert.NotErrorIs(t, err, other)
				}
			}
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.off, de.Offset)
			assert.Contains(t, de.Error(), "eio: ")
			assert.Equal(t, []Packet{text(Noop, "")}, got, "no packet appended on error")
		})
	}
}

func TestDecodePayloadLimitsBoundary(t *testing.T) {
	in := []byte("4a\x1e4b\x1e4c")
	got, err := DecodePayload(nil, in, Limits{MaxPackets: 3, MaxBytes: len(in)})
	require.NoError(t, err)
	assert.Len(t, got, 3)
}

func TestDecodePayloadHugeCountRejectedCheaply(t *testing.T) {
	in := bytes.Repeat([]byte("6\x1e"), 1<<20)
	in = append(in, '6')
	var err error
	allocs := testing.AllocsPerRun(10, func() {
		_, err = DecodePayload(nil, in, Limits{MaxPackets: 100})
	})
	require.ErrorIs(t, err, ErrTooManyPackets)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 200, de.Offset)
	assert.LessOrEqual(t, allocs, 5.0, "only the error may be allocated")
}

// genPacket returns a random packet; text data never holds the record
// separator so that the packet fits in a payload.
func genPacket(r *rand.Rand) Packet {
	if r.IntN(3) == 0 {
		data := make([]byte, r.IntN(70))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		return bin(data...)
	}
	alphabet := []string{"a", "Z", "0", "b", " ", "\"", "\\", "\n", "\x00", "é", "€", "😀", "日本", "{", "}", "\x1f", "\x7f"}
	var sb strings.Builder
	for range r.IntN(20) {
		sb.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return text(PacketType(r.IntN(numTypes)), sb.String())
}

func TestRoundTripGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	var dec []Packet
	for range 2000 {
		pkts := make([]Packet, 1+r.IntN(6))
		for i := range pkts {
			pkts[i] = genPacket(r)
		}

		buf = AppendPayload(buf[:0], pkts...)
		var err error
		dec, err = DecodePayload(dec[:0], buf, Limits{MaxPackets: len(pkts), MaxBytes: len(buf)})
		require.NoError(t, err, "%q", buf)
		require.Equal(t, pkts, dec)

		for _, p := range pkts {
			frame := AppendFrame(nil, p)
			got, err := DecodeFrame(frame, p.Binary)
			require.NoError(t, err, "%q", frame)
			require.Equal(t, p, got)
		}
	}
}

func TestEncodeNoAllocs(t *testing.T) {
	pkts := []Packet{text(Message, "hello"), text(Ping, ""), bin(bytes.Repeat([]byte{7}, 100)...)}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendPayload(buf[:0], pkts...)
		for _, p := range pkts {
			buf = AppendFrame(buf[:0], p)
		}
	})
	assert.Zero(t, allocs)

	var hs []byte
	h := Handshake{SID: "abc", Upgrades: []string{"websocket"}, PingInterval: 1, PingTimeout: 2, MaxPayload: 3}
	hs = h.AppendJSON(make([]byte, 0, 256))
	allocs = testing.AllocsPerRun(100, func() {
		hs = h.AppendJSON(hs[:0])
		hs = CodeUnknownSID.AppendJSON(hs[:0], "")
	})
	assert.Zero(t, allocs)
}

func TestDecodeTextNoAllocs(t *testing.T) {
	in := []byte("4hello\x1e2\x1e4world")
	dst := make([]Packet, 0, 8)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		dst, err = DecodePayload(dst[:0], in, Limits{})
	})
	require.NoError(t, err)
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(100, func() {
		_, err = DecodeFrame(in[:6], false)
	})
	require.NoError(t, err)
	assert.Zero(t, allocs)
}

func TestPacketTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}
	for i, w := range want {
		assert.Equal(t, w, PacketType(i).String())
	}
	assert.Equal(t, "PacketType(9)", PacketType(9).String())
}

func TestDecodeErrorUnwrap(t *testing.T) {
	_, err := DecodeFrame([]byte("x"), false)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.True(t, errors.Is(de.Unwrap(), ErrInvalidPacket))
	assert.Equal(t, `eio: invalid packet: unknown packet type 'x' at offset 0`, err.Error())
}
