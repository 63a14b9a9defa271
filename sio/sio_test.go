package sio_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/parser"
)

func argsOf(t *testing.T, wire string, atts ...[]byte) sio.Args {
	t.Helper()
	var d parser.Decoder
	p, err := d.Text([]byte(wire))
	require.NoError(t, err)
	for _, a := range atts {
		p, err = d.Binary(a)
		require.NoError(t, err)
	}
	require.NotNil(t, p)
	_, args, err := p.Event()
	require.NoError(t, err)
	return args
}

func TestArgsDecode(t *testing.T) {
	args := argsOf(t, `51-["e","x",{"n":1.5,"b":{"_placeholder":true,"num":0}}]`, []byte{7, 8})
	require.Equal(t, 2, args.Len())
	var (
		s string
		v struct {
			N float64 `json:"n"`
			B []byte  `json:"b"`
		}
	)
	require.NoError(t, args.Decode(&s, &v))
	require.Equal(t, "x", s)
	require.Equal(t, 1.5, v.N)
	require.Equal(t, []byte{7, 8}, v.B)
	require.Equal(t, json.RawMessage(`"x"`), args.Raw(0))
	require.Nil(t, args.Raw(5))

	var a, b, c any
	err := args.Decode(&a, &b, &c)
	require.ErrorIs(t, err, sio.ErrMissingArgument)

	vals, err := args.Values()
	require.NoError(t, err)
	require.Equal(t, "x", vals[0])
	require.Equal(t, []byte{7, 8}, vals[1].(map[string]any)["b"])
}

func TestArgGeneric(t *testing.T) {
	args := argsOf(t, `2["chat",{"user":"ann","text":"hello"}]`)
	type msg struct{ User, Text string }
	m, err := sio.Arg[msg](args, 0)
	require.NoError(t, err)
	require.Equal(t, msg{"ann", "hello"}, m)
	_, err = sio.Arg[msg](args, 1)
	require.ErrorIs(t, err, sio.ErrMissingArgument)
	_, err = sio.Arg[int](args, 0)
	require.Error(t, err)
}

func TestAsAnyKeepsBinary(t *testing.T) {
	args := argsOf(t, `51-["e",{"_placeholder":true,"num":0},{"k":2,"a":1}]`, []byte{1})
	data, atts, err := parser.AppendArgs(nil, args.AsAny())
	require.NoError(t, err)
	require.Equal(t, `[{"_placeholder":true,"num":0},{"k":2,"a":1}]`, string(data))
	require.Equal(t, [][]byte{{1}}, atts)
}

func TestEventAck(t *testing.T) {
	e := &sio.Event{Name: "x"}
	require.False(t, e.WantsAck())
	require.ErrorIs(t, e.Ack(1), sio.ErrNoAck)
	var got []any
	e.AckFunc = func(args ...any) error {
		if got != nil {
			return sio.ErrAckSent
		}
		got = args
		return nil
	}
	require.True(t, e.WantsAck())
	require.NoError(t, e.Ack("ok"))
	require.Equal(t, []any{"ok"}, got)
	require.True(t, errors.Is(e.Ack("again"), sio.ErrAckSent))
}

func TestIsReserved(t *testing.T) {
	for _, n := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		require.True(t, sio.IsReserved(n), n)
	}
	require.False(t, sio.IsReserved("chat"))
}
