//go:build !js

package client_test

import (
	"context"
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

// upgradeHold wraps a Transport so that the upgrade waits for the test: the
// WebSocket dial until dial is closed (so that the socket can connect on
// polling first), then the upgrade packet ("5", sent once the probe was
// answered and polling paused) until release is closed: the server then has
// a session on polling with no GET to answer and an upgrade under way,
// deterministically.
type upgradeHold struct {
	inner    client.Transport
	dial     chan struct{}
	heldOnce sync.Once
	held     chan struct{} // closed when "5" is waiting
	release  chan struct{}
}

func newUpgradeHold(inner client.Transport) *upgradeHold {
	return &upgradeHold{inner: inner, dial: make(chan struct{}), held: make(chan struct{}), release: make(chan struct{})}
}

func (u *upgradeHold) Do(ctx context.Context, req *client.Request) ([]byte, error) {
	return u.inner.Do(ctx, req)
}

func (u *upgradeHold) DialWebSocket(ctx context.Context, url string, h map[string][]string) (client.WebSocket, error) {
	select {
	case <-u.dial:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ws, err := u.inner.DialWebSocket(ctx, url, h)
	if err != nil {
		return nil, err
	}
	return &holdSocket{WebSocket: ws, u: u}, nil
}

type holdSocket struct {
	client.WebSocket
	u *upgradeHold
}

func (w *holdSocket) Write(ctx context.Context, binary bool, data []byte) error {
	if !binary && string(data) == "5" {
		w.u.heldOnce.Do(func() { close(w.u.held) })
		select {
		case <-w.u.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return w.WebSocket.Write(ctx, binary, data)
}

// TestInteropQueuedDuringUpgrade: what the server sends while an upgrade is
// under way and no GET is pending (the client paused polling) is flushed on
// the WebSocket once the upgrade completes, in order, a DISCONNECT included.
func TestInteropQueuedDuringUpgrade(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		srv := startServer(t, kind, false)
		for _, how := range []string{"namespace-disconnect", "disconnect-close"} {
			t.Run(how, func(t *testing.T) {
				if how == "disconnect-close" {
					if kind == kindNode {
						t.Skip("needs the server's API (Socket.CloseConnection()) while the client's upgrade is held")
					}
				}
				ctx := testCtx(t)
				nsp := privNsp()
				hold := newUpgradeHold(native.New(nil))
				a, err := client.New(srv.URL+nsp, fastReconnect(hold, nil))
				require.NoError(t, err)
				defer a.Disconnect()
				queued := record(a, "queued")
				disc := make(chan sio.Reason, 10)
				a.OnDisconnect(func(r sio.Reason) { disc <- r })
				connects := make(chan struct{}, 10)
				a.OnConnect(func() { connects <- struct{}{} })
				require.NoError(t, a.Connect(ctx))
				testutil.Recv(t, connects)
				id := a.ID()
				close(hold.dial)
				testutil.Recv(t, hold.held)
				assert.Equal(t, client.TransportPolling, a.Manager().TransportName())

				b, err := client.Dial(ctx, srv.URL+nsp, &client.Options{Transport: native.New(nil), Transports: []string{client.TransportWebSocket}})
				require.NoError(t, err)
				defer b.Disconnect()
				for i := range 3 {
					_, err = b.EmitWithAck(ctx, "emit-to", map[string]any{"rooms": []string{id}, "event": "queued", "args": []any{i}})
					require.NoError(t, err)
				}
				switch how {
				case "namespace-disconnect":
					_, err = b.EmitWithAck(ctx, "disconnect-room", map[string]any{"room": id})
					require.NoError(t, err)
				case "disconnect-close":
					s := srv.gos.App.IO.Of(nsp).Socket(id)
					require.NotNil(t, s)
					s.CloseConnection()
				}
				assert.Empty(t, queued, "nothing can reach a before the upgrade")
				close(hold.release)

				for i := range 3 {
					assert.Equal(t, []any{float64(i)}, values(t, testutil.Recv(t, queued).Args))
				}
				assert.Equal(t, sio.ReasonServerDisconnect, testutil.Recv(t, disc))
				assert.False(t, a.Active())
				require.Eventually(t, func() bool { return a.Manager().TransportName() == "" }, waitFor, 5*time.Millisecond)
				assert.Empty(t, connects, "no reconnection")
			})
		}
	})
}
