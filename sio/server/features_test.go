//go:build !js

package server

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/sio/parser"
)

func TestDynamicNamespaces(t *testing.T) {
	ts := newTestServer(t, &Options{CleanupEmptyChildNamespaces: true})
	parent := ts.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	parent.Use(func(s *Socket) error {
		if strings.Contains(string(s.Handshake().Auth), "deny") {
			return errors.New("denied")
		}
		return nil
	})
	got := make(chan *Socket, 4)
	parent.OnConnection(func(s *Socket) {
		withSync(s)
		got <- s
	})

	c1 := dial(t, ts, "websocket", nil)
	c1.connect("/dyn-1", "")
	s1 := testutil.Recv(t, got)
	assert.Equal(t, "/dyn-1", s1.Namespace().Name())
	c2 := dial(t, ts, "polling", nil)
	c2.connect("/dyn-22", "")
	s2 := testutil.Recv(t, got)
	assert.Equal(t, "/dyn-22", s2.Namespace().Name())
	assert.Same(t, s1.Namespace(), ts.Of("/dyn-1"), "the child is a namespace of the server")

	// Children get the parent's middlewares.
	c2.sendConnect("/dyn-3", `{"deny":true}`)
	assert.Equal(t, `44/dyn-3,{"message":"denied"}`, c2.nextText())
	// A name no parent matches is refused.
	c1.sendConnect("/dyn-x", "")
	assert.Equal(t, `44/dyn-x,{"message":"Invalid namespace"}`, c1.nextText())

	// Broadcasting on the parent reaches every child.
	require.NoError(t, parent.Emit("hello", 1))
	assert.Equal(t, `42/dyn-1,["hello",1]`, c1.nextText())
	assert.Equal(t, `42/dyn-22,["hello",1]`, c2.nextText())
	s2.Join("r")
	require.NoError(t, parent.To("r").Emit("room"))
	assert.Equal(t, `42/dyn-22,["room"]`, c2.nextText())
	c1.syncNone("/dyn-1")
	assert.Equal(t, 2, len(mustFetch(t, parent.op())))

	// An empty child is removed.
	c1.sendRaw("41/dyn-1,")
	testutil.Eventually(t, "the empty child to be removed", func() bool { return ts.namespace("/dyn-1") == nil })
	assert.NotNil(t, ts.namespace("/dyn-22"))
	// and created again when a client comes back.
	c1.connect("/dyn-1", "")
	s1b := testutil.Recv(t, got)
	assert.NotSame(t, s1.Namespace(), s1b.Namespace())
}

func mustFetch(t *testing.T, b *BroadcastOperator) []RemoteSocket {
	t.Helper()
	rs, err := b.FetchSockets(context.Background())
	require.NoError(t, err)
	return rs
}

func TestDynamicNamespaceFunc(t *testing.T) {
	ts := newTestServer(t, nil)
	parent := ts.OfFunc(func(name string, auth json.RawMessage) bool {
		var a struct {
			Allow bool `json:"allow"`
		}
		_ = json.Unmarshal(auth, &a)
		return strings.HasPrefix(name, "/team-") && a.Allow
	})
	got := make(chan *Socket, 1)
	parent.OnConnection(func(s *Socket) { got <- s })
	c := dial(t, ts, "websocket", nil)
	c.sendConnect("/team-a", `{"allow":false}`)
	assert.Equal(t, `44/team-a,{"message":"Invalid namespace"}`, c.nextText())
	c.connect("/team-a", `{"allow":true}`)
	assert.Equal(t, "/team-a", testutil.Recv(t, got).Namespace().Name())
	// Without clean-up, the child stays.
	c.sendRaw("41/team-a,")
	c.connect("/team-a", `{"allow":true}`)
	assert.NotNil(t, ts.namespace("/team-a"))
}

func TestPacketMiddlewares(t *testing.T) {
	ts := newTestServer(t, nil)
	var (
		mu    sync.Mutex
		trace []string
	)
	log := func(s string) {
		mu.Lock()
		trace = append(trace, s)
		mu.Unlock()
	}
	errs := make(chan error, 2)
	ts.OnConnection(func(s *Socket) {
		withSync(s)
		s.OnAny(func(e *sio.Event) {
			if e.Name != "sync" {
				log("any:" + e.Name)
			}
		})
		s.Use(func(e *sio.Event) error {
			if e.Name == "sync" {
				return nil
			}
			log("mw1:" + e.Name)
			if e.Name == "forbidden" {
				return errTest
			}
			if e.Name == "rewrite" {
				e.Args = e.Args[1:]
			}
			return nil
		})
		s.Use(func(e *sio.Event) error {
			if e.Name != "sync" {
				log("mw2:" + e.Name)
			}
			return nil
		})
		s.OnError(func(err error) { errs <- err })
		s.On("forbidden", func(e *sio.Event) { log("handler:forbidden") })
		s.On("rewrite", func(e *sio.Event) {
			var v string
			_ = e.Args.Decode(&v)
			log("handler:rewrite:" + v)
		})
	})
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	c.emit("/", -1, "forbidden")
	assert.ErrorIs(t, testutil.Recv(t, errs), errTest)
	c.emit("/", -1, "rewrite", "dropped", "kept")
	c.syncNone("/")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"any:forbidden", "mw1:forbidden",
		"any:rewrite", "mw1:rewrite", "mw2:rewrite", "handler:rewrite:kept",
	}, trace)
}

func TestCatchAllHandlers(t *testing.T) {
	ts := newTestServer(t, nil)
	var (
		mu    sync.Mutex
		trace []string
	)
	log := func(s string) {
		mu.Lock()
		trace = append(trace, s)
		mu.Unlock()
	}
	snapshot := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(trace)
		trace = nil
		return out
	}
	got := make(chan *Socket, 1)
	removers := make(chan func(), 2)
	ts.OnConnection(func(s *Socket) {
		withSync(s)
		removers <- s.OnAny(func(e *sio.Event) { log("a:" + e.Name) })
		s.PrependAny(func(e *sio.Event) { log("first:" + e.Name) })
		s.OnAny(func(e *sio.Event) { log("b:" + e.Name) })
		removers <- s.OnAnyOutgoing(func(e *sio.Event) {
			var v string
			_ = e.Args.Decode(&v)
			log("out:" + e.Name + ":" + v)
		})
		s.PrependAnyOutgoing(func(e *sio.Event) { log("out-first:" + e.Name) })
		s.On("ev", func(e *sio.Event) { log("handler") })
		got <- s
	})
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	s := testutil.Recv(t, got)
	removeA, removeOut := testutil.Recv(t, removers), testutil.Recv(t, removers)
	c.emit("/", -1, "ev")
	c.sync("/")
	assert.Equal(t, []string{"first:ev", "a:ev", "b:ev", "handler", "first:sync", "a:sync", "b:sync"}, snapshot())

	removeA()
	c.emit("/", -1, "ev")
	c.sync("/")
	assert.Equal(t, []string{"first:ev", "b:ev", "handler", "first:sync", "b:sync"}, snapshot())
	s.OffAny()
	c.emit("/", -1, "ev")
	c.sync("/")
	assert.Equal(t, []string{"handler"}, snapshot())

	// Outgoing: emitted and broadcast events, not acknowledgements.
	require.NoError(t, s.Emit("direct", "d"))
	require.NoError(t, ts.Emit("broadcast", "b"))
	c.expectEvent("/", "direct")
	c.expectEvent("/", "broadcast")
	assert.Equal(t, []string{"out-first:direct", "out:direct:d", "out-first:broadcast", "out:broadcast:b"}, snapshot())
	removeOut()
	require.NoError(t, s.Emit("direct", "d"))
	c.expectEvent("/", "direct")
	assert.Equal(t, []string{"out-first:direct"}, snapshot())
	s.OffAnyOutgoing()
	require.NoError(t, s.Emit("direct", "d"))
	c.expectEvent("/", "direct")
	assert.Empty(t, snapshot())
}

func TestVolatile(t *testing.T) {
	ts := newTestServer(t, nil)
	got := sockets(ts.Of("/"))
	c := dial(t, ts, "polling", &dialOptions{manualPoll: true})
	c.sendConnect("/", "")
	c.poll()
	c.expectConnect("/")
	s := testutil.Recv(t, got)

	// No GET pending: volatile packets are dropped, others wait.
	require.NoError(t, ts.Volatile().Emit("v1"))
	require.NoError(t, s.Volatile().Emit("v2"))
	require.NoError(t, ts.Emit("n1"))
	c.poll()
	assert.Equal(t, `42["n1"]`, c.nextText())

	// A GET pending: a volatile packet goes out. Those emitted before the
	// GET is held are dropped.
	polled := make(chan error, 1)
	go func() { polled <- c.pollOnce() }()
	testutil.Eventually(t, "a volatile packet to go out on the GET", func() bool {
		require.NoError(t, ts.Volatile().Emit("v3"))
		select {
		case err := <-polled:
			require.NoError(t, err)
			return true
		default:
			return false
		}
	})
	assert.Equal(t, `42["v3"]`, c.nextText())
}

func TestBroadcastFlags(t *testing.T) {
	var (
		mu   sync.Mutex
		opts []BroadcastOptions
	)
	ts := newTestServer(t, &Options{Adapter: func(n *Namespace) Adapter {
		return &flagAdapter{MemoryAdapter: NewMemoryAdapter(n), record: func(o BroadcastOptions) {
			mu.Lock()
			opts = append(opts, o)
			mu.Unlock()
		}}
	}})
	sockets(ts.Of("/"))
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	require.NoError(t, ts.Compress(false).Local().Emit("a"))
	require.NoError(t, ts.Local().Compress(true).To("r").Except("x").Emit("b"))
	c.expectEvent("/", "a")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, opts, 2)
	assert.Equal(t, BroadcastOptions{Local: true}, opts[0])
	assert.Equal(t, BroadcastOptions{Local: true, Compress: true, Rooms: []Room{"r"}, Except: []Room{"x"}}, opts[1])
}

type flagAdapter struct {
	*MemoryAdapter
	record func(BroadcastOptions)
}

func (a *flagAdapter) Broadcast(p *parser.Packet, opts *BroadcastOptions) error {
	a.record(*opts)
	return a.MemoryAdapter.Broadcast(p, opts)
}

func TestBroadcastEmitWithAck(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		got := sockets(ts.Of("/"))
		var (
			cs []*tclient
			ss []*Socket
		)
		for range 3 {
			c := dial(t, ts, tr, nil)
			c.connect("/", "")
			cs = append(cs, c)
			ss = append(ss, testutil.Recv(t, got))
		}
		type result struct {
			replies []sio.Args
			err     error
		}
		res := make(chan result, 1)
		answer := func(clients []*tclient) {
			t.Helper()
			for i, c := range clients {
				p, _ := c.expectEvent("/", "poll")
				require.True(t, p.HasID)
				c.ack("/", p.ID, i)
			}
		}

		// Everyone answers.
		go func() {
			r, err := ts.Timeout(waitFor).EmitWithAck(context.Background(), "poll")
			res <- result{r, err}
		}()
		answer(cs)
		r := testutil.Recv(t, res)
		require.NoError(t, r.err)
		assert.Len(t, r.replies, 3)

		// One never answers: the others' replies and a timeout.
		go func() {
			r, err := ts.Timeout(100*time.Millisecond).EmitWithAck(context.Background(), "poll")
			res <- result{r, err}
		}()
		answer(cs[:2])
		cs[2].expectEvent("/", "poll")
		r = testutil.Recv(t, res)
		assert.ErrorIs(t, r.err, sio.ErrAckTimeout)
		assert.ErrorIs(t, r.err, ErrPartialAcks)
		var vals []int
		for _, a := range r.replies {
			var v int
			require.NoError(t, a.Decode(&v))
			vals = append(vals, v)
		}
		assert.ElementsMatch(t, []int{0, 1}, vals)
		testutil.Eventually(t, "the pending ack to be forgotten", func() bool {
			ss[2].mu.Lock()
			defer ss[2].mu.Unlock()
			return len(ss[2].acks) == 0
		})

		// A room, with the context as the bound.
		ss[1].Join("r")
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			r, err := ts.To("r").EmitWithAck(ctx, "poll")
			res <- result{r, err}
		}()
		answer(cs[1:2])
		r = testutil.Recv(t, res)
		require.NoError(t, r.err)
		assert.Len(t, r.replies, 1)

		// Nobody to ask: no reply, no error.
		r2, err := ts.To("empty").EmitWithAck(context.Background(), "poll")
		assert.NoError(t, err)
		assert.Empty(t, r2)
		for _, c := range cs {
			c.syncNone("/")
		}
	})
}

func TestFetchSockets(t *testing.T) {
	ts := newTestServer(t, nil)
	got := sockets(ts.Of("/"))
	var (
		cs []*tclient
		ss []*Socket
	)
	for i := range 3 {
		c := dial(t, ts, "websocket", nil)
		c.connect("/", `{"n":`+string(rune('0'+i))+`}`)
		cs = append(cs, c)
		ss = append(ss, testutil.Recv(t, got))
	}
	ss[0].Join("a")
	ss[1].Join("a", "b")
	ss[0].SetData(map[string]int{"score": 7})

	all := mustFetch(t, ts.Of("/").op())
	assert.Len(t, all, 3)
	inA := mustFetch(t, ts.In("a").Except("b"))
	require.Len(t, inA, 1)
	rs := inA[0]
	assert.Equal(t, ss[0].ID(), rs.ID())
	assert.JSONEq(t, `{"n":0}`, string(rs.Handshake().Auth))
	assert.ElementsMatch(t, []Room{ss[0].ID(), "a"}, rs.Rooms())
	assert.Equal(t, map[string]int{"score": 7}, rs.Data())

	require.NoError(t, rs.Emit("hi", "there"))
	assert.Equal(t, `42["hi","there"]`, cs[0].nextText())
	rs.Join("c")
	rs.Leave("a")
	assert.ElementsMatch(t, []Room{ss[0].ID(), "c"}, ss[0].Rooms())
	rs.Disconnect()
	assert.Equal(t, "41", cs[0].nextText())
	assert.Len(t, mustFetch(t, ts.Of("/").op()), 2)

	ns, err := ts.Of("/").FetchSockets(context.Background())
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{ss[1].ID(), ss[2].ID()}, []string{ns[0].ID(), ns[1].ID()})
}

func TestSocketsJoinLeaveDisconnect(t *testing.T) {
	ts := newTestServer(t, nil)
	got := sockets(ts.Of("/"))
	var (
		cs []*tclient
		ss []*Socket
	)
	for range 3 {
		c := dial(t, ts, "websocket", nil)
		c.connect("/", "")
		cs = append(cs, c)
		ss = append(ss, testutil.Recv(t, got))
	}
	ss[0].Join("a")
	ss[1].Join("a")
	ts.In("a").Except(ss[1].ID()).SocketsJoin("b", "c")
	assert.ElementsMatch(t, []Room{ss[0].ID(), "a", "b", "c"}, ss[0].Rooms())
	assert.ElementsMatch(t, []Room{ss[1].ID(), "a"}, ss[1].Rooms())
	ts.Of("/").SocketsJoin("all")
	for _, s := range ss {
		assert.Contains(t, s.Rooms(), "all")
	}
	ts.In("b").SocketsLeave("c", "all")
	assert.ElementsMatch(t, []Room{ss[0].ID(), "a", "b"}, ss[0].Rooms())
	ts.Except("a").SocketsLeave("all")
	assert.NotContains(t, ss[2].Rooms(), "all")
	assert.Contains(t, ss[1].Rooms(), "all")

	ts.In("a").Except("b").DisconnectSockets(false)
	assert.Equal(t, "41", cs[1].nextText())
	cs[0].syncNone("/")
	assert.True(t, ss[0].Connected())
	assert.False(t, ss[1].Connected())

	ts.Of("/").DisconnectSockets(true)
	for _, i := range []int{0, 2} {
		var texts []string
		for _, f := range cs[i].expectClosed() {
			texts = append(texts, string(f.Data))
		}
		assert.Contains(t, texts, "1")
	}
	testutil.Eventually(t, "the sockets to leave", func() bool { return ts.Of("/").SocketsCount() == 0 })
}

func TestAdapterEvents(t *testing.T) {
	var (
		mu  sync.Mutex
		evs []AdapterEvent
	)
	ts := newTestServer(t, &Options{Adapter: func(n *Namespace) Adapter {
		a := NewMemoryAdapter(n)
		a.OnEvent = func(e AdapterEvent) {
			mu.Lock()
			evs = append(evs, e)
			mu.Unlock()
		}
		return a
	}})
	take := func() []AdapterEvent {
		mu.Lock()
		defer mu.Unlock()
		out := evs
		evs = nil
		return out
	}
	got := sockets(ts.Of("/"))
	c1 := dial(t, ts, "websocket", nil)
	id1 := c1.connect("/", "")
	s1 := testutil.Recv(t, got)
	assert.Equal(t, []AdapterEvent{{Kind: "create-room", Room: id1}, {Kind: "join-room", Room: id1, ID: id1}}, take())
	c2 := dial(t, ts, "websocket", nil)
	id2 := c2.connect("/", "")
	s2 := testutil.Recv(t, got)
	take()

	s1.Join("r")
	assert.Equal(t, []AdapterEvent{{Kind: "create-room", Room: "r"}, {Kind: "join-room", Room: "r", ID: id1}}, take())
	s2.Join("r")
	s2.Join("r") // already in it: nothing
	assert.Equal(t, []AdapterEvent{{Kind: "join-room", Room: "r", ID: id2}}, take())
	s1.Leave("r")
	assert.Equal(t, []AdapterEvent{{Kind: "leave-room", Room: "r", ID: id1}}, take())
	s2.Leave("r")
	assert.Equal(t, []AdapterEvent{{Kind: "leave-room", Room: "r", ID: id2}, {Kind: "delete-room", Room: "r"}}, take())

	c1.sendRaw("41")
	testutil.Eventually(t, "the socket to leave its room", func() bool { return !slices.Contains(ts.Of("/").Adapter().Rooms(), id1) })
	assert.Equal(t, []AdapterEvent{{Kind: "leave-room", Room: id1, ID: id1}, {Kind: "delete-room", Room: id1}}, take())
}

func TestServerSideEmit(t *testing.T) {
	ts := newTestServer(t, nil)
	assert.NoError(t, ts.Of("/").ServerSideEmit(context.Background(), "hello", 1))
	assert.ErrorIs(t, ts.Of("/").ServerSideEmit(context.Background(), "connection"), sio.ErrReservedEvent)
	n, err := ts.Of("/").Adapter().ServerCount(context.Background())
	assert.NoError(t, err)
	assert.Equal(t, 1, n)
}
