//go:build !js

package client_test

import (
	"context"
	"errors"
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
				disc := make(chan sio.Reason, 10)
				a.OnDisconnect(func(r sio.Reason) { disc <- r })
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
				assert.Contains(t, []sio.Reason{sio.ReasonTransportClose, sio.ReasonTransportError}, testutil.Recv(t, disc))
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
