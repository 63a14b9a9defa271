package sio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/parser"
)

// fakeSocket is a sio.Socket that records what the typed helpers do with
// it; EmitWithAck answers with reply.
type fakeSocket struct {
	handlers map[string]func(*sio.Event)
	errs     []error
	reply    sio.Args
	emitted  []string // JSON of the arguments of each emit
}

func (f *fakeSocket) On(event string, fn func(*sio.Event)) {
	if f.handlers == nil {
		f.handlers = map[string]func(*sio.Event){}
	}
	f.handlers[event] = fn
}
func (f *fakeSocket) Emit(event string, args ...any) error {
	b, _, err := parser.AppendArgs(nil, append([]any{event}, args...))
	f.emitted = append(f.emitted, string(b))
	return err
}
func (f *fakeSocket) EmitWithAck(_ context.Context, event string, args ...any) (sio.Args, error) {
	return f.reply, f.Emit(event, args...)
}
func (f *fakeSocket) ReportError(err error)    { f.errs = append(f.errs, err) }
func (f *fakeSocket) Context() context.Context { return context.Background() }

// deliver runs the handler of the event whose wire arguments are args
// (a JSON array); with ack, it returns the JSON of the acknowledgement.
func (f *fakeSocket) deliver(t *testing.T, event, args string, ack bool) string {
	t.Helper()
	e := &sio.Event{Name: event}
	var raws []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(args), &raws))
	for _, r := range raws {
		e.Args = append(e.Args, parser.Value{Raw: r})
	}
	var acked string
	if ack {
		e.AckFunc = func(args ...any) error {
			b, _, err := parser.AppendArgs(nil, args)
			acked = string(b)
			return err
		}
	}
	f.handlers[event](e)
	return acked
}

type msg struct {
	Text string `json:"text"`
}

func TestTypedOn(t *testing.T) {
	var f fakeSocket
	var got []msg
	chat := sio.NewEvent[msg]("chat")
	chat.On(&f, func(m msg) error {
		if m.Text == "fail" {
			return errors.New("no thanks")
		}
		got = append(got, m)
		return nil
	})
	assert.Empty(t, f.deliver(t, "chat", `[{"text":"hi"}]`, false))
	assert.Equal(t, []msg{{"hi"}}, got)
	assert.Empty(t, f.errs)

	// A payload of the wrong type: to OnError, no panic.
	f.deliver(t, "chat", `[42]`, false)
	f.deliver(t, "chat", `[]`, false)
	require.Len(t, f.errs, 2)
	for _, err := range f.errs {
		assert.ErrorIs(t, err, sio.ErrInvalidPayload)
		assert.Contains(t, err.Error(), `event "chat"`)
	}
	// The handler's error, too.
	f.deliver(t, "chat", `[{"text":"fail"}]`, false)
	require.Len(t, f.errs, 3)
	assert.EqualError(t, f.errs[2], "no thanks")

	// With an acknowledgement asked for, the sender gets the answer instead.
	assert.Equal(t, `[null]`, f.deliver(t, "chat", `[{"text":"ok"}]`, true))
	assert.JSONEq(t, `[{"message":"no thanks"}]`, f.deliver(t, "chat", `[{"text":"fail"}]`, true))
	bad := f.deliver(t, "chat", `["text"]`, true)
	assert.Contains(t, bad, `"message":"sio: event \"chat\": sio: invalid payload`)
	assert.Len(t, f.errs, 3)

	// Emit sends the payload as the one argument.
	require.NoError(t, chat.Emit(&f, msg{"out"}))
	assert.Equal(t, `["chat",{"text":"out"}]`, f.emitted[0])
}

type question struct {
	A, B int
}

func TestTypedOnAck(t *testing.T) {
	var f fakeSocket
	add := sio.NewAckEvent[question, int]("add")
	add.Handle(&f, func(ctx context.Context, q question) (int, error) {
		if q.A < 0 {
			return 0, errors.New("negative")
		}
		return q.A + q.B, nil
	})
	assert.Equal(t, `[null,5]`, f.deliver(t, "add", `[{"A":2,"B":3}]`, true))
	assert.JSONEq(t, `[{"message":"negative"}]`, f.deliver(t, "add", `[{"A":-1}]`, true))
	assert.Contains(t, f.deliver(t, "add", `["two"]`, true), "invalid payload")
	// Without an acknowledgement, errors go to OnError.
	f.deliver(t, "add", `[{"A":-1}]`, false)
	require.Len(t, f.errs, 1)
	assert.EqualError(t, f.errs[0], "negative")
}

func TestTypedEmitWithAck(t *testing.T) {
	ctx := context.Background()
	reply := func(raws ...string) sio.Args {
		var a sio.Args
		for _, r := range raws {
			a = append(a, parser.Value{Raw: json.RawMessage(r)})
		}
		return a
	}
	for _, tc := range []struct {
		name  string
		reply sio.Args
		want  int
		err   string
	}{
		{"typed", reply(`null`, `5`), 5, ""},
		{"plain", reply(`7`), 7, ""},
		{"typed error", reply(`{"message":"negative"}`), 0, "negative"},
		{"error first of two", reply(`{"message":"bad"}`, `null`), 0, "bad"},
		{"wrong type", reply(`null`, `"five"`), 0, "invalid payload"},
		{"empty", reply(), 0, "missing argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeSocket{reply: tc.reply}
			got, err := sio.EmitWithAck[int](ctx, &f, "add", question{1, 2})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, `["add",{"A":1,"B":2}]`, f.emitted[0])
		})
	}
	f := fakeSocket{reply: reply(`{"message":"negative"}`)}
	_, err := sio.NewAckEvent[question, int]("add").Call(ctx, &f, question{})
	var ae *sio.AckError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "negative", ae.Message)
}

func TestArgsPrintAndMarshal(t *testing.T) {
	args := argsOf(t, `51-["e","x",{"n":1.5,"b":{"_placeholder":true,"num":0}}]`, []byte{7, 8})
	want := `["x",{"n":1.5,"b":"Bwg="}]`
	assert.Equal(t, want, args.String())
	assert.Equal(t, want, fmt.Sprintf("%v", args))
	b, err := json.Marshal(args)
	require.NoError(t, err)
	assert.Equal(t, want, string(b))
	b, err = json.Marshal(map[string]any{"args": args})
	require.NoError(t, err)
	assert.Equal(t, `{"args":`+want+`}`, string(b))
	assert.Equal(t, `[]`, sio.Args(nil).String())
}
