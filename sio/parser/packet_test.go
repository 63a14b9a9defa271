package parser

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specCase is an example of the Socket.IO v5 specification: a packet, its
// text frame and, for events and acks, the arguments its payload encodes.
type specCase struct {
	wire   string
	packet Packet
	name   string // event name, for events
	args   []any  // arguments as AppendEvent/AppendArgs take them
	want   []any  // arguments as Value.Decode into *any yields them
}

func specCases() []specCase {
	b1234 := []byte{1, 2, 3, 4}
	return []specCase{
		{wire: `0`, packet: Packet{Type: Connect, Namespace: "/"}},
		{wire: `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`, packet: Packet{Type: Connect, Namespace: "/", Data: []byte(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}},
		{wire: `0/admin,`, packet: Packet{Type: Connect, Namespace: "/admin"}},
		{wire: `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, packet: Packet{Type: Connect, Namespace: "/admin", Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
		{wire: `0/admin,{"token":"123"}`, packet: Packet{Type: Connect, Namespace: "/admin", Data: []byte(`{"token":"123"}`)}},
		{wire: `4{"message":"Not authorized"}`, packet: Packet{Type: ConnectError, Namespace: "/", Data: []byte(`{"message":"Not authorized"}`)}},
		{wire: `4"Unauthorized"`, packet: Packet{Type: ConnectError, Namespace: "/", Data: []byte(`"Unauthorized"`)}},
		{wire: `1`, packet: Packet{Type: Disconnect, Namespace: "/"}},
		{wire: `1/admin,`, packet: Packet{Type: Disconnect, Namespace: "/admin"}},

		{wire: `2["foo"]`, packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["foo"]`)},
			name: "foo", args: []any{}, want: []any{}},
		{wire: `2/admin,["bar"]`, packet: Packet{Type: Event, Namespace: "/admin", Data: []byte(`["bar"]`)},
			name: "bar", args: []any{}, want: []any{}},
		{wire: `2["hello",1]`, packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["hello",1]`)},
			name: "hello", args: []any{1}, want: []any{1.0}},
		{wire: `2["hey","Jude"]`, packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["hey","Jude"]`)},
			name: "hey", args: []any{"Jude"}, want: []any{"Jude"}},
		{wire: `2/admin,456["project:delete",123]`, packet: Packet{Type: Event, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`["project:delete",123]`)},
			name: "project:delete", args: []any{123}, want: []any{123.0}},
		{wire: `2/admin,1["tellme"]`, packet: Packet{Type: Event, Namespace: "/admin", ID: 1, HasID: true, Data: []byte(`["tellme"]`)},
			name: "tellme", args: []any{}, want: []any{}},
		{wire: `212["foo"]`, packet: Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: []byte(`["foo"]`)},
			name: "foo", args: []any{}, want: []any{}},
		{wire: `2/admin,13["foo"]`, packet: Packet{Type: Event, Namespace: "/admin", ID: 13, HasID: true, Data: []byte(`["foo"]`)},
			name: "foo", args: []any{}, want: []any{}},
		{wire: `215["foo"]`, packet: Packet{Type: Event, Namespace: "/", ID: 15, HasID: true, Data: []byte(`["foo"]`)},
			name: "foo", args: []any{}, want: []any{}},

		{wire: `312[]`, packet: Packet{Type: Ack, Namespace: "/", ID: 12, HasID: true, Data: []byte(`[]`)},
			args: []any{}, want: []any{}},
		{wire: `3/admin,13["bar"]`, packet: Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: []byte(`["bar"]`)},
			args: []any{"bar"}, want: []any{"bar"}},
		{wire: `3/admin,456[]`, packet: Packet{Type: Ack, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`[]`)},
			args: []any{}, want: []any{}},
		{wire: `314["bar"]`, packet: Packet{Type: Ack, Namespace: "/", ID: 14, HasID: true, Data: []byte(`["bar"]`)},
			args: []any{"bar"}, want: []any{"bar"}},

		{wire: `51-["baz",{"_placeholder":true,"num":0}]`,
			packet: Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["baz",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{b1234}},
			name:   "baz", args: []any{b1234}, want: []any{b1234}},
		{wire: `51-["hello",{"_placeholder":true,"num":0}]`,
			packet: Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["hello",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{0xff}}},
			name:   "hello", args: []any{[]byte{0xff}}, want: []any{[]byte{0xff}}},
		{wire: `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
			packet: Packet{Type: BinaryEvent, Namespace: "/admin", Data: []byte(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1, 2}, {3, 4}}},
			name:   "baz", args: []any{[]byte{1, 2}, []byte{3, 4}}, want: []any{[]byte{1, 2}, []byte{3, 4}}},
		{wire: `51-14["foo",{"_placeholder":true,"num":0}]`,
			packet: Packet{Type: BinaryEvent, Namespace: "/", ID: 14, HasID: true, Data: []byte(`["foo",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{b1234}},
			name:   "foo", args: []any{b1234}, want: []any{b1234}},
		{wire: `61-15["bar",{"_placeholder":true,"num":0}]`,
			packet: Packet{Type: BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: []byte(`["bar",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{b1234}},
			args:   []any{"bar", b1234}, want: []any{"bar", b1234}},
		{wire: `61-/admin,456[{"_placeholder":true,"num":0}]`,
			packet: Packet{Type: BinaryAck, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{b1234}},
			args:   []any{b1234}, want: []any{b1234}},
		{wire: `61-/admin,1[{"_placeholder":true,"num":0}]`,
			packet: Packet{Type: BinaryAck, Namespace: "/admin", ID: 1, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{}}},
			args:   []any{[]byte{}}, want: []any{[]byte{}}},
	}
}

func TestSpecEncode(t *testing.T) {
	for _, tc := range specCases() {
		t.Run(tc.wire, func(t *testing.T) {
			assert.Equal(t, tc.wire, string(AppendPacket(nil, &tc.packet)))

			// The same with the namespace left empty for "/".
			p := tc.packet
			if p.Namespace == "/" {
				p.Namespace = ""
				assert.Equal(t, tc.wire, string(AppendPacket(nil, &p)))
			}

			if tc.args == nil {
				return
			}
			var data []byte
			var atts [][]byte
			var err error
			if tc.packet.Type == Event || tc.packet.Type == BinaryEvent {
				data, atts, err = AppendEvent(nil, tc.name, tc.args)
			} else {
				data, atts, err = AppendArgs(nil, tc.args)
			}
			require.NoError(t, err)
			assert.Equal(t, string(tc.packet.Data), string(data))
			assert.Equal(t, tc.packet.Attachments, atts)
		})
	}
}

func TestSpecDecode(t *testing.T) {
	for _, tc := range specCases() {
		t.Run(tc.wire, func(t *testing.T) {
			var d Decoder
			p, err := d.Text([]byte(tc.wire))
			require.NoError(t, err)
			for i, a := range tc.packet.Attachments {
				require.Nil(t, p, "packet returned before attachment %d", i)
				require.True(t, d.Pending())
				p, err = d.Binary(a)
				require.NoError(t, err)
			}
			require.NotNil(t, p)
			assert.False(t, d.Pending())
			assert.Equal(t, tc.packet, *p)

			if tc.want == nil {
				return
			}
			var args []Value
			if p.Type == Event || p.Type == BinaryEvent {
				var name string
				name, args, err = p.Event()
				require.NoError(t, err)
				assert.Equal(t, tc.name, name)
			} else {
				args, err = p.Args()
				require.NoError(t, err)
			}
			got := make([]any, len(args))
			for i, a := range args {
				require.NoError(t, a.Decode(&got[i]))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}
	for i, w := range want {
		assert.Equal(t, w, Type(i).String())
	}
	assert.Equal(t, "Type(9)", Type(9).String())
}

func TestAppendPacketAppends(t *testing.T) {
	buf := []byte("4")
	buf = AppendPacket(buf, &Packet{Type: Event, Namespace: "/chat", ID: 7, HasID: true, Data: []byte(`["a"]`)})
	assert.Equal(t, `42/chat,7["a"]`, string(buf))

	// A binary packet with many attachments writes their count in decimal.
	p := &Packet{Type: BinaryEvent, Data: []byte(`["a"]`), Attachments: make([][]byte, 12)}
	assert.Equal(t, `512-["a"]`, string(AppendPacket(nil, p)))
}

func TestAppendPacketNoAlloc(t *testing.T) {
	p := &Packet{Type: BinaryAck, Namespace: "/admin", ID: 456, HasID: true,
		Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendPacket(buf[:0], p)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, `61-/admin,456[{"_placeholder":true,"num":0}]`, string(buf))
}
