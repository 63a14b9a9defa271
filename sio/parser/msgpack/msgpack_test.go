package msgpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio/parser"
)

// encodeCases are packets and their JavaScript form, as the official server
// and client build them (keys in this order), with {"$bin": hex} standing
// for a Buffer.
var encodeCases = []struct {
	name   string
	packet parser.Packet
	js     string
}{
	{"connect", parser.Packet{Type: parser.Connect, Namespace: "/", Data: []byte(`{"sid":"abc","pid":"p"}`)},
		`{"type":0,"data":{"sid":"abc","pid":"p"},"nsp":"/"}`},
	{"connect without data", parser.Packet{Type: parser.Connect, Namespace: "/admin"},
		`{"type":0,"nsp":"/admin"}`},
	{"disconnect", parser.Packet{Type: parser.Disconnect, Namespace: ""},
		`{"type":1,"nsp":"/"}`},
	{"event", parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["msg","hello",1,-1,1.5,-300,70000,4294967296,true,null,{"a":[1,2]}]`)},
		`{"type":2,"data":["msg","hello",1,-1,1.5,-300,70000,4294967296,true,null,{"a":[1,2]}],"nsp":"/"}`},
	{"event with ack id", parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 300, HasID: true, Data: []byte(`["q"]`)},
		`{"type":2,"data":["q"],"id":300,"nsp":"/chat"}`},
	{"binary event", parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: []byte(`["bin",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}]`), Attachments: [][]byte{{1, 2, 3}, make([]byte, 300)}},
		`{"type":2,"data":["bin",{"$bin":"010203"},{"k":{"$bin":"` + hex.EncodeToString(make([]byte, 300)) + `"}}],"nsp":"/"}`},
	{"ack", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 7, HasID: true, Data: []byte(`["ok"]`)},
		`{"type":3,"data":["ok"],"id":7,"nsp":"/"}`},
	{"binary ack", parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 1 << 40, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{}}},
		`{"type":3,"data":[{"$bin":""}],"id":1099511627776,"nsp":"/"}`},
	{"connect error", parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: []byte(`{"message":"Invalid namespace"}`)},
		`{"type":4,"data":{"message":"Invalid namespace"},"nsp":"/"}`},
	{"connect error string", parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: []byte(`"not authorized"`)},
		`{"type":4,"data":"not authorized","nsp":"/"}`},
	{"long strings and arrays", parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["` + long + `",[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]]`)},
		`{"type":2,"data":["` + long + `",[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]],"nsp":"/"}`},
}

// long is a str 16 on the wire.
var long = strings.Repeat("é", 200)

// TestEncodeDecode: every packet encodes to one binary message with no
// attachments, and decodes back to itself.
func TestEncodeDecode(t *testing.T) {
	p := New()
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			msg, bin, atts := p.Encode([]byte("prefix"), &tc.packet)
			require.True(t, bin)
			require.Nil(t, atts)
			require.Equal(t, "prefix", string(msg[:6]))
			got, err := p.NewDecoder(0, false).Decode(msg[6:], true)
			require.NoError(t, err)
			want := tc.packet
			if want.Namespace == "" {
				want.Namespace = "/"
			}
			assert.Equal(t, want, *got)
		})
	}
}

// TestDecodeErrors: what the official decoder rejects (checkPacket), and
// what the default parser rejects on top, is a *parser.DecodeError
// wrapping the sentinel.
func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name, hex string
		err       error
	}{
		{"text message", "", parser.ErrUnexpectedText},
		{"empty", "", parser.ErrInvalidPayload},
		{"truncated", "83a474797065", parser.ErrInvalidPayload},
		{"trailing bytes", "82a4747970650aa36e7370a12f00", parser.ErrInvalidPayload},
		{"not a map", "93010203", parser.ErrInvalidPayload},
		{"no type", "81a36e7370a12f", parser.ErrUnknownType},
		{"type 5", "82a474797065 05 a36e7370a12f", parser.ErrUnknownType},
		{"type 1.5", "82a474797065 cb3ff8000000000000 a36e7370a12f", parser.ErrUnknownType},
		{"type string", "82a474797065 a130 a36e7370a12f", parser.ErrUnknownType},
		{"no nsp", "81a47479706501", parser.ErrInvalidNamespace},
		{"nsp not a string", "82a47479706501a36e737001", parser.ErrInvalidNamespace},
		{"nsp without slash", "82a47479706501a36e7370a161", parser.ErrInvalidNamespace},
		{"connect with array", "83a47479706500a464617461 90 a36e7370a12f", parser.ErrInvalidPayload},
		{"connect with null", "83a47479706500a464617461 c0 a36e7370a12f", parser.ErrInvalidPayload},
		{"disconnect with data", "83a47479706501a464617461 80 a36e7370a12f", parser.ErrInvalidPayload},
		{"connect error without data", "82a47479706504a36e7370a12f", parser.ErrInvalidPayload},
		{"event without data", "82a47479706502a36e7370a12f", parser.ErrInvalidPayload},
		{"event with object", "83a47479706502a464617461 80 a36e7370a12f", parser.ErrInvalidPayload},
		{"event empty", "83a47479706502a464617461 90 a36e7370a12f", parser.ErrInvalidPayload},
		{"event name a number", "83a47479706502a464617461 9101 a36e7370a12f", parser.ErrInvalidPayload},
		{"reserved event", "83a47479706502a464617461 91a7636f6e6e656374 a36e7370a12f", parser.ErrReservedEvent},
		{"ack without id", "83a47479706503a464617461 90 a36e7370a12f", parser.ErrInvalidID},
		{"ack id a string", "84a47479706503a464617461 90 a26964a131 a36e7370a12f", parser.ErrInvalidID},
		{"ack id negative", "84a47479706503a464617461 90 a26964ff a36e7370a12f", parser.ErrInvalidID},
		{"ack id null", "84a47479706503a464617461 90 a26964c0 a36e7370a12f", parser.ErrInvalidID},
		{"ack id fraction", "84a47479706503a464617461 90 a26964cb3ff8000000000000 a36e7370a12f", parser.ErrInvalidID},
		{"id on connect", "83a47479706500a2696401a36e7370a12f", parser.ErrInvalidID},
		// ["e", {_placeholder: true, num: 0}, Buffer[1]]: binary data would
		// be ambiguous in the Packet form.
		{"placeholder look-alike with binary", "83a47479706502a464617461 93 a165 82ac5f706c616365686f6c646572c3a36e756d00 c40101 a36e7370a12f", parser.ErrInvalidAttachments},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := hex.DecodeString(stripSpaces(tc.hex))
			require.NoError(t, err)
			_, err = New().NewDecoder(0, false).Decode(b, tc.name != "text message")
			var de *parser.DecodeError
			require.ErrorAs(t, err, &de)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

// TestDecodeOfficialExtras: what the official client adds or may send is
// accepted: the "options" key of its events, an ack id of 0, ArrayBuffers
// (notepack's ext type 0) as binary data, undefined values (notepack 2's
// fixext) dropped from objects and null in arrays.
func TestDecodeOfficialExtras(t *testing.T) {
	// {type:2, data:["e", ArrayBuffer[1,2], {u: undefined, v: 1}, undefined], options:{compress:true}, id:0, nsp:"/"}
	b, err := hex.DecodeString(stripSpaces(`85 a474797065 02 a464617461 94 a165 c70200 0102 82 a175 d40000 a176 01 d40000
		a76f7074696f6e73 81 a8636f6d7072657373 c3 a26964 00 a36e7370 a12f`))
	require.NoError(t, err)
	p, err := New().NewDecoder(0, false).Decode(b, true)
	require.NoError(t, err)
	assert.Equal(t, parser.Packet{Type: parser.BinaryEvent, Namespace: "/", ID: 0, HasID: true,
		Data: []byte(`["e",{"_placeholder":true,"num":0},{"v":1},null]`), Attachments: [][]byte{{1, 2}}}, *p)
}

func stripSpaces(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		if c := s[i]; c != ' ' && c != '\n' && c != '\t' {
			out = append(out, c)
		}
	}
	return string(out)
}

// FuzzDecode checks that the decoder never panics, that every error is a
// *parser.DecodeError, and that a decoded packet encodes to a message that
// decodes to the same packet (but for huge integers, see below).
func FuzzDecode(f *testing.F) {
	p := New()
	for _, tc := range encodeCases {
		msg, _, _ := p.Encode(nil, &tc.packet)
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := p.NewDecoder(0, false).Decode(data, true)
		if err != nil {
			var de *parser.DecodeError
			require.True(t, errors.As(err, &de), "%v", err)
			return
		}
		msg, bin, atts := p.Encode(nil, got)
		require.True(t, bin)
		require.Nil(t, atts)
		again, err := p.NewDecoder(0, false).Decode(msg, true)
		require.NoError(t, err)
		if !bytes.Equal(got.Data, again.Data) {
			// Integers of 2⁶⁴ and beyond come back changed, as notepack's
			// arithmetic writes them (hi and lo words of ToUint32); once
			// written they are stable.
			msg, _, _ = p.Encode(nil, again)
			third, err := p.NewDecoder(0, false).Decode(msg, true)
			require.NoError(t, err)
			got = third
		}
		require.Equal(t, got, again)
	})
}
