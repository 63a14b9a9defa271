//go:build !js

package client_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/transport/native"
)

func TestInteropNamespaces(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		m, err := client.NewManager(url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		defer m.Close()
		opened := make(chan struct{}, 10)
		m.OnOpen(func() { opened <- struct{}{} })

		root := m.Socket("/", nil)
		custom := m.Socket("/custom", &client.SocketOptions{Auth: map[string]any{"who": "custom"}})
		assert.Same(t, root, m.Socket("", nil))
		rootAuth, customAuth := record(root, "auth"), record(custom, "auth")
		require.NoError(t, root.Connect(ctx))
		require.NoError(t, custom.Connect(ctx))
		assert.NotEqual(t, root.ID(), custom.ID())
		assert.Equal(t, "/custom", custom.Namespace())
		assert.JSONEq(t, `{}`, string(testutil.Recv(t, rootAuth).Args.Raw(0)))
		assert.JSONEq(t, `{"who":"custom"}`, string(testutil.Recv(t, customAuth).Args.Raw(0)))

		// Broadcasts stay in their namespace.
		rootB, customB := record(root, "broadcast"), record(custom, "broadcast")
		require.NoError(t, custom.Emit("broadcast", "to custom"))
		require.NoError(t, root.Emit("broadcast", "to root"))
		assert.Equal(t, []any{"to custom"}, values(t, testutil.Recv(t, customB).Args))
		assert.Equal(t, []any{"to root"}, values(t, testutil.Recv(t, rootB).Args))

		// Disconnecting one namespace keeps the other (and the connection).
		custom.Disconnect()
		assert.False(t, custom.Connected())
		args, err := root.EmitWithAck(ctx, "echo", "still here")
		require.NoError(t, err)
		assert.Equal(t, []any{"still here"}, values(t, args))
		lastDisc, err := root.EmitWithAck(ctx, "last-disconnects")
		require.NoError(t, err)
		assert.Contains(t, string(lastDisc.Raw(0)), `"reason":"client namespace disconnect"`)

		// A single Engine.IO connection served both.
		assert.Len(t, opened, 1)

		// An unknown namespace is refused.
		nope := m.Socket("/nope", nil)
		err = nope.Connect(ctx)
		var ce *client.ConnectError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "Invalid namespace", ce.Message)
		assert.False(t, nope.Active())
		assert.True(t, root.Connected())
	})
}

func TestInteropRegistry(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		var reg client.Registry
		defer reg.Close()
		opts := &client.Options{Transport: native.New(nil)}
		a, err := reg.Socket(url, opts)
		require.NoError(t, err)
		b, err := reg.Socket(url+"/custom", opts)
		require.NoError(t, err)
		assert.Same(t, a.Manager(), b.Manager(), "namespaces of one server share a manager")
		c, err := reg.Socket(url, opts)
		require.NoError(t, err)
		assert.NotSame(t, a.Manager(), c.Manager(), "the same namespace twice gets a new manager")
		forced := *opts
		forced.ForceNew = true
		d, err := reg.Socket(url+"/custom", &forced)
		require.NoError(t, err)
		assert.NotSame(t, b.Manager(), d.Manager())
		for _, s := range []*client.Socket{a, b, c, d} {
			require.NoError(t, s.Connect(ctx))
		}
		var other client.Registry
		e, err := other.Socket(url+"/custom", opts)
		require.NoError(t, err)
		assert.NotSame(t, b.Manager(), e.Manager(), "registries do not share managers")
	})
}

func TestInteropAuth(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)

		t.Run("value", func(t *testing.T) {
			opts := &client.Options{Transport: native.New(nil)}
			opts.Auth = map[string]any{"token": "abc", "n": 1}
			s, err := client.New(url+"/custom", opts)
			require.NoError(t, err)
			auth := record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			defer s.Disconnect()
			assert.JSONEq(t, `{"token":"abc","n":1}`, string(testutil.Recv(t, auth).Args.Raw(0)))
		})

		t.Run("func called at every connection", func(t *testing.T) {
			var calls atomic.Int32
			opts := fastReconnect(native.New(nil), nil)
			opts.AuthFunc = func(ctx context.Context) (any, error) {
				return map[string]any{"call": calls.Add(1)}, nil
			}
			s, err := client.New(url, opts)
			require.NoError(t, err)
			auth := record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			defer s.Disconnect()
			assert.JSONEq(t, `{"call":1}`, string(testutil.Recv(t, auth).Args.Raw(0)))
			// server-disconnect-all is an io server disconnect: no automatic
			// reconnection, but connecting again calls AuthFunc again (automatic
			// reconnections do too: see TestInteropReconnect). Once upgraded
			// (during the upgrade: TestInteropQueuedDuringUpgrade).
			require.Eventually(t, func() bool { return s.Manager().TransportName() == client.TransportWebSocket },
				waitFor, 5*time.Millisecond)
			disc := make(chan sio.Reason, 1)
			s.OnDisconnect(func(r sio.Reason) { disc <- r })
			require.NoError(t, s.Emit("server-disconnect-all"))
			assert.Equal(t, sio.ReasonServerDisconnect, testutil.Recv(t, disc))
			s.Open()
			assert.JSONEq(t, `{"call":2}`, string(testutil.Recv(t, auth).Args.Raw(0)))
		})

		t.Run("func in a composite literal", func(t *testing.T) {
			literal := func(context.Context) (any, error) { return map[string]string{"via": "Options"}, nil }
			s, err := client.New(url, &client.Options{Transport: native.New(nil), AuthFunc: literal})
			require.NoError(t, err)
			auth := record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			assert.JSONEq(t, `{"via":"Options"}`, string(testutil.Recv(t, auth).Args.Raw(0)))
			s.Disconnect()

			// As with Auth, SocketOptions.AuthFunc wins when both are set.
			s, err = client.New(url, &client.Options{
				Transport:     native.New(nil),
				AuthFunc:      literal,
				SocketOptions: client.SocketOptions{AuthFunc: func(context.Context) (any, error) { return map[string]string{"via": "SocketOptions"}, nil }},
			})
			require.NoError(t, err)
			auth = record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			defer s.Disconnect()
			assert.JSONEq(t, `{"via":"SocketOptions"}`, string(testutil.Recv(t, auth).Args.Raw(0)))
		})

		t.Run("manager's auth is every namespace's default", func(t *testing.T) {
			m, err := client.NewManager(url, &client.Options{Transport: native.New(nil), Auth: map[string]string{"via": "manager"}})
			require.NoError(t, err)
			defer m.Close()
			own := map[string]string{"via": "socket"}
			for _, c := range []struct {
				nsp  string
				opts *client.SocketOptions
				want string
			}{
				{"/", nil, `{"via":"manager"}`},
				{"/custom", &client.SocketOptions{AckTimeout: time.Second}, `{"via":"manager"}`},
				{"/dyn-1", &client.SocketOptions{Auth: own}, `{"via":"socket"}`},
			} {
				s := m.Socket(c.nsp, c.opts)
				auth := record(s, "auth")
				require.NoError(t, s.Connect(ctx), c.nsp)
				assert.JSONEq(t, c.want, string(testutil.Recv(t, auth).Args.Raw(0)), c.nsp)
			}
		})

		t.Run("func error", func(t *testing.T) {
			opts := &client.Options{Transport: native.New(nil)}
			boom := errors.New("no token")
			opts.AuthFunc = func(context.Context) (any, error) { return nil, boom }
			_, err := client.Dial(ctx, url, opts)
			assert.ErrorIs(t, err, boom)
		})

		t.Run("rejected by middleware", func(t *testing.T) {
			for _, nsp := range []string{"", "/custom"} {
				opts := &client.Options{Transport: native.New(nil)}
				opts.Auth = map[string]string{"token": "reject"}
				s, err := client.New(url+nsp, opts)
				require.NoError(t, err)
				errs := make(chan error, 1)
				s.OnConnectError(func(err error) { errs <- err })
				err = s.Connect(ctx)
				var ce *client.ConnectError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "unauthorized", ce.Message)
				assert.JSONEq(t, `{"reason":"bad token"}`, string(ce.Data))
				require.ErrorAs(t, testutil.Recv(t, errs), &ce)
				assert.Equal(t, "unauthorized", ce.Message)
				assert.False(t, s.Active())
				assert.False(t, s.Connected())
			}
		})
	})
}
