package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecoderErrors(t *testing.T) {
	cases := []struct {
		wire string
		err  error
	}{
		// Type.
		{``, ErrUnknownType},
		{`7`, ErrUnknownType},
		{`999`, ErrUnknownType},
		{`a["x"]`, ErrUnknownType},
		{` 2["x"]`, ErrUnknownType},

		// Namespace.
		{`2chat,["a"]`, ErrInvalidNamespace},
		{`0admin,`, ErrInvalidNamespace},
		{`51-chat,["a",{"_placeholder":true,"num":0}]`, ErrInvalidNamespace},

		// Ack id.
		{`2/admin,18446744073709551616["a"]`, ErrInvalidID},
		{`299999999999999999999["a"]`, ErrInvalidID},
		{`3["a"]`, ErrInvalidID},
		{`3/admin,[]`, ErrInvalidID},
		{`61-[{"_placeholder":true,"num":0}]`, ErrInvalidID},
		{`01{}`, ErrInvalidID},
		{`1/admin,1`, ErrInvalidID},
		{`442["some","data"`, ErrInvalidID}, // CONNECT_ERROR with id 42

		// Payload, including the cases of the official test suite.
		{`2["some","data"`, ErrInvalidPayload},
		{`0/admin,"invalid"`, ErrInvalidPayload},
		{`0[]`, ErrInvalidPayload},
		{`0/admin,null`, ErrInvalidPayload},
		{`0{`, ErrInvalidPayload},
		{`1/admin,{}`, ErrInvalidPayload},
		{`1{}`, ErrInvalidPayload},
		{`2/admin,"invalid`, ErrInvalidPayload},
		{`2/admin,{}`, ErrInvalidPayload},
		{`2[{"toString":"foo"}]`, ErrInvalidPayload},
		{`2[true,"foo"]`, ErrInvalidPayload},
		{`2[null,"bar"]`, ErrInvalidPayload},
		{`2[1,"a"]`, ErrInvalidPayload},
		{`2[]`, ErrInvalidPayload},
		{`2[ ]`, ErrInvalidPayload},
		{`2`, ErrInvalidPayload},
		{`2/admin`, ErrInvalidPayload},
		{`2/admin,`, ErrInvalidPayload},
		{`2"a"`, ErrInvalidPayload},
		{`2["a"]x`, ErrInvalidPayload},
		{`2["a\x"]`, ErrInvalidPayload},
		{`31`, ErrInvalidPayload},
		{`31{}`, ErrInvalidPayload},
		{`31"a"`, ErrInvalidPayload},
		{`4`, ErrInvalidPayload},
		{`4/admin,`, ErrInvalidPayload},
		{`4[]`, ErrInvalidPayload},
		{`4null`, ErrInvalidPayload},
		{`51-`, ErrInvalidPayload},
		{`51-{}`, ErrInvalidPayload},
		{`61-1`, ErrInvalidPayload},

		// Reserved event names, also when escaped.
		{`2["connect"]`, ErrReservedEvent},
		{`2["connect_error"]`, ErrReservedEvent},
		{`2["disconnect","123"]`, ErrReservedEvent},
		{`2["disconnecting"]`, ErrReservedEvent},
		{`2["newListener"]`, ErrReservedEvent},
		{`2/admin,1["removeListener"]`, ErrReservedEvent},
		{`2["conn\u0065ct"]`, ErrReservedEvent},
		{`51-["newListener",{"_placeholder":true,"num":0}]`, ErrReservedEvent},

		// Attachment count, including the cases of the official test suite.
		{`5`, ErrInvalidAttachments},
		{`51`, ErrInvalidAttachments},
		{`50-`, ErrInvalidAttachments},
		{`50-["a"]`, ErrInvalidAttachments},
		{`5a-`, ErrInvalidAttachments},
		{`51.23-`, ErrInvalidAttachments},
		{`5-["a"]`, ErrInvalidAttachments},
		{`5 1-["a"]`, ErrInvalidAttachments},
		{`6/admin,1[]`, ErrInvalidAttachments},
		{`511-["a"]`, ErrTooManyAttachments},
		{`599999999999999999999999999-["a"]`, ErrTooManyAttachments},

		// Placeholders.
		{`51-["a",{"_placeholder":true,"num":1}]`, ErrInvalidAttachments},
		{`51-["a",{"_placeholder":true,"num":-1}]`, ErrInvalidAttachments},
		{`52-["a",{"_placeholder":true,"num":0.5}]`, ErrInvalidAttachments},
		{`51-["a",{"_placeholder":true,"num":"0"}]`, ErrInvalidAttachments},
		{`51-["a",{"_placeholder":true,"num":null}]`, ErrInvalidAttachments},
		{`51-["a",{"_placeholder":true}]`, ErrInvalidAttachments},
		{`51-["a",{"_placeholder":true,"num":1e400}]`, ErrInvalidAttachments},
		{`52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`, ErrInvalidAttachments},
		{`51-["a",{"\u005fplaceholder":true,"num":3}]`, ErrInvalidAttachments},
		{`51-["a",[[{"x":{"_placeholder":true,"num":9}}]]]`, ErrInvalidAttachments},
		{`61-1[{"num":0,"_placeholder":true,"x":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":0}]`, ErrInvalidAttachments},
	}
	for _, tc := range cases {
		t.Run(tc.wire, func(t *testing.T) {
			var d Decoder
			p, err := d.Text([]byte(tc.wire))
			assert.Nil(t, p)
			require.ErrorIs(t, err, tc.err)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.err, de.Err)
			assert.Contains(t, err.Error(), tc.err.Error())
			assert.False(t, d.Pending())
		})
	}
}

func TestDecoderAccepts(t *testing.T) {
	cases := []struct {
		wire string
		want Packet
	}{
		// The namespace runs to the first comma or the end of the frame.
		{`0/admin`, Packet{Type: Connect, Namespace: "/admin"}},
		{`0/`, Packet{Type: Connect, Namespace: "/"}},
		{`0/,`, Packet{Type: Connect, Namespace: "/"}},
		{`1/a{}`, Packet{Type: Disconnect, Namespace: "/a{}"}},
		// Whitespace is part of the JSON payload.
		{`2 ["a"] `, Packet{Type: Event, Namespace: "/", Data: []byte(` ["a"] `)}},
		{`31 [ ]`, Packet{Type: Ack, Namespace: "/", ID: 1, HasID: true, Data: []byte(` [ ]`)}},
		{`2007["a"]`, Packet{Type: Event, Namespace: "/", ID: 7, HasID: true, Data: []byte(`["a"]`)}},
		{`218446744073709551615["a"]`, Packet{Type: Event, Namespace: "/", ID: 1<<64 - 1, HasID: true, Data: []byte(`["a"]`)}},
		{`2["connected"]`, Packet{Type: Event, Namespace: "/", Data: []byte(`["connected"]`)}},
		{`2[""]`, Packet{Type: Event, Namespace: "/", Data: []byte(`[""]`)}},
		{`4/admin,{"message":"no","data":{"a":1}}`, Packet{Type: ConnectError, Namespace: "/admin", Data: []byte(`{"message":"no","data":{"a":1}}`)}},
		// Placeholder-looking objects are plain objects without attachments.
		{`2["a",{"_placeholder":true,"num":5}]`, Packet{Type: Event, Namespace: "/", Data: []byte(`["a",{"_placeholder":true,"num":5}]`)}},
		{`30[{"_placeholder":true,"num":"x"}]`, Packet{Type: Ack, Namespace: "/", ID: 0, HasID: true, Data: []byte(`[{"_placeholder":true,"num":"x"}]`)}},
	}
	for _, tc := range cases {
		t.Run(tc.wire, func(t *testing.T) {
			var d Decoder
			p, err := d.Text([]byte(tc.wire))
			require.NoError(t, err)
			require.NotNil(t, p)
			assert.Equal(t, tc.want, *p)
		})
	}
}

func TestDecoderBinaryAccepts(t *testing.T) {
	cases := []struct {
		wire string
		n    int
	}{
		// Unused attachments and placeholder variants accepted by the
		// official parser.
		{`52-["a",{"_placeholder":true,"num":1}]`, 2},
		{`51-["a"]`, 1},
		{`51-["a",{"_placeholder":true,"num":0.0}]`, 1},
		{`51-["a",{"_placeholder":true,"num":-0}]`, 1},
		{`52-["a",{"_placeholder":true,"num":1e0}]`, 2},
		{`51-["a",{"num":0,"_placeholder":true,"extra":[1]}]`, 1},
		{`51-["a",{"_placeholder":false,"num":7},{"_placeholder":true,"num":0}]`, 1},
		{`51-["a",{"_placeholder":true,"_placeholder":false,"num":7}]`, 1},
		{`51-["a",{"\u005fplaceholder":true,"num":0}]`, 1},
		{`510-["a"]`, 10},
		{`5001-["a"]`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.wire, func(t *testing.T) {
			var d Decoder
			p, err := d.Text([]byte(tc.wire))
			require.NoError(t, err)
			for i := range tc.n {
				require.Nil(t, p)
				p, err = d.Binary([]byte{byte(i)})
				require.NoError(t, err)
			}
			require.NotNil(t, p)
			assert.Len(t, p.Attachments, tc.n)
			assert.Equal(t, BinaryEvent, p.Type)
		})
	}
}

func TestDecoderMaxAttachments(t *testing.T) {
	d := Decoder{MaxAttachments: 2}
	_, err := d.Text([]byte(`53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`))
	require.ErrorIs(t, err, ErrTooManyAttachments)

	p, err := d.Text([]byte(`52-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`))
	require.NoError(t, err)
	assert.Nil(t, p)
	assert.True(t, d.Pending())

	d = Decoder{MaxAttachments: 20}
	p, err = d.Text([]byte(`520-["a"]`))
	require.NoError(t, err)
	assert.Nil(t, p)
	assert.True(t, d.Pending())
}

func TestDecoderManyAttachments(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`570-["a"`)
	for i := range 70 {
		fmt.Fprintf(&sb, `,{"_placeholder":true,"num":%d}`, 69-i)
	}
	sb.WriteString(`]`)
	d := Decoder{MaxAttachments: 100}
	p, err := d.Text([]byte(sb.String()))
	require.NoError(t, err)
	for i := range 70 {
		require.Nil(t, p)
		p, err = d.Binary([]byte{byte(i)})
		require.NoError(t, err)
	}
	require.NotNil(t, p)
	_, args, err := p.Event()
	require.NoError(t, err)
	require.Len(t, args, 70)
	var b []byte
	require.NoError(t, args[0].Decode(&b))
	assert.Equal(t, []byte{69}, b)

	_, err = d.Text([]byte(`570-["a",{"_placeholder":true,"num":69},{"_placeholder":true,"num":69}]`))
	require.ErrorIs(t, err, ErrInvalidAttachments)
}

func TestDecoderSequence(t *testing.T) {
	var d Decoder

	// Binary frame with nothing pending.
	_, err := d.Binary([]byte{1})
	require.ErrorIs(t, err, ErrUnexpectedBinary)

	// A text frame while attachments are pending is an error and resets
	// the decoder.
	p, err := d.Text([]byte(`52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`))
	require.NoError(t, err)
	require.Nil(t, p)
	p, err = d.Binary([]byte{1})
	require.NoError(t, err)
	require.Nil(t, p)
	_, err = d.Text([]byte(`2["b"]`))
	require.ErrorIs(t, err, ErrUnexpectedText)
	assert.False(t, d.Pending())
	_, err = d.Binary([]byte{2})
	require.ErrorIs(t, err, ErrUnexpectedBinary)

	// Decoding resumes after the error.
	p, err = d.Text([]byte(`2["b"]`))
	require.NoError(t, err)
	assert.Equal(t, `["b"]`, string(p.Data))

	// Reset drops a pending packet, like destroy() in the official parser.
	_, err = d.Text([]byte(`51-["hello"]`))
	require.NoError(t, err)
	require.True(t, d.Pending())
	d.Reset()
	assert.False(t, d.Pending())
	p, err = d.Text([]byte(`2["hello"]`))
	require.NoError(t, err)
	name, _, err := p.Event()
	require.NoError(t, err)
	assert.Equal(t, "hello", name)

	// Consecutive binary packets.
	for i := range 3 {
		p, err = d.Text([]byte(`61-9[{"_placeholder":true,"num":0}]`))
		require.NoError(t, err)
		require.Nil(t, p)
		p, err = d.Binary([]byte{byte(i)})
		require.NoError(t, err)
		require.NotNil(t, p)
		assert.Equal(t, [][]byte{{byte(i)}}, p.Attachments)
	}
}

func TestDecoderKeepsAttachments(t *testing.T) {
	var d Decoder
	att := []byte{1, 2, 3}
	_, err := d.Text([]byte(`51-["a",{"_placeholder":true,"num":0}]`))
	require.NoError(t, err)
	p, err := d.Binary(att)
	require.NoError(t, err)
	att[0] = 9 // the attachment is kept as given
	assert.Equal(t, []byte{9, 2, 3}, p.Attachments[0])
}

func TestDecodeErrorMessage(t *testing.T) {
	err := &DecodeError{Err: ErrInvalidPayload}
	assert.Equal(t, "socket.io parser: invalid payload", err.Error())
	err = &DecodeError{Err: ErrInvalidID, Detail: "missing ack id"}
	assert.Equal(t, "socket.io parser: invalid ack id: missing ack id", err.Error())
	assert.True(t, errors.Is(err, ErrInvalidID))
}

// TestDecoderReusePackets checks that with ReusePackets the packets without
// attachments share one Packet, and that a binary packet gets its own,
// which the next packets leave intact.
func TestDecoderReusePackets(t *testing.T) {
	d := Decoder{ReusePackets: true}
	p1, err := d.Text([]byte(`2["a",1]`))
	require.NoError(t, err)
	assert.Equal(t, `["a",1]`, string(p1.Data))

	p, err := d.Text([]byte(`51-/admin,7["b",{"_placeholder":true,"num":0}]`))
	require.NoError(t, err)
	assert.Nil(t, p)
	bin, err := d.Binary([]byte{1, 2})
	require.NoError(t, err)
	require.NotNil(t, bin)
	assert.NotSame(t, p1, bin)

	p2, err := d.Text([]byte(`3/admin,9[true]`))
	require.NoError(t, err)
	assert.Same(t, p1, p2, "packets without attachments share one Packet")
	assert.Equal(t, Packet{Type: Ack, Namespace: "/admin", ID: 9, HasID: true, Data: []byte(`[true]`)}, *p2)
	assert.Equal(t, Packet{Type: BinaryEvent, Namespace: "/admin", ID: 7, HasID: true,
		Data: []byte(`["b",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2}}}, *bin)

	var fresh Decoder
	q1, err := fresh.Text([]byte(`2["a"]`))
	require.NoError(t, err)
	q2, err := fresh.Text([]byte(`2["a"]`))
	require.NoError(t, err)
	assert.NotSame(t, q1, q2, "without ReusePackets every packet is new")
}
