//go:build !js

package client_test

import (
	"context"
	"errors"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/transport/native"
)

// dropper wraps a Transport so that a test can cut the connections (the
// client sees a transport failure, the server an abrupt close) and refuse
// new ones until it is back online.
type dropper struct {
	inner client.Transport

	mu      sync.Mutex
	offline bool
	cancels map[*context.CancelFunc]struct{}
	conns   map[client.WebSocket]struct{}
}

var errOffline = errors.New("dropper: offline")

func newDropper(inner client.Transport) *dropper {
	return &dropper{inner: inner, cancels: map[*context.CancelFunc]struct{}{}, conns: map[client.WebSocket]struct{}{}}
}

func (d *dropper) Do(ctx context.Context, req *client.Request) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	if d.offline {
		d.mu.Unlock()
		return nil, errOffline
	}
	d.cancels[&cancel] = struct{}{}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.cancels, &cancel)
		d.mu.Unlock()
	}()
	return d.inner.Do(ctx, req)
}

func (d *dropper) DialWebSocket(ctx context.Context, url string, h map[string][]string) (client.WebSocket, error) {
	d.mu.Lock()
	offline := d.offline
	d.mu.Unlock()
	if offline {
		return nil, errOffline
	}
	ws, err := d.inner.DialWebSocket(ctx, url, h)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.offline {
		ws.Close()
		return nil, errOffline
	}
	d.conns[ws] = struct{}{}
	return ws, nil
}

// setOffline cuts every connection and refuses new ones (true), or accepts
// them again (false).
func (d *dropper) setOffline(offline bool) {
	d.mu.Lock()
	d.offline = offline
	var conns []client.WebSocket
	if offline {
		for c := range d.cancels {
			(*c)()
		}
		for ws := range d.conns {
			conns = append(conns, ws)
		}
		clear(d.conns)
	}
	d.mu.Unlock()
	for _, ws := range conns {
		ws.Close()
	}
}

// TestInteropRecovery checks connection state recovery (SIO_RECOVERY=1):
// after a temporary loss of the connection the socket gets its session back,
// with the events broadcast meanwhile.
func TestInteropRecovery(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		srv := startServer(t, kind, true)
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				ctx := testCtx(t)
				drop := newDropper(native.New(nil))
				opts := fastReconnect(drop, mode.transports)
				opts.Auth = map[string]any{"user": "a"}
				a, err := client.New(srv.URL, opts)
				require.NoError(t, err)
				defer a.Disconnect()
				bcast, auth := record(a, "broadcast"), record(a, "auth")
				connects := make(chan bool, 10)
				a.OnConnect(func() { connects <- a.Recovered() })
				disc := make(chan string, 10)
				a.OnDisconnect(func(r string) { disc <- r })
				require.NoError(t, a.Connect(ctx))
				assert.False(t, testutil.Recv(t, connects))
				firstAuth := values(t, testutil.Recv(t, auth).Args)
				assert.Equal(t, []any{map[string]any{"user": "a"}}, firstAuth[:1], "first connection: plain auth")
				id := a.ID()
				require.Eventually(t, func() bool { return a.Manager().TransportName() == mode.want }, waitFor, 5*time.Millisecond)

				b, err := client.Dial(ctx, srv.URL, &client.Options{Transport: native.New(nil)})
				require.NoError(t, err)
				defer b.Disconnect()
				require.NoError(t, b.Emit("broadcast", "before"))
				ev := values(t, testutil.Recv(t, bcast).Args)
				require.Len(t, ev, 2, "the server appends the offset")
				assert.Equal(t, "before", ev[0])
				offset := ev[1].(string)

				drop.setOffline(true)
				assert.Contains(t, []string{sio.ReasonTransportClose, sio.ReasonTransportError}, testutil.Recv(t, disc))
				// Wait until the server saw the loss, so that the next broadcast
				// is stored for the session instead of being sent to it.
				require.Eventually(t, func() bool {
					args, err := b.EmitWithAck(ctx, "last-disconnects")
					return err == nil && strings.Contains(string(args.Raw(0)), id)
				}, waitFor, 20*time.Millisecond)
				require.NoError(t, b.Emit("broadcast", "missed"))
				// Wait until the broadcast went out (b gets it too).
				require.Eventually(t, func() bool {
					args, err := b.EmitWithAck(ctx, "echo", "sync")
					return err == nil && args.Len() == 1
				}, waitFor, 20*time.Millisecond)

				drop.setOffline(false)
				assert.True(t, testutil.Recv(t, connects), "recovered")
				assert.True(t, a.Recovered())
				assert.Equal(t, id, a.ID())
				ev = values(t, testutil.Recv(t, bcast).Args)
				assert.Equal(t, "missed", ev[0])
				// The CONNECT packet carried the private session id and the offset.
				reauth := values(t, testutil.Recv(t, auth).Args)
				m := reauth[0].(map[string]any)
				assert.Equal(t, "a", m["user"])
				assert.Equal(t, offset, m["offset"])
				assert.NotEmpty(t, m["pid"])
			})
		}
	})
}

func TestInteropMaxPayload(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL // maxHttpBufferSize 1e6
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				ctx := testCtx(t)
				s, err := client.Dial(ctx, url, &client.Options{Transport: native.New(nil), Transports: mode.transports})
				require.NoError(t, err)
				defer s.Disconnect()
				require.Eventually(t, func() bool { return s.Manager().TransportName() == mode.want }, waitFor, 5*time.Millisecond)

				big := strings.Repeat("x", 1_000_001)
				err = s.Emit("message", big)
				require.ErrorIs(t, err, sio.ErrPayloadTooLarge)
				_, err = s.EmitWithAck(ctx, "echo", []byte(big))
				require.ErrorIs(t, err, sio.ErrPayloadTooLarge)

				// The connection survived, and a large packet within the limit goes
				// through.
				fits := strings.Repeat("y", 900_000)
				args, err := s.EmitWithAck(ctx, "echo", fits)
				require.NoError(t, err)
				var got string
				require.NoError(t, args.Decode(&got))
				assert.Equal(t, len(fits), len(got))
				assert.True(t, s.Connected())
			})
		}
	})
}

func TestInteropAnyHandlers(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		s, err := client.New(url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		incoming := make(chan string, 100)
		s.OnAny(func(e *sio.Event) { incoming <- "any:" + e.Name })
		s.On("message-back", func(e *sio.Event) { incoming <- "on:" + e.Name })
		outgoing := make(chan string, 100)
		s.OnAnyOutgoing(func(name string, args []any) { outgoing <- name + ":" + args[0].(string) })
		require.NoError(t, s.Connect(ctx))
		defer s.Disconnect()
		assert.Equal(t, "any:auth", testutil.Recv(t, incoming))

		require.NoError(t, s.Emit("message", "one"))
		assert.Equal(t, "message:one", testutil.Recv(t, outgoing))
		assert.Equal(t, "any:message-back", testutil.Recv(t, incoming))
		assert.Equal(t, "on:message-back", testutil.Recv(t, incoming))

		s.OffAny()
		s.OffAnyOutgoing()
		require.NoError(t, s.Emit("message", "two"))
		assert.Equal(t, "on:message-back", testutil.Recv(t, incoming))
		s.Off("message-back")
		_, err = s.EmitWithAck(ctx, "echo", "sync")
		require.NoError(t, err)
		require.NoError(t, s.Emit("message", "three"))
		_, err = s.EmitWithAck(ctx, "echo", "sync")
		require.NoError(t, err)
		assert.Empty(t, incoming)
		assert.Empty(t, outgoing)

		assert.ErrorIs(t, s.Emit("disconnect"), sio.ErrReservedEvent)
	})
}

// TestInteropHandlerWaitsForAck checks that a handler may block on
// EmitWithAck: acknowledgements do not go through the handler goroutine.
func TestInteropHandlerWaitsForAck(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		s, err := client.New(url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		results := make(chan string, 1)
		s.On("auth", func(*sio.Event) {
			args, err := s.EmitWithAck(ctx, "echo", "from handler")
			if err != nil {
				results <- err.Error()
				return
			}
			var got string
			_ = args.Decode(&got)
			results <- got
		})
		require.NoError(t, s.Connect(ctx))
		defer s.Disconnect()
		assert.Equal(t, "from handler", testutil.Recv(t, results))
	})
}

func TestInteropDialErrors(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		srv := startServer(t, kind, false)
		ctx := testCtx(t)
		srv.Kill()
		_, err := client.Dial(ctx, srv.URL, &client.Options{Transport: native.New(nil)})
		assert.Error(t, err, "nothing listens any more")

		_, err = client.Dial(ctx, "ftp://x", &client.Options{Transport: native.New(nil)})
		assert.Error(t, err)
		_, err = client.Dial(ctx, "http://127.0.0.1:1", nil)
		assert.ErrorIs(t, err, client.ErrNoTransport)
	})
}

// requestLog wraps a Transport and records every request.
type requestLog struct {
	inner client.Transport
	mu    sync.Mutex
	reqs  []loggedRequest
}

type loggedRequest struct {
	method string // GET, POST or WS
	url    string
	header map[string][]string
}

func (l *requestLog) add(r loggedRequest) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
}

func (l *requestLog) Do(ctx context.Context, req *client.Request) ([]byte, error) {
	l.add(loggedRequest{req.Method, req.URL, req.Header})
	return l.inner.Do(ctx, req)
}

func (l *requestLog) DialWebSocket(ctx context.Context, url string, h map[string][]string) (client.WebSocket, error) {
	l.add(loggedRequest{"WS", url, h})
	return l.inner.DialWebSocket(ctx, url, h)
}

// take returns the requests recorded so far and forgets them.
func (l *requestLog) take() []loggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reqs
	l.reqs = nil
	return r
}

func TestInteropRequests(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		srv := startServer(t, kind, false)
		ctx := testCtx(t)
		drop := newDropper(native.New(nil))
		log := &requestLog{inner: drop}
		opts := fastReconnect(log, nil)
		opts.RememberUpgrade = true
		opts.Query = map[string][]string{"room": {"blue"}}
		opts.ExtraHeaders = map[string][]string{"X-Test": {"yes"}}
		s, err := client.New(srv.URL+"/custom?lang=go", opts)
		require.NoError(t, err)
		connects := make(chan struct{}, 10)
		s.OnConnect(func() { connects <- struct{}{} })
		require.NoError(t, s.Connect(ctx))
		defer s.Disconnect()
		require.Eventually(t, func() bool { return s.Manager().TransportName() == client.TransportWebSocket }, waitFor, 5*time.Millisecond)
		testutil.Recv(t, connects)

		reqs := log.take()
		require.GreaterOrEqual(t, len(reqs), 3)
		assert.Equal(t, "GET", reqs[0].method, "starts with polling")
		first, err := neturl.Parse(reqs[0].url)
		require.NoError(t, err)
		q := first.Query()
		assert.Equal(t, "/socket.io/", first.Path)
		assert.Equal(t, "4", q.Get("EIO"))
		assert.Equal(t, "polling", q.Get("transport"))
		assert.Equal(t, "blue", q.Get("room"))
		assert.Equal(t, "go", q.Get("lang"))
		assert.NotEmpty(t, q.Get("t"))
		assert.Empty(t, q.Get("sid"))
		var sawWS bool
		for _, r := range reqs {
			assert.Equal(t, []string{"yes"}, r.header["X-Test"])
			if r.method == "WS" {
				sawWS = true
				u, err := neturl.Parse(r.url)
				require.NoError(t, err)
				assert.Equal(t, "ws", u.Scheme)
				assert.NotEmpty(t, u.Query().Get("sid"), "the upgrade joins the session")
			}
		}
		assert.True(t, sawWS)

		// After a drop, RememberUpgrade starts directly with WebSocket.
		drop.setOffline(true)
		log.take()
		drop.setOffline(false)
		testutil.Recv(t, connects)
		reqs = log.take()
		require.NotEmpty(t, reqs)
		assert.Equal(t, "WS", reqs[0].method)
		u, err := neturl.Parse(reqs[0].url)
		require.NoError(t, err)
		assert.Empty(t, u.Query().Get("sid"))
		for _, r := range reqs {
			assert.Equal(t, "WS", r.method, "no polling at all")
		}
	})
}
