//go:build !js

package redisadapter_test

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/redistest"
	"github.com/gosio/socketio/sio/redisadapter"
	"github.com/gosio/socketio/sio/redisemitter"
	"github.com/gosio/socketio/sio/server"
)

var interopModes = []struct {
	name, adapter string
	factory       func(goredis.UniversalClient) server.AdapterFactory
}{
	{"classic", "classic", func(c goredis.UniversalClient) server.AdapterFactory { return redisadapter.New(c, nil) }},
	{"sharded", "sharded", func(c goredis.UniversalClient) server.AdapterFactory { return redisadapter.NewSharded(c, nil) }},
}

type nodeSocket struct {
	ID        string
	Rooms     []string
	Data      map[string]any
	Handshake map[string]any
}

func nodeFetch(t *testing.T, n *nodeProc, sel map[string]any) []nodeSocket {
	var out []nodeSocket
	require.NoError(t, json.Unmarshal(n.call(t, map[string]any{"cmd": "fetch", "sel": sel}), &out))
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func nodeIDs(ss []nodeSocket) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

type ackResult struct {
	Replies []string
	Error   *string
}

// TestMixedCluster: a Go node and a Node.js node on the official adapter
// exchange broadcasts (every operator, binary), broadcast acks, fetchSockets
// with remote socket operations, socketsJoin/Leave, disconnectSockets and
// serverSideEmit with and without acks, both ways, in classic and sharded
// modes.
func TestMixedCluster(t *testing.T) {
	version := redistest.Version(t)
	for _, m := range interopModes {
		t.Run(m.name, func(t *testing.T) {
			if m.adapter == "sharded" && version < 7 {
				t.Skip("sharded pub/sub needs Redis 7")
			}
			rs := redistest.Start(t)
			n, nurl := nodeServer(t, rs, "n", m.adapter)
			g := startGoNode(t, "g", m.factory, rs)
			pollUntil(t, func() bool {
				c, err := g.srv.Of("/").Adapter().ServerCount(context.Background())
				return err == nil && c == 2
			}, "the Go node counts 2 nodes")
			var count int
			require.NoError(t, json.Unmarshal(n.call(t, map[string]any{"cmd": "count"}), &count))
			require.Equal(t, 2, count)

			cg, cn := dialRecorder(t, g.url), dialRecorder(t, nurl)
			ctx, cancel := context.WithTimeout(context.Background(), redisWait)
			defer cancel()

			// Broadcasts, Go -> Node node, binary included.
			require.NoError(t, g.srv.Emit("g-all", "x", []byte{1, 2}, map[string]any{"f": 1.5}))
			for _, c := range []*rclient{cg, cn} {
				e := c.expect(t, "g-all")[0]
				var (
					s string
					b []byte
					o map[string]float64
				)
				require.NoError(t, e.Args.Decode(&s, &b, &o))
				assert.Equal(t, "x", s)
				assert.Equal(t, []byte{1, 2}, b)
				assert.Equal(t, 1.5, o["f"])
			}
			// Node node -> Go node, binary included.
			n.call(t, map[string]any{"cmd": "emit", "event": "n-all", "args": []any{"y", map[string]any{"$bin": "0304"}}})
			for _, c := range []*rclient{cg, cn} {
				e := c.expect(t, "n-all")[0]
				var (
					s string
					b []byte
				)
				require.NoError(t, e.Args.Decode(&s, &b))
				assert.Equal(t, "y", s)
				assert.Equal(t, []byte{3, 4}, b)
			}

			// Rooms: to, except, local, both ways (markers prove absences).
			cn.join(t, "rn")
			cg.join(t, "rg")
			waitChannel(t, rs, m.adapter, "rn")
			waitChannel(t, rs, m.adapter, "rg")
			require.NoError(t, g.srv.To("rn").Emit("to-rn"))
			require.NoError(t, g.srv.Except("rn").Emit("except-rn"))
			require.NoError(t, g.srv.Local().Emit("local-g"))
			require.NoError(t, g.srv.Emit("mark"))
			cg.expect(t, "except-rn", "local-g", "mark")
			cn.expect(t, "to-rn", "mark")
			n.call(t, map[string]any{"cmd": "emit", "sel": map[string]any{"to": []string{"rg"}}, "event": "to-rg"})
			n.call(t, map[string]any{"cmd": "emit", "sel": map[string]any{"except": []string{"rg"}}, "event": "except-rg"})
			n.call(t, map[string]any{"cmd": "emit", "sel": map[string]any{"local": true}, "event": "local-n"})
			n.call(t, map[string]any{"cmd": "emit", "event": "mark"})
			cg.expect(t, "to-rg", "mark")
			// The official sharded adapter delivers a broadcast to its own
			// clients once it is published, a local one at once: their
			// order on the Node node varies.
			cn.expectSet(t, "except-rg", "local-n", "mark")

			// Broadcast acks both ways.
			replies, err := g.srv.Timeout(5*time.Second).EmitWithAck(ctx, "ack-me")
			require.NoError(t, err)
			assert.Equal(t, sortedStrings(cg.s.ID(), cn.s.ID()), sortedArgs(t, replies))
			var ar ackResult
			require.NoError(t, json.Unmarshal(n.call(t, map[string]any{"cmd": "emitAck", "event": "ack-me", "timeout": 5000}), &ar))
			assert.Nil(t, ar.Error)
			assert.Equal(t, sortedStrings(cg.s.ID(), cn.s.ID()), sortedStrings(ar.Replies...))

			// fetchSockets both ways, with data, rooms and handshake.
			all, err := g.srv.FetchSockets(ctx)
			require.NoError(t, err)
			var remote server.RemoteSocket
			for _, s := range all {
				if s.ID() == cn.s.ID() {
					remote = s
				}
			}
			require.NotNil(t, remote, "the Node node's socket")
			assert.Len(t, all, 2)
			assert.Equal(t, map[string]any{"node": "n"}, remote.Data())
			assert.Equal(t, sortedStrings(cn.s.ID(), "rn"), sortedStrings(remote.Rooms()...))
			assert.Equal(t, "4", remote.Handshake().Query.Get("EIO"))
			assert.NotEmpty(t, remote.Handshake().Headers.Get("Host"))
			ns := nodeFetch(t, n, map[string]any{"to": []string{"rg"}})
			require.Len(t, ns, 1)
			assert.Equal(t, cg.s.ID(), ns[0].ID)
			assert.Equal(t, sortedStrings(cg.s.ID(), "rg"), ns[0].Rooms)
			assert.Equal(t, map[string]any{"node": "g"}, ns[0].Data)
			assert.Equal(t, "4", ns[0].Handshake["query"].(map[string]any)["EIO"])
			assert.NotZero(t, ns[0].Handshake["issued"])

			// Remote socket operations, Go -> Node node.
			require.NoError(t, remote.Emit("remote-emit", 1))
			cn.expect(t, "remote-emit")
			remote.Join("rj")
			pollUntil(t, func() bool { return len(nodeFetch(t, n, map[string]any{"to": []string{"rj"}})) == 1 }, "the remote join")
			remote.Leave("rj")
			pollUntil(t, func() bool { return len(nodeFetch(t, n, map[string]any{"to": []string{"rj"}})) == 0 }, "the remote leave")
			// Node node -> Go node.
			n.call(t, map[string]any{"cmd": "remote", "sel": map[string]any{"to": []string{"rg"}}, "op": "emit", "event": "remote-n"})
			cg.expect(t, "remote-n")
			n.call(t, map[string]any{"cmd": "remote", "sel": map[string]any{"to": []string{"rg"}}, "op": "join", "rooms": []string{"rk"}})
			pollUntil(t, func() bool { return len(g.srv.Of("/").Adapter().Sockets([]string{"rk"})) == 1 }, "the remote join on the Go node")

			// socketsJoin/Leave both ways.
			g.srv.In("rn").SocketsJoin("sj")
			pollUntil(t, func() bool { return len(nodeFetch(t, n, map[string]any{"to": []string{"sj"}, "local": true})) == 1 }, "socketsJoin reached the Node node")
			g.srv.SocketsLeave("sj")
			pollUntil(t, func() bool { return len(nodeFetch(t, n, map[string]any{"to": []string{"sj"}, "local": true})) == 0 }, "socketsLeave reached the Node node")
			n.call(t, map[string]any{"cmd": "socketsJoin", "sel": map[string]any{"to": []string{"rg"}}, "rooms": []string{"sn"}})
			pollUntil(t, func() bool { return len(g.srv.Of("/").Adapter().Sockets([]string{"sn"})) == 1 }, "socketsJoin reached the Go node")
			n.call(t, map[string]any{"cmd": "socketsLeave", "rooms": []string{"sn"}})
			pollUntil(t, func() bool { return len(g.srv.Of("/").Adapter().Sockets([]string{"sn"})) == 0 }, "socketsLeave reached the Go node")

			// serverSideEmit both ways, with and without acks.
			require.NoError(t, g.srv.ServerSideEmit(ctx, "hello", "from-g", 2))
			var hello struct {
				Event string
				Args  []any
			}
			require.NoError(t, json.Unmarshal(n.line(t), &hello))
			assert.Equal(t, "hello", hello.Event)
			assert.Equal(t, []any{"from-g", 2.0}, hello.Args)
			n.call(t, map[string]any{"cmd": "sse", "event": "hello-n", "args": []any{"from-n", map[string]any{"k": true}}})
			select {
			case e := <-g.sse:
				assert.Equal(t, "hello-n", e.Name)
				var (
					s string
					o map[string]bool
				)
				require.NoError(t, e.Args.Decode(&s, &o))
				assert.Equal(t, "from-n", s)
				assert.True(t, o["k"])
			case <-time.After(redisWait):
				t.Fatal("the Node node's server-side event did not reach the Go node")
			}
			sse, err := g.srv.Of("/").ServerSideEmitWithAck(ctx, "ping")
			require.NoError(t, err)
			assert.Equal(t, []string{"n"}, sortedArgs(t, sse))
			require.NoError(t, json.Unmarshal(n.call(t, map[string]any{"cmd": "sseAck", "event": "ping"}), &ar))
			assert.Nil(t, ar.Error)
			assert.Equal(t, []string{"g"}, ar.Replies)

			// disconnectSockets both ways.
			gone := make(chan string, 2)
			cn.s.OnDisconnect(func(r sio.Reason) { gone <- "n:" + string(r) })
			cg.s.OnDisconnect(func(r sio.Reason) { gone <- "g:" + string(r) })
			g.srv.In("rn").DisconnectSockets(false)
			n.call(t, map[string]any{"cmd": "disconnectSockets", "sel": map[string]any{"to": []string{"rg"}}})
			var reasons []string
			for range 2 {
				select {
				case r := <-gone:
					reasons = append(reasons, r)
				case <-time.After(redisWait):
					t.Fatal("disconnectSockets did not reach every node")
				}
			}
			assert.Equal(t, []string{"g:io server disconnect", "n:io server disconnect"}, sortedStrings(reasons...))
		})
	}
}

// waitChannel waits, in sharded dynamic mode, until a room's channel has a
// subscriber (the official adapter subscribes asynchronously).
func waitChannel(t *testing.T, rs *redistest.Server, adapter, room string) {
	if adapter != "sharded" {
		return
	}
	rc := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
	defer rc.Close()
	ch := "socket.io#/#" + room + "#"
	pollUntil(t, func() bool {
		n, err := rc.PubSubShardNumSub(context.Background(), ch).Result()
		return err == nil && n[ch] >= 1
	}, "the channel of room "+room+" is subscribed")
}

// TestEmitterInterop: the Go emitter reaches the clients of a Node.js node
// on the official adapter, and the official @socket.io/redis-emitter
// reaches the clients of a Go node: to all, to a room, except a room,
// binary, socketsJoin, serverSideEmit, disconnectSockets.
func TestEmitterInterop(t *testing.T) {
	rs := redistest.Start(t)
	n, nurl := nodeServer(t, rs, "n", "classic")
	g := startGoNode(t, "g", interopModes[0].factory, rs)
	pollUntil(t, func() bool {
		c, err := g.srv.Of("/").Adapter().ServerCount(context.Background())
		return err == nil && c == 2
	}, "the Go node counts 2 nodes")
	cg, cn := dialRecorder(t, g.url), dialRecorder(t, nurl)
	cg.join(t, "r")
	cn.join(t, "r")
	ctx, cancel := context.WithTimeout(context.Background(), redisWait)
	defer cancel()

	rc := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
	defer rc.Close()
	goEm := redisemitter.New(rc, nil)
	official, first := startNodeScript(t, "redis-emit.js", "REDIS_URL="+rs.URL())
	require.Contains(t, string(first), "ready")

	// Go emitter -> both nodes (the Node node's client proves interop).
	require.NoError(t, goEm.Emit(ctx, "go-em", "x", []byte{5}))
	require.NoError(t, goEm.To("r").Except(cg.s.ID()).Emit(ctx, "go-room"))
	require.NoError(t, goEm.Emit(ctx, "mark"))
	e := cn.expect(t, "go-em", "go-room", "mark")[0]
	var (
		s string
		b []byte
	)
	require.NoError(t, e.Args.Decode(&s, &b))
	assert.Equal(t, "x", s)
	assert.Equal(t, []byte{5}, b)
	cg.expect(t, "go-em", "mark")

	// The official emitter -> both nodes (the Go node's client proves interop).
	official.call(t, map[string]any{"event": "off-em", "args": []any{"y", map[string]any{"$bin": "0607"}}})
	official.call(t, map[string]any{"to": []string{"r"}, "except": []string{cn.s.ID()}, "event": "off-room"})
	official.call(t, map[string]any{"event": "mark"})
	e = cg.expect(t, "off-em", "off-room", "mark")[0]
	require.NoError(t, e.Args.Decode(&s, &b))
	assert.Equal(t, "y", s)
	assert.Equal(t, []byte{6, 7}, b)
	cn.expect(t, "off-em", "mark")

	// socketsJoin from both emitters reaches both nodes.
	require.NoError(t, goEm.In("r").SocketsJoin(ctx, "from-go"))
	official.call(t, map[string]any{"op": "join", "to": []string{"r"}, "rooms": []string{"from-node"}})
	pollUntil(t, func() bool {
		return len(g.srv.Of("/").Adapter().Sockets([]string{"from-go"})) == 1 &&
			len(g.srv.Of("/").Adapter().Sockets([]string{"from-node"})) == 1 &&
			len(nodeFetch(t, n, map[string]any{"to": []string{"from-go"}, "local": true})) == 1 &&
			len(nodeFetch(t, n, map[string]any{"to": []string{"from-node"}, "local": true})) == 1
	}, "both emitters' socketsJoin reached both nodes")

	// serverSideEmit of the official emitter reaches the Go node.
	official.call(t, map[string]any{"op": "sse", "event": "em-sse", "args": []any{1}})
	select {
	case e := <-g.sse:
		assert.Equal(t, "em-sse", e.Name)
	case <-time.After(redisWait):
		t.Fatal("the official emitter's server-side event did not reach the Go node")
	}
	require.NoError(t, goEm.ServerSideEmit(ctx, "hello", "go-emitter"))
	var hello struct {
		Event string
		Args  []any
	}
	require.NoError(t, json.Unmarshal(n.line(t), &hello))
	assert.Equal(t, []any{"go-emitter"}, hello.Args)

	// disconnectSockets of the official emitter on the Go node, of the Go
	// emitter on the Node node.
	gone := make(chan string, 2)
	cg.s.OnDisconnect(func(r sio.Reason) { gone <- "g" })
	cn.s.OnDisconnect(func(r sio.Reason) { gone <- "n" })
	official.call(t, map[string]any{"op": "disconnect", "to": []string{cg.s.ID()}})
	require.NoError(t, goEm.To(cn.s.ID()).DisconnectSockets(ctx, true))
	var who []string
	for range 2 {
		select {
		case w := <-gone:
			who = append(who, w)
		case <-time.After(redisWait):
			t.Fatal("disconnectSockets from an emitter did not arrive")
		}
	}
	assert.Equal(t, []string{"g", "n"}, sortedStrings(who...))
}
