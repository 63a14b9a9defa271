//go:build !js

package redisadapter_test

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/redistest"
)

// cluster is two Go nodes, a and b, with two clients on a and one on b.
type testCluster struct {
	m          mode
	rs         *redistest.Server
	a, b       *node
	a1, a2, b1 *tclient
}

func startCluster(t *testing.T, m mode, rs *redistest.Server) *testCluster {
	c := &testCluster{m: m, rs: rs, a: startNode(t, "a", m, rs), b: startNode(t, "b", m, rs)}
	waitNodes(t, c.a, 2)
	waitNodes(t, c.b, 2)
	c.a1, c.a2, c.b1 = dial(t, c.a.url), dial(t, c.a.url), dial(t, c.b.url)
	return c
}

// mark broadcasts a marker from a (or from) to every client: what a client
// gets from that node before the marker is all it got.
func (c *testCluster) mark(t *testing.T, from ...*node) {
	n := c.a
	if len(from) > 0 {
		n = from[0]
	}
	require.NoError(t, n.srv.Emit("mark"))
}

// joinRoom makes cl join room through its node and waits until every node
// would route a broadcast to it (dynamic sharded channels are subscribed
// asynchronously).
func (c *testCluster) joinRoom(t *testing.T, cl *tclient, room string) {
	cl.emitAck(t, "join", room)
	waitRoom(t, c.a, room)
	if c.m.name == "sharded-dynamic" || c.m.name == "sharded-dynamic-private" {
		rc := newClient(t, c.rs)
		poll(t, func() bool {
			n, err := rc.PubSubShardNumSub(ctxT(t), "socket.io#/#"+room+"#").Result()
			return err == nil && n["socket.io#/#"+room+"#"] >= 1
		}, "the channel of room %s is subscribed", room)
	}
}

func TestBroadcast(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, rs *redistest.Server) {
		c := startCluster(t, m, rs)

		// Every client, binary included.
		require.NoError(t, c.a.srv.Emit("all", "x", []byte{1, 2, 3}, map[string]any{"n": 1.5}))
		for _, cl := range []*tclient{c.a1, c.a2, c.b1} {
			e := cl.expect(t, "all")[0]
			var (
				s string
				b []byte
				o map[string]float64
			)
			require.NoError(t, e.Args.Decode(&s, &b, &o))
			assert.Equal(t, "x", s)
			assert.Equal(t, []byte{1, 2, 3}, b)
			assert.Equal(t, 1.5, o["n"])
		}

		// To a room that only b1 is in, from a; In is the same.
		c.joinRoom(t, c.b1, "r1")
		require.NoError(t, c.a.srv.To("r1").Emit("room"))
		require.NoError(t, c.a.srv.In("r1", "nobody").Emit("room2"))
		c.mark(t)
		c.a1.expect(t, "mark")
		c.a2.expect(t, "mark")
		c.b1.expect(t, "room", "room2", "mark")

		// Except a room, and to a socket's own room across nodes.
		c.joinRoom(t, c.a2, "r2")
		require.NoError(t, c.b.srv.Except("r2").Emit("except"))
		require.NoError(t, c.b.srv.To(c.a1.s.ID()).Emit("direct"))
		c.mark(t, c.b)
		c.a1.expect(t, "except", "direct", "mark")
		c.a2.expect(t, "mark")
		c.b1.expect(t, "except", "mark")

		// Local stays on the node.
		require.NoError(t, c.b.srv.Local().Emit("local"))
		c.mark(t, c.b)
		c.a1.expect(t, "mark")
		c.a2.expect(t, "mark")
		c.b1.expect(t, "local", "mark")

		// From a socket to everyone else (except itself, through its room).
		c.a1.emitAck(t, "broadcast", "hi")
		c.mark(t)
		c.a1.expect(t, "mark")
		c.a2.expect(t, "msg", "mark")
		c.b1.expect(t, "msg", "mark")

		// Volatile and compress pass. A volatile packet is dropped while
		// the transport is busy (as upstream), so send until one arrives.
		deadline := time.Now().Add(waitFor)
		for got := false; !got; {
			require.NoError(t, c.a.srv.Volatile().Compress(true).Emit("v"))
			select {
			case e := <-c.b1.events:
				require.Equal(t, "v", e.Name)
				got = true
			case <-time.After(100 * time.Millisecond):
				require.True(t, time.Now().Before(deadline), "no volatile event reached b1")
			}
		}
	})
}

func TestBroadcastWithAck(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, rs *redistest.Server) {
		c := startCluster(t, m, rs)
		replies, err := c.a.srv.Timeout(5*time.Second).EmitWithAck(ctxT(t), "ack-me")
		require.NoError(t, err)
		assert.Equal(t, sorted(c.a1.s.ID(), c.a2.s.ID(), c.b1.s.ID()), argStrings(t, replies))

		// To a room on the other node only.
		c.joinRoom(t, c.b1, "r")
		replies, err = c.a.srv.To("r").Timeout(5*time.Second).EmitWithAck(ctxT(t), "ack-me")
		require.NoError(t, err)
		assert.Equal(t, []string{c.b1.s.ID()}, argStrings(t, replies))

		// Without timeout, ends as soon as everything is in.
		replies, err = c.b.srv.Except("r").EmitWithAck(ctxT(t), "ack-me")
		require.NoError(t, err)
		assert.Equal(t, sorted(c.a1.s.ID(), c.a2.s.ID()), argStrings(t, replies))

		// A client that does not answer: the timeout ends it with the others' replies.
		replies, err = c.b.srv.Timeout(300*time.Millisecond).EmitWithAck(ctxT(t), "no-ack")
		require.Error(t, err)
		assert.ErrorIs(t, err, sio.ErrAckTimeout)
		assert.Empty(t, replies)
		for _, cl := range []*tclient{c.a1, c.a2, c.b1} {
			cl.expect(t, "no-ack")
		}
	})
}

func TestFetchSocketsAndRemoteSockets(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, rs *redistest.Server) {
		c := startCluster(t, m, rs)
		c.joinRoom(t, c.b1, "r")
		all, err := c.a.srv.FetchSockets(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, sorted(c.a1.s.ID(), c.a2.s.ID(), c.b1.s.ID()), ids(all))

		inRoom, err := c.a.srv.In("r").FetchSockets(ctxT(t))
		require.NoError(t, err)
		require.Len(t, inRoom, 1)
		rb := inRoom[0]
		assert.Equal(t, c.b1.s.ID(), rb.ID())
		assert.Equal(t, sorted(c.b1.s.ID(), "r"), sorted(rb.Rooms()...))
		assert.Equal(t, map[string]any{"node": "b"}, rb.Data())
		assert.Equal(t, "4", rb.Handshake().Query.Get("EIO"))
		assert.NotZero(t, rb.Handshake().Issued)

		except, err := c.b.srv.Except("r").FetchSockets(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, sorted(c.a1.s.ID(), c.a2.s.ID()), ids(except))

		local, err := c.a.srv.Local().FetchSockets(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, sorted(c.a1.s.ID(), c.a2.s.ID()), ids(local))

		// The remote socket's operations reach it on its node.
		require.NoError(t, rb.Emit("remote", 1))
		rb.Join("joined")
		waitRoom(t, c.a, "joined")
		got, err := c.a.srv.In("joined").FetchSockets(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, []string{c.b1.s.ID()}, ids(got))
		rb.Leave("joined")
		waitNoRoom(t, c.a, "joined")
		c.b1.expect(t, "remote")
		rb.CloseConnection()
		waitFetch(t, c.a, 2)
	})
}

func TestSocketsJoinLeaveDisconnect(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, rs *redistest.Server) {
		c := startCluster(t, m, rs)
		c.joinRoom(t, c.b1, "r")
		c.a.srv.In("r").SocketsJoin("s1", "s2")
		waitRoom(t, c.a, "s2")
		got, err := c.a.srv.In("s1").FetchSockets(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, []string{c.b1.s.ID()}, ids(got))

		c.a.srv.Except("r").SocketsJoin("s3")
		waitRoomSize(t, c.b, "s3", 2)
		c.b.srv.SocketsLeave("s1")
		waitNoRoom(t, c.a, "s1")
		got, err = c.a.srv.In("s2").FetchSockets(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, []string{c.b1.s.ID()}, ids(got))

		c.b.srv.In("s3").DisconnectSockets(false)
		waitFetch(t, c.b, 1)
		got, err = c.b.srv.FetchSockets(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, []string{c.b1.s.ID()}, ids(got))
	})
}

func TestServerSideEmitAndCount(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, rs *redistest.Server) {
		c := startCluster(t, m, rs)
		cn := startNode(t, "c", m, rs)
		waitNodes(t, c.a, 3)
		n, err := c.b.srv.Of("/").Adapter().ServerCount(ctxT(t))
		require.NoError(t, err)
		assert.Equal(t, 3, n)

		got := make(chan sio.Args, 2)
		cn.srv.Of("/").OnServerSideEmit(func(e *sio.Event) {
			if e.Name == "hello" {
				got <- e.Args
			}
		})
		require.NoError(t, c.a.srv.ServerSideEmit(ctxT(t), "hello", "w", 2, []byte{7}))
		select {
		case a := <-got:
			var (
				s string
				i int
			)
			require.NoError(t, a.Decode(&s, &i))
			assert.Equal(t, "w", s)
			assert.Equal(t, 2, i)
		case <-time.After(waitFor):
			t.Fatal("the server-side event did not arrive")
		}

		replies, err := c.a.srv.Of("/").ServerSideEmitWithAck(ctxT(t), "ping")
		require.NoError(t, err)
		assert.Equal(t, []string{"b", "c"}, argStrings(t, replies))
	})
}

// TestDeadNode: a node that is subscribed but never answers (hung) makes
// requests end with a timeout error, never a hang; once it is gone for
// good (its connection closed), requests complete without it.
func TestDeadNode(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, rs *redistest.Server) {
		c := startCluster(t, m, rs)
		// A hung node: subscribed like a node, answering nothing.
		hung := newClient(t, rs)
		var ps *goredis.PubSub
		if m.sharded {
			ps = hung.SSubscribe(ctxT(t), "socket.io#/#")
		} else {
			ps = hung.Subscribe(ctxT(t), "socket.io-request#/#")
		}
		defer ps.Close()
		waitNodes(t, c.a, 3)

		start := time.Now()
		_, err := c.a.srv.Of("/").ServerSideEmitWithAck(ctxT(t), "ping")
		require.Error(t, err)
		assert.ErrorIs(t, err, sio.ErrAckTimeout)
		_, err = c.a.srv.FetchSockets(ctxT(t))
		require.Error(t, err)
		assert.ErrorIs(t, err, sio.ErrAckTimeout)
		// A broadcast with acks and no timeout ends too: the hung node
		// counts as one that reached nobody once the request timeout passed.
		replies, err := c.a.srv.Of("/").EmitWithAck(ctxT(t), "ack-me")
		require.NoError(t, err)
		assert.Len(t, replies, 3)
		assert.Less(t, time.Since(start), waitFor)

		// Gone: its connection closes.
		require.NoError(t, ps.Close())
		waitNodes(t, c.a, 2)
		replies, err = c.a.srv.Of("/").ServerSideEmitWithAck(ctxT(t), "ping")
		require.NoError(t, err)
		assert.Equal(t, []string{"b"}, argStrings(t, replies))
	})
}

// TestRedisRestart: after redis-server restarts on the same port, the
// adapters subscribe again and broadcasts resume.
func TestRedisRestart(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, rs *redistest.Server) {
		c := startCluster(t, m, rs)
		rs.Restart(t)
		waitNodes(t, c.a, 2)
		waitNodes(t, c.b, 2)
		// Until the publisher's connection is back, messages may be lost:
		// broadcast until one arrives.
		deadline := time.Now().Add(waitFor)
		for {
			require.NoError(t, c.a.srv.Emit("after"))
			select {
			case e := <-c.b1.events:
				require.Equal(t, "after", e.Name)
			case <-time.After(200 * time.Millisecond): // polling: the lost ones do not come
				if time.Now().Before(deadline) {
					continue
				}
				t.Fatal("broadcasts did not resume after the restart")
			}
			break
		}
		replies, err := c.a.srv.Of("/").ServerSideEmitWithAck(ctxT(t), "ping")
		require.NoError(t, err)
		assert.Equal(t, []string{"b"}, argStrings(t, replies))
	})
}

// waitRoom waits until a FetchSockets from n finds someone in room.
func waitRoom(t *testing.T, n *node, room string) { waitRoomSize(t, n, room, 1) }

func waitRoomSize(t *testing.T, n *node, room string, size int) {
	t.Helper()
	poll(t, func() bool {
		ss, err := n.srv.In(room).FetchSockets(ctxT(t))
		return err == nil && len(ss) >= size
	}, "room %s has %d sockets", room, size)
}

func waitNoRoom(t *testing.T, n *node, room string) {
	t.Helper()
	poll(t, func() bool {
		ss, err := n.srv.In(room).FetchSockets(ctxT(t))
		return err == nil && len(ss) == 0
	}, "room %s is empty", room)
}

func waitFetch(t *testing.T, n *node, size int) {
	t.Helper()
	poll(t, func() bool {
		ss, err := n.srv.FetchSockets(ctxT(t))
		return err == nil && len(ss) == size
	}, "%d sockets", size)
}

func poll(t *testing.T, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until "+what, args...)
		}
		time.Sleep(10 * time.Millisecond) // polling the cluster's state
	}
}
