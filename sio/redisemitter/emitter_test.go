//go:build !js

package redisemitter_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/redistest"
	"github.com/gosio/socketio/sio/redisadapter"
	"github.com/gosio/socketio/sio/redisemitter"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

const waitFor = 10 * time.Second

func TestEmitterReachesGoNodes(t *testing.T) {
	rs := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitFor)
	defer cancel()
	newRedis := func() goredis.UniversalClient {
		c := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	sse := make(chan sio.Args, 4)
	var urls []string
	var srvs []*server.Server
	for range 2 {
		srv := server.New(&server.Options{Adapter: redisadapter.New(newRedis(), nil)})
		srv.Of("/").OnServerSideEmit(func(e *sio.Event) { sse <- e.Args })
		srv.Of("/admin")
		ts := httptest.NewServer(srv)
		t.Cleanup(func() { srv.Close(); ts.Close() })
		urls = append(urls, ts.URL)
		srvs = append(srvs, srv)
	}
	// Both nodes subscribed (the request channel has one subscriber each).
	rc := newRedis()
	for _, ch := range []string{"socket.io-request#/#", "socket.io-request#/admin#"} {
		deadline := time.Now().Add(waitFor)
		for {
			n, err := rc.PubSubNumSub(ctx, ch).Result()
			if err == nil && n[ch] == 2 {
				break
			}
			require.True(t, time.Now().Before(deadline), "nodes not subscribed to %s", ch)
			time.Sleep(10 * time.Millisecond) // polling the subscriptions
		}
	}

	type recv struct {
		s  *client.Socket
		ch chan *sio.Event
	}
	dial := func(url string) recv {
		s, err := client.New(url, &client.Options{Transport: native.New(nil), DisableReconnection: true})
		require.NoError(t, err)
		r := recv{s, make(chan *sio.Event, 16)}
		s.OnAny(func(e *sio.Event) { r.ch <- e })
		require.NoError(t, s.Connect(ctx))
		t.Cleanup(s.Disconnect)
		return r
	}
	expect := func(r recv, names ...string) []*sio.Event {
		var got []*sio.Event
		for _, want := range names {
			select {
			case e := <-r.ch:
				require.Equal(t, want, e.Name)
				got = append(got, e)
			case <-time.After(waitFor):
				t.Fatalf("no %q event", want)
			}
		}
		return got
	}
	a, b := dial(urls[0]), dial(urls[1]+"/admin")
	em := redisemitter.New(rc, nil)

	require.NoError(t, em.Emit(ctx, "all", "x", []byte{1, 2}))
	e := expect(a, "all")[0]
	var (
		s   string
		bin []byte
	)
	require.NoError(t, e.Args.Decode(&s, &bin))
	assert.Equal(t, "x", s)
	assert.Equal(t, []byte{1, 2}, bin)

	require.NoError(t, em.Of("admin").Emit(ctx, "admin"))
	expect(b, "admin")

	// Rooms: join a through the emitter, then to/except.
	require.NoError(t, em.SocketsJoin(ctx, "r"))
	deadline := time.Now().Add(waitFor)
	for len(srvs[0].Of("/").Adapter().Sockets([]string{"r"})) == 0 {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(10 * time.Millisecond) // polling the join
	}
	require.NoError(t, em.To("r").Emit(ctx, "room"))
	require.NoError(t, em.Except("r").Emit(ctx, "not-you"))
	require.NoError(t, em.Volatile().Compress(true).Emit(ctx, "mark"))
	expect(a, "room", "mark")
	require.NoError(t, em.In("r").SocketsLeave(ctx, "r"))
	deadline = time.Now().Add(waitFor)
	for len(srvs[0].Of("/").Adapter().Sockets([]string{"r"})) != 0 {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(10 * time.Millisecond) // polling the leave
	}

	require.NoError(t, em.ServerSideEmit(ctx, "sse", 1, "two"))
	for range 2 {
		select {
		case args := <-sse:
			var (
				n int
				s string
			)
			require.NoError(t, args.Decode(&n, &s))
			assert.Equal(t, 1, n)
			assert.Equal(t, "two", s)
		case <-time.After(waitFor):
			t.Fatal("server-side event missing")
		}
	}
	assert.ErrorIs(t, em.ServerSideEmit(ctx, "x", func(sio.Args, error) {}), redisemitter.ErrAckUnsupported)
	assert.ErrorIs(t, em.Emit(ctx, "connect"), sio.ErrReservedEvent)

	gone := make(chan sio.Reason, 1)
	a.s.OnDisconnect(func(reason sio.Reason) { gone <- reason })
	require.NoError(t, em.DisconnectSockets(ctx, false))
	select {
	case r := <-gone:
		assert.Equal(t, sio.ReasonServerDisconnect, r)
	case <-time.After(waitFor):
		t.Fatal("not disconnected")
	}
}
