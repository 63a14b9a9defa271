package parser

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunks splits b into n attachments (n may be 0).
func chunks(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range n {
		out[i] = b[i*len(b)/n : (i+1)*len(b)/n]
	}
	return out
}

// FuzzDecoder feeds a text frame then up to n binary frames, and checks the
// invariants of a decoded packet: it encodes back to a frame that decodes to
// the same packet, and its arguments split, decode and re-encode.
func FuzzDecoder(f *testing.F) {
	for _, tc := range specCases() {
		f.Add([]byte(tc.wire), []byte{1, 2, 3, 4}, uint8(len(tc.packet.Attachments)))
	}
	f.Add([]byte(`52-/a,9["x",{"k":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`), []byte("abcdef"), uint8(2))
	f.Add([]byte(`2["conn\u0065ct"]`), []byte{}, uint8(0))
	f.Add([]byte(`53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`), []byte("xyz"), uint8(3))

	f.Fuzz(func(t *testing.T, text, bin []byte, n uint8) {
		var d Decoder
		p, err := d.Text(text)
		if err != nil {
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			require.False(t, d.Pending())
			return
		}
		atts := chunks(bin, int(n%12))
		for _, a := range atts {
			if p != nil {
				break
			}
			p, err = d.Binary(a)
			require.NoError(t, err)
		}
		if p == nil {
			require.True(t, d.Pending())
			return
		}
		require.False(t, d.Pending())
		_, err = d.Binary(bin)
		require.ErrorIs(t, err, ErrUnexpectedBinary)

		// Re-encoded, the packet decodes to itself.
		var d2 Decoder
		q, err := d2.Text(AppendPacket(nil, p))
		require.NoError(t, err)
		for _, a := range p.Attachments {
			require.Nil(t, q)
			q, err = d2.Binary(a)
			require.NoError(t, err)
		}
		require.Equal(t, p, q)

		var vals []Value
		switch p.Type {
		case Event, BinaryEvent:
			_, vals, err = p.Event()
			require.NoError(t, err)
		case Ack, BinaryAck:
			vals, err = p.Args()
			require.NoError(t, err)
		default:
			return
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			var x any
			require.NoError(t, v.Decode(&x))
			var s struct {
				B []byte
				A any
				M map[string]any
			}
			_ = v.Decode(&s) // may not fit; must not panic
			args[i] = v
		}
		data, newAtts, err := AppendArgs(nil, args)
		require.NoError(t, err)
		require.LessOrEqual(t, len(newAtts), len(p.Attachments))
		require.True(t, json.Valid(data))
	})
}

// FuzzValueDecode decodes arbitrary JSON with up to n attachments into
// several destinations and checks that an argument decoding into *any
// re-encodes and decodes to the same value.
func FuzzValueDecode(f *testing.F) {
	f.Add([]byte(`{"_placeholder":true,"num":0}`), []byte{1, 2}, uint8(1))
	f.Add([]byte(`[{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0}]`), []byte("abcd"), uint8(2))
	f.Add([]byte(`{"B":{"_placeholder":true,"num":0},"A":[{"_placeholder":true,"num":1}],"M":{"x":{"_placeholder":true,"num":2}}}`), []byte("abcdef"), uint8(3))
	f.Add([]byte(`{"\u005fplaceholder":true,"num":0.0}`), []byte("a"), uint8(1))
	f.Add([]byte(`{"_placeholder":true,"num":1e400}`), []byte("a"), uint8(1))
	f.Add([]byte(`[[[[{"_placeholder":true,"num":0,"_placeholder":false}]]]]`), []byte("a"), uint8(1))
	f.Add([]byte(`"plain"`), []byte{}, uint8(0))

	f.Fuzz(func(t *testing.T, raw, bin []byte, n uint8) {
		v := Value{Raw: raw, Attachments: chunks(bin, int(n%8))}

		var s struct {
			B []byte
			A any
			M map[string]any
			L []any
			P *[]byte
		}
		_ = v.Decode(&s)
		var mi map[int]any
		_ = v.Decode(&mi)
		var b []byte
		_ = v.Decode(&b)
		var arr [2]any
		_ = v.Decode(&arr)

		var x any
		if err := v.Decode(&x); err != nil {
			var de *DecodeError
			var se *json.SyntaxError
			var ue *json.UnmarshalTypeError
			assert.True(t, errors.As(err, &de) || errors.As(err, &se) || errors.As(err, &ue), "%v", err)
			return
		}
		data, atts, err := AppendArgs(nil, []any{v})
		require.NoError(t, err)
		p := &Packet{Type: Ack, Data: data, Attachments: atts}
		if len(atts) > 0 {
			p.Type = BinaryAck
		}
		vals, err := p.Args()
		require.NoError(t, err)
		require.Len(t, vals, 1)
		var y any
		require.NoError(t, vals[0].Decode(&y))
		require.Equal(t, x, y)
	})
}
