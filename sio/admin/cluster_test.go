//go:build !js

package admin

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/redistest"
	"github.com/gosio/socketio/sio/redisadapter"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// TestCluster runs two instrumented nodes on the Redis adapter: the UI
// connected to node a sees both servers' statistics, the socket connected
// to node b, and its action reaches that socket, as upstream's does.
func TestCluster(t *testing.T) {
	rs := redistest.Start(t)
	node := func(id string) (*env, *server.Server) {
		rdb := goredis.NewClient(&goredis.Options{Addr: rs.Addr, MaxRetries: -1, DialTimeout: time.Second})
		srv := server.New(&server.Options{Adapter: redisadapter.New(rdb, nil)})
		o := basicOpts(t)
		o.ServerID = id
		a, err := Instrument(srv, o)
		require.NoError(t, err)
		hs := httptest.NewServer(srv)
		t.Cleanup(func() {
			_ = a.Close()
			_ = srv.Close()
			hs.Close()
			_ = rdb.Close()
		})
		return &env{t: t, srv: srv, admin: a, url: hs.URL}, srv
	}
	na, _ := node("a")
	nb, srvB := node("b")
	got := make(chan *server.Socket, 1)
	srvB.OnConnection(func(s *server.Socket) { got <- s })
	// Wait until both nodes hear each other.
	deadline := time.Now().Add(waitFor)
	for {
		n, _ := na.srv.Sockets().Adapter().ServerCount(context.Background())
		if n == 2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the nodes do not see each other")
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	opts := &client.Options{Transport: native.New(nil), DisableReconnection: true}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := client.Dial(ctx, nb.url+"/", opts)
	require.NoError(t, err)
	defer c.Disconnect()
	sb := <-got

	u, err := na.ui(login)
	require.NoError(t, err)
	all := decodeArg[[]sockJSON](t, u.next("all_sockets"), 0)
	assert.True(t, slices.ContainsFunc(all, func(s sockJSON) bool { return s.ID == c.ID() && s.Nsp == "/" }), "node b's socket is listed: %v", all)

	servers := map[string]bool{}
	u.nextWhere("server_stats", func(a sio.Args) bool {
		servers[decodeArg[map[string]any](t, a, 0)["serverId"].(string)] = true
		return servers["a"] && servers["b"]
	})

	require.NoError(t, u.s.Emit("join", "/", "remote-room", c.ID()))
	joined := u.nextWhere("room_joined", func(a sio.Args) bool { return decodeArg[string](t, a, 1) == "remote-room" })
	assert.Equal(t, c.ID(), decodeArg[string](t, joined, 2), "node b reports the join to the UI on node a")
	assert.Contains(t, sb.Rooms(), "remote-room")
}
