package client

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An in-memory Transport for the state machine tests: the test plays the
// server.

type frame struct {
	binary bool
	data   string
}

var errFakeClosed = errors.New("fake: closed")

type fakeWS struct {
	url    string
	in     chan frame // server to client
	out    chan frame // client to server
	closed chan struct{}
	once   sync.Once
}

func newFakeWS(url string) *fakeWS {
	return &fakeWS{url: url, in: make(chan frame, 100), out: make(chan frame, 1000), closed: make(chan struct{})}
}

func (w *fakeWS) Read(ctx context.Context) (bool, []byte, error) {
	select {
	case f := <-w.in:
		return f.binary, []byte(f.data), nil
	case <-w.closed:
		return false, nil, errFakeClosed
	case <-ctx.Done():
		return false, nil, ctx.Err()
	}
}

func (w *fakeWS) Write(ctx context.Context, binary bool, data []byte) error {
	select {
	case <-w.closed:
		return errFakeClosed
	default:
	}
	select {
	case w.out <- frame{binary, string(data)}:
		return nil
	case <-w.closed:
		return errFakeClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *fakeWS) Close() error {
	w.once.Do(func() { close(w.closed) })
	return nil
}

// send writes a text frame to the client.
func (w *fakeWS) send(data string) { w.in <- frame{data: data} }

// expect returns the next text frame from the client, skipping pongs.
func (w *fakeWS) expect(t *testing.T) string {
	t.Helper()
	for {
		select {
		case f := <-w.out:
			if f.data == "3" && !f.binary {
				continue
			}
			return f.data
		case <-time.After(5 * time.Second):
			t.Fatal("no frame from the client")
		}
	}
}

// fakeTransport hands every WebSocket dial to the test through dials and
// every HTTP request to do.
type fakeTransport struct {
	dials   chan *fakeWS
	dialErr error
	do      func(ctx context.Context, r *Request) ([]byte, error)
}

func (f *fakeTransport) Do(ctx context.Context, r *Request) ([]byte, error) {
	if f.do == nil {
		return nil, errors.New("fake: no polling")
	}
	return f.do(ctx, r)
}

func (f *fakeTransport) DialWebSocket(ctx context.Context, url string, _ map[string][]string) (WebSocket, error) {
	if f.dialErr != nil {
		return nil, f.dialErr
	}
	ws := newFakeWS(url)
	select {
	case f.dials <- ws:
		return ws, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func newFakeTransport() *fakeTransport { return &fakeTransport{dials: make(chan *fakeWS, 10)} }

// accept returns the next WebSocket the client dials, after sending it the
// handshake.
func (f *fakeTransport) accept(t *testing.T, handshake string) *fakeWS {
	t.Helper()
	select {
	case ws := <-f.dials:
		ws.send("0" + handshake)
		return ws
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not dial")
		return nil
	}
}

// acceptSocketIO accepts a WebSocket and the CONNECT of the main namespace.
func (f *fakeTransport) acceptSocketIO(t *testing.T, handshake, sid string) *fakeWS {
	t.Helper()
	ws := f.accept(t, handshake)
	require.True(t, strings.HasPrefix(ws.expect(t), "40"))
	ws.send(`40{"sid":"` + sid + `"}`)
	return ws
}

const slowPings = `{"sid":"s1","upgrades":[],"pingInterval":10000,"pingTimeout":5000,"maxPayload":1000000}`

// wsOptions are options using ft over WebSocket only.
func wsOptions(ft *fakeTransport) *Options {
	return &Options{
		Transport:            ft,
		Transports:           []string{TransportWebSocket},
		ReconnectionDelay:    10 * time.Millisecond,
		ReconnectionDelayMax: 20 * time.Millisecond,
	}
}
