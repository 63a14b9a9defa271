//go:build !js

package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/sio/parser"
)

var transports = []string{"polling", "websocket"}

// forTransports runs fn once per transport.
func forTransports(t *testing.T, fn func(t *testing.T, transport string)) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { fn(t, tr) })
	}
}

// sockets collects the sockets connecting to a namespace.
func sockets(n *Namespace) <-chan *Socket {
	ch := make(chan *Socket, 16)
	n.OnConnection(func(s *Socket) {
		withSync(s)
		ch <- s
	})
	return ch
}

func TestNamespaces(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		root, x := sockets(ts.Of("/")), sockets(ts.Of("x"))
		ts.Of("/").OnConnection(func(s *Socket) {
			s.On("hello", func(e *sio.Event) { _ = s.Emit("hi", "root") })
		})
		ts.Of("/x").OnConnection(func(s *Socket) {
			s.On("hello", func(e *sio.Event) { _ = s.Emit("hi", "x") })
		})
		c := dial(t, ts, tr, nil)
		rootID := c.connect("/", "")
		xID := c.connect("/x", "")
		assert.NotEqual(t, rootID, xID)
		assert.NotEqual(t, c.sid, rootID, "the socket id is not the Engine.IO id")
		sr, sx := testutil.Recv(t, root), testutil.Recv(t, x)
		assert.Equal(t, rootID, sr.ID())
		assert.Equal(t, xID, sx.ID())
		assert.Equal(t, "/x", sx.Namespace().Name())

		c.emit("/x", -1, "hello")
		_, args := c.expectEvent("/x", "hi")
		assert.JSONEq(t, `"x"`, string(args.Raw(0)))
		c.emit("/", -1, "hello")
		_, args = c.expectEvent("/", "hi")
		assert.JSONEq(t, `"root"`, string(args.Raw(0)))

		// An undeclared namespace is refused, with upstream's exact bytes.
		c.sendConnect("/nope", "")
		assert.Equal(t, `44/nope,{"message":"Invalid namespace"}`, c.nextText())

		// Leaving /x keeps / working.
		c.sendRaw("41/x,")
		testutil.Eventually(t, "the /x socket to leave", func() bool { return ts.Of("/x").SocketsCount() == 0 })
		assert.False(t, sx.Connected())
		assert.True(t, sr.Connected())
		c.emit("/", -1, "hello")
		_, args = c.expectEvent("/", "hi")
		assert.JSONEq(t, `"root"`, string(args.Raw(0)))
		assert.Equal(t, 1, ts.Of("/").SocketsCount())

		// Joining /x again gives a new socket.
		xID2 := c.connect("/x", "")
		assert.NotEqual(t, xID, xID2)
	})
}

func TestPacketForUnjoinedNamespaceClosesConnection(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.Of("/x")
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	c.emit("/x", -1, "hello") // not joined: invalid state, as upstream
	c.expectClosed()
}

func TestMiddlewaresRunInOrder(t *testing.T) {
	ts := newTestServer(t, nil)
	var (
		mu    sync.Mutex
		order []string
	)
	record := func(name string) Middleware {
		return func(s *Socket) error {
			assert.False(t, s.Connected(), "a middleware runs before the socket is connected")
			mu.Lock()
			order = append(order, name+":"+s.Namespace().Name())
			mu.Unlock()
			return nil
		}
	}
	ts.Use(record("a"))
	ts.Use(record("b"))
	ts.Of("/x").Use(record("x1"))
	ts.Use(record("c"))
	ts.Of("/x").Use(record("x2"))
	got := sockets(ts.Of("/"))
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	c.connect("/x", "")
	testutil.Recv(t, got)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"a:/", "b:/", "c:/", "x1:/x", "x2:/x"}, order)
}

func TestMiddlewareRefusal(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		var laterRan bool
		check := func(s *Socket) error {
			var auth struct {
				Token string `json:"token"`
			}
			_ = s.Handshake().DecodeAuth(&auth)
			switch auth.Token {
			case "reject":
				return &ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "bad token"}}
			case "plain":
				return errors.New("boom")
			}
			return nil
		}
		ts.Use(check)
		ts.Use(func(s *Socket) error { laterRan = true; return nil })
		ts.Of("/x").Use(check)

		c := dial(t, ts, tr, nil)
		c.sendConnect("/", `{"token":"reject"}`)
		assert.Equal(t, `44{"message":"unauthorized","data":{"reason":"bad token"}}`, c.nextText())
		c.sendConnect("/", `{"token":"plain"}`)
		assert.Equal(t, `44{"message":"boom"}`, c.nextText())
		c.sendConnect("/x", `{"token":"reject"}`)
		assert.Equal(t, `44/x,{"message":"unauthorized","data":{"reason":"bad token"}}`, c.nextText())
		assert.False(t, laterRan, "middlewares after a refusal do not run")
		assert.Equal(t, 0, ts.Of("/").SocketsCount())

		// The connection is still usable.
		c.connect("/", `{"token":"ok"}`)
		assert.Equal(t, 1, ts.Of("/").SocketsCount())
	})
}

func TestHandshake(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		got := sockets(ts.Of("/"))
		before := time.Now()
		h := http.Header{}
		h.Set("X-Test", "yes")
		h.Set("Origin", "http://example.com")
		c := dial(t, ts, tr, &dialOptions{query: url.Values{"foo": {"bar"}}, header: h})
		c.connect("/", `{"token":"abc","n":1}`)
		s := testutil.Recv(t, got)
		hs := s.Handshake()
		assert.Equal(t, "yes", hs.Headers.Get("X-Test"))
		assert.Equal(t, "bar", hs.Query.Get("foo"))
		assert.Equal(t, "4", hs.Query.Get("EIO"))
		assert.JSONEq(t, `{"token":"abc","n":1}`, string(hs.Auth))
		var auth struct {
			Token string `json:"token"`
		}
		require.NoError(t, hs.DecodeAuth(&auth))
		assert.Equal(t, "abc", auth.Token)
		assert.Equal(t, "127.0.0.1", hs.Address)
		assert.True(t, hs.XDomain)
		assert.False(t, hs.Secure)
		assert.True(t, strings.HasPrefix(hs.URL, "/socket.io/?"), hs.URL)
		assert.Contains(t, hs.URL, "foo=bar")
		assert.GreaterOrEqual(t, hs.Issued, before.UnixMilli())
		assert.LessOrEqual(t, hs.Issued, time.Now().UnixMilli())
		assert.Equal(t, hs.Issued, hs.Time.UnixMilli())
		assert.Equal(t, tr, s.Transport())
		assert.Equal(t, c.sid, s.ConnID())
	})
}

func TestHandshakeDefaultAuth(t *testing.T) {
	ts := newTestServer(t, nil)
	got := sockets(ts.Of("/"))
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	assert.Equal(t, "{}", string(testutil.Recv(t, got).Handshake().Auth))
}

func TestEventAndAck(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		errs := make(chan error, 4)
		ts.OnConnection(func(s *Socket) {
			s.On("add", func(e *sio.Event) {
				var a, b int
				if err := e.Args.Decode(&a, &b); err != nil {
					errs <- err
					return
				}
				errs <- e.Ack(a+b, "done")
				errs <- e.Ack("again")
			})
			s.On("noack", func(e *sio.Event) {
				errs <- e.Ack("x")
			})
		})
		c := dial(t, ts, tr, nil)
		c.connect("/", "")
		c.emit("/", 7, "add", 2, 3)
		assert.Equal(t, `437[5,"done"]`, c.nextText())
		assert.NoError(t, testutil.Recv(t, errs))
		assert.ErrorIs(t, testutil.Recv(t, errs), sio.ErrAckSent)
		c.emit("/", -1, "noack")
		assert.ErrorIs(t, testutil.Recv(t, errs), sio.ErrNoAck)
	})
}

func TestEmitWithAck(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		got := sockets(ts.Of("/"))
		c := dial(t, ts, tr, nil)
		c.connect("/", "")
		s := testutil.Recv(t, got)

		// Blocking form, answered.
		type result struct {
			args sio.Args
			err  error
		}
		res := make(chan result, 1)
		go func() {
			a, err := s.EmitWithAck(context.Background(), "question", "q1")
			res <- result{a, err}
		}()
		p, args := c.expectEvent("/", "question")
		require.True(t, p.HasID)
		assert.JSONEq(t, `"q1"`, string(args.Raw(0)))
		c.ack("/", p.ID, "answer", 42)
		r := testutil.Recv(t, res)
		require.NoError(t, r.err)
		var (
			s1 string
			n  int
		)
		require.NoError(t, r.args.Decode(&s1, &n))
		assert.Equal(t, "answer", s1)
		assert.Equal(t, 42, n)

		// Blocking form, not answered: the context ends it.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := s.EmitWithAck(ctx, "question", "q2")
		cancel()
		assert.ErrorIs(t, err, sio.ErrAckTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		p, _ = c.expectEvent("/", "question")
		c.ack("/", p.ID, "too late") // ignored

		// Timeout(d), not answered.
		_, err = s.Timeout(30*time.Millisecond).EmitWithAck(context.Background(), "question", "q3")
		assert.ErrorIs(t, err, sio.ErrAckTimeout)
		c.expectEvent("/", "question")

		// Callback form, answered: the callback runs on the handler queue.
		cb := make(chan result, 1)
		require.NoError(t, s.EmitWithAckFunc("question", func(a sio.Args, err error) { cb <- result{a, err} }, "q4"))
		p, _ = c.expectEvent("/", "question")
		c.ack("/", p.ID, "cb")
		r = testutil.Recv(t, cb)
		require.NoError(t, r.err)
		assert.JSONEq(t, `"cb"`, string(r.args.Raw(0)))

		// Callback form with a timeout, not answered.
		require.NoError(t, s.Timeout(30*time.Millisecond).EmitWithAckFunc("question", func(a sio.Args, err error) { cb <- result{a, err} }, "q5"))
		c.expectEvent("/", "question")
		assert.ErrorIs(t, testutil.Recv(t, cb).err, sio.ErrAckTimeout)

		// Pending when the socket disconnects.
		go func() {
			a, err := s.EmitWithAck(context.Background(), "question", "q6")
			res <- result{a, err}
		}()
		c.expectEvent("/", "question")
		require.NoError(t, s.EmitWithAckFunc("question", func(a sio.Args, err error) { cb <- result{a, err} }, "q7"))
		c.expectEvent("/", "question")
		c.sendRaw("41")
		assert.ErrorIs(t, testutil.Recv(t, res).err, sio.ErrDisconnected)
		assert.ErrorIs(t, testutil.Recv(t, cb).err, sio.ErrDisconnected)

		// Once disconnected, emitting fails.
		assert.ErrorIs(t, s.Emit("x"), sio.ErrDisconnected)
		_, err = s.EmitWithAck(context.Background(), "x")
		assert.ErrorIs(t, err, sio.ErrDisconnected)
		assert.ErrorIs(t, s.Emit("disconnect"), sio.ErrReservedEvent)
	})
}

func TestHandlerWaitsForAckOnOwnSocket(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		ts.OnConnection(func(s *Socket) {
			s.On("ask", func(e *sio.Event) {
				ctx, cancel := context.WithTimeout(s.Context(), waitFor)
				defer cancel()
				reply, err := s.EmitWithAck(ctx, "what")
				if err != nil {
					_ = e.Ack("error", err.Error())
					return
				}
				_ = e.Ack(reply.AsAny()...)
			})
		})
		c := dial(t, ts, tr, nil)
		c.connect("/", "")
		c.emit("/", 1, "ask")
		p, _ := c.expectEvent("/", "what")
		c.ack("/", p.ID, "this", []byte{9})
		args := c.expectAck("/", 1)
		var (
			s string
			b []byte
		)
		require.NoError(t, args.Decode(&s, &b))
		assert.Equal(t, "this", s)
		assert.Equal(t, []byte{9}, b)
	})
}

func TestHandlerOrder(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.Of("/x")
	var (
		mu   sync.Mutex
		seen []int
		dis  []sio.Reason
	)
	ts.OnConnection(func(s *Socket) {
		withSync(s)
		s.On("n", func(e *sio.Event) {
			var n int
			_ = e.Args.Decode(&n)
			mu.Lock()
			seen = append(seen, n)
			mu.Unlock()
		})
		s.On("disconnects", func(e *sio.Event) {
			mu.Lock()
			defer mu.Unlock()
			_ = e.Ack(dis)
		})
	})
	ts.Of("/x").OnConnection(func(s *Socket) {
		s.OnDisconnect(func(reason sio.Reason) {
			mu.Lock()
			dis = append(dis, reason)
			mu.Unlock()
		})
	})
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	c.connect("/x", "")
	const N = 200
	for i := range N {
		c.emit("/", -1, "n", i)
	}
	c.syncNone("/")
	mu.Lock()
	require.Len(t, seen, N)
	for i, n := range seen {
		require.Equal(t, i, n)
	}
	mu.Unlock()

	// What a client sends is handled in order across namespaces: the
	// disconnection of /x is handled before the next event on /.
	c.sendRaw("41/x,", `421["disconnects"]`)
	args := c.expectAck("/", 1)
	assert.JSONEq(t, `["client namespace disconnect"]`, string(args.Raw(0)))
}

func TestRooms(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		got := sockets(ts.Of("/"))
		cs := make([]*tclient, 4)
		ss := make([]*Socket, 4)
		for i := range cs {
			cs[i] = dial(t, ts, tr, nil)
			cs[i].connect("/", "")
			ss[i] = testutil.Recv(t, got)
		}
		// 0: a; 1: a, b; 2: b; 3: none
		ss[0].Join("a")
		ss[1].Join("a", "b")
		ss[2].Join("b")
		assert.ElementsMatch(t, []Room{"a", ss[0].ID()}, ss[0].Rooms())
		assert.ElementsMatch(t, []Room{"a", "b", ss[1].ID()}, ss[1].Rooms())
		assert.Equal(t, []Room{ss[3].ID()}, ss[3].Rooms())

		expect := func(what string, want ...int) {
			t.Helper()
			for i, c := range cs {
				pkts := c.sync("/")
				n := 0
				for _, p := range pkts {
					name, _, err := p.Event()
					require.NoError(t, err)
					if name == what {
						n++
					}
				}
				wanted := 0
				for _, w := range want {
					if w == i {
						wanted = 1
					}
				}
				assert.Equal(t, wanted, n, "%s: client %d got %d packets: %s", what, i, len(pkts), describe(pkts))
			}
		}

		require.NoError(t, ts.To("a", "b").Emit("union"))
		expect("union", 0, 1, 2)
		require.NoError(t, ts.To("a").To("b").Except("b").Emit("except"))
		expect("except", 0)
		require.NoError(t, ts.To(ss[3].ID()).Emit("own"))
		expect("own", 3)
		require.NoError(t, ts.Emit("all"))
		expect("all", 0, 1, 2, 3)
		require.NoError(t, ts.Except("a").Emit("not-a"))
		expect("not-a", 2, 3)
		require.NoError(t, ss[1].Broadcast().Emit("from1"))
		expect("from1", 0, 2, 3)
		require.NoError(t, ss[1].To("a").Emit("from1-to-a"))
		expect("from1-to-a", 0)
		require.NoError(t, ss[0].Except("b").Emit("from0-except-b"))
		expect("from0-except-b", 3)
		require.NoError(t, ts.In("nobody").Emit("none"))
		expect("none")

		ss[1].Leave("a")
		require.NoError(t, ts.To("a").Emit("after-leave"))
		expect("after-leave", 0)
		assert.ElementsMatch(t, []Room{"b", ss[1].ID()}, ss[1].Rooms())
		assert.ErrorIs(t, ts.Emit("connect"), sio.ErrReservedEvent)
	})
}

// countingAdapter counts the broadcasts that reach the adapter.
type countingAdapter struct {
	*MemoryAdapter
	mu      sync.Mutex
	packets []*parser.Packet
}

func (a *countingAdapter) Broadcast(p *parser.Packet, opts *BroadcastOptions) error {
	a.mu.Lock()
	a.packets = append(a.packets, p)
	a.mu.Unlock()
	return a.MemoryAdapter.Broadcast(p, opts)
}

func TestBroadcastEncodedOnce(t *testing.T) {
	var ad *countingAdapter
	ts := newTestServer(t, &Options{Adapter: func(n *Namespace) Adapter {
		a := &countingAdapter{MemoryAdapter: NewMemoryAdapter(n)}
		if n.Name() == "/" {
			ad = a
		}
		return a
	}})
	got := sockets(ts.Of("/"))
	var cs []*tclient
	for range 3 {
		c := dial(t, ts, "websocket", nil)
		c.connect("/", "")
		testutil.Recv(t, got)
		cs = append(cs, c)
	}
	require.NoError(t, ts.Emit("hello", map[string]any{"k": []byte{1, 2}}))
	ad.mu.Lock()
	require.Len(t, ad.packets, 1, "one packet for every receiver")
	p := ad.packets[0]
	ad.mu.Unlock()
	assert.Equal(t, parser.BinaryEvent, p.Type)
	// MemoryAdapter.Broadcast encodes the packet once (encodeFrames) and
	// queues the same frames on every socket; every client gets the same bytes.
	for _, c := range cs {
		assert.Equal(t, `451-["hello",{"k":{"_placeholder":true,"num":0}}]`, c.nextText())
		f := c.nextFrame()
		assert.True(t, f.Binary)
		assert.Equal(t, []byte{1, 2}, f.Data)
	}
}

func TestBinary(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		type in struct {
			data  []byte
			inner []byte
		}
		gotBin := make(chan in, 1)
		ts.OnConnection(func(s *Socket) {
			s.On("upload", func(e *sio.Event) {
				var (
					b   []byte
					obj struct {
						Inner []byte `json:"inner"`
					}
				)
				if err := e.Args.Decode(&b, &obj); err != nil {
					t.Error(err)
				}
				gotBin <- in{b, obj.Inner}
				_ = e.Ack("ok", []byte{0xff, 0}, e.Args[0])
			})
			s.On("download", func(e *sio.Event) {
				_ = s.Emit("file", []byte{1, 2, 3}, map[string]any{"nested": []byte{4}})
			})
		})
		c := dial(t, ts, tr, nil)
		c.connect("/", "")

		c.emit("/", 3, "upload", []byte{7, 8}, map[string]any{"inner": []byte{9}})
		r := testutil.Recv(t, gotBin)
		assert.Equal(t, []byte{7, 8}, r.data)
		assert.Equal(t, []byte{9}, r.inner)
		assert.Equal(t, `462-3["ok",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, c.nextText())
		assert.Equal(t, []byte{0xff, 0}, c.nextFrame().Data)
		assert.Equal(t, []byte{7, 8}, c.nextFrame().Data)

		c.emit("/", -1, "download")
		assert.Equal(t, `452-["file",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, c.nextText())
		assert.Equal(t, []byte{1, 2, 3}, c.nextFrame().Data)
		assert.Equal(t, []byte{4}, c.nextFrame().Data)
	})
}

func TestBinaryAckFromClient(t *testing.T) {
	ts := newTestServer(t, nil)
	got := sockets(ts.Of("/"))
	c := dial(t, ts, "polling", nil)
	c.connect("/", "")
	s := testutil.Recv(t, got)
	res := make(chan sio.Args, 1)
	go func() {
		a, err := s.EmitWithAck(context.Background(), "give")
		assert.NoError(t, err)
		res <- a
	}()
	p, _ := c.expectEvent("/", "give")
	c.ack("/", p.ID, map[string]any{"file": []byte("abc")})
	a := testutil.Recv(t, res)
	var v struct {
		File []byte `json:"file"`
	}
	require.NoError(t, a.Decode(&v))
	assert.Equal(t, []byte("abc"), v.File)
}

func TestServerDisconnect(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		root, x := sockets(ts.Of("/")), sockets(ts.Of("/x"))
		reasons := make(chan string, 4)
		for _, n := range []*Namespace{ts.Of("/"), ts.Of("/x")} {
			n.OnConnection(func(s *Socket) {
				s.OnDisconnect(func(r sio.Reason) { reasons <- s.Namespace().Name() + " " + string(r) })
			})
		}
		c := dial(t, ts, tr, nil)
		c.connect("/", "")
		c.connect("/x", "")
		sr, sx := testutil.Recv(t, root), testutil.Recv(t, x)

		sx.Disconnect()
		assert.Equal(t, "41/x,", c.nextText())
		assert.Equal(t, "/x server namespace disconnect", testutil.Recv(t, reasons))
		sx.Disconnect() // no-op
		c.syncNone("/")
		sr.Disconnect()
		assert.Equal(t, "41", c.nextText())
		assert.Equal(t, "/ server namespace disconnect", testutil.Recv(t, reasons))
		// The connection stays open: joining again works.
		c.connect("/", "")
	})
}

// TestConnectRightAfterServerDisconnect has the client join again as soon
// as it has the DISCONNECT of a socket its handler disconnected: the
// server has forgotten the socket by then, so the CONNECT makes a new
// socket instead of closing the connection as a second CONNECT would.
func TestConnectRightAfterServerDisconnect(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		ts.Of("/").OnConnection(func(s *Socket) {
			withSync(s)
			s.On("bye", func(*sio.Event) { s.Disconnect() })
		})
		c := dial(t, ts, tr, nil)
		for range 200 {
			c.connect("/", "")
			c.emit("/", -1, "bye")
			assert.Equal(t, "41", c.nextText())
		}
		c.connect("/", "")
		c.syncNone("/")
	})
}

func TestServerDisconnectClose(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, nil)
		root, x := sockets(ts.Of("/")), sockets(ts.Of("/x"))
		reasons := make(chan string, 4)
		for _, n := range []*Namespace{ts.Of("/"), ts.Of("/x")} {
			n.OnConnection(func(s *Socket) {
				s.OnDisconnect(func(r sio.Reason) { reasons <- s.Namespace().Name() + " " + string(r) })
			})
		}
		c := dial(t, ts, tr, nil)
		c.connect("/", "")
		c.connect("/x", "")
		sr, _ := testutil.Recv(t, root), testutil.Recv(t, x)
		sr.CloseConnection()
		var texts []string
		for _, f := range c.expectClosed() {
			texts = append(texts, string(f.Data))
		}
		assert.Subset(t, texts, []string{"1", "1/x,"}, "a DISCONNECT per namespace")
		assert.ElementsMatch(t, []string{"/ server namespace disconnect", "/x server namespace disconnect"},
			[]string{testutil.Recv(t, reasons), testutil.Recv(t, reasons)})
		testutil.Eventually(t, "the session to end", func() bool { return ts.Engine().ClientsCount() == 0 })
	})
}

func TestDisconnectingSeesRooms(t *testing.T) {
	ts := newTestServer(t, nil)
	type state struct {
		rooms     []Room
		connected bool
		ctxDone   bool
	}
	ding, dis := make(chan state, 1), make(chan state, 1)
	ts.OnConnection(func(s *Socket) {
		s.Join("r1", "r2")
		s.OnDisconnecting(func(sio.Reason) {
			ding <- state{s.Rooms(), s.Connected(), s.Context().Err() != nil}
		})
		s.OnDisconnect(func(sio.Reason) {
			dis <- state{s.Rooms(), s.Connected(), s.Context().Err() != nil}
		})
	})
	c := dial(t, ts, "websocket", nil)
	id := c.connect("/", "")
	c.sendRaw("41")
	d := testutil.Recv(t, ding)
	assert.ElementsMatch(t, []Room{id, "r1", "r2"}, d.rooms)
	assert.False(t, d.connected)
	assert.True(t, d.ctxDone)
	assert.Empty(t, testutil.Recv(t, dis).rooms)
	assert.Empty(t, ts.Of("/").Adapter().Rooms(), "no room left behind")
}

func TestDisconnectReasons(t *testing.T) {
	cases := []struct {
		name   string
		opts   *Options
		do     func(t *testing.T, ts *testServer, c *tclient, s *Socket)
		reason sio.Reason
	}{
		{"client namespace disconnect", nil, func(t *testing.T, _ *testServer, c *tclient, _ *Socket) {
			c.sendRaw("41")
		}, sio.ReasonClientNamespaceDisconnect},
		{"server namespace disconnect", nil, func(t *testing.T, _ *testServer, _ *tclient, s *Socket) {
			s.Disconnect()
		}, sio.ReasonServerNamespaceDisconnect},
		{"transport close", nil, func(t *testing.T, _ *testServer, c *tclient, _ *Socket) {
			c.cut()
		}, sio.ReasonTransportClose},
		{"ping timeout", &Options{EngineOptions: EngineOptions{PingInterval: 20 * time.Millisecond, PingTimeout: 20 * time.Millisecond}}, func(t *testing.T, _ *testServer, c *tclient, _ *Socket) {
			c.setNoPong()
		}, sio.ReasonPingTimeout},
		{"server shutting down", nil, func(t *testing.T, ts *testServer, _ *tclient, _ *Socket) {
			require.NoError(t, ts.Close())
		}, sio.ReasonServerShuttingDown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, tc.opts)
			got := sockets(ts.Of("/"))
			reasons := make(chan sio.Reason, 2)
			ts.OnConnection(func(s *Socket) { s.OnDisconnect(func(r sio.Reason) { reasons <- r }) })
			c := dial(t, ts, "websocket", nil)
			c.connect("/", "")
			s := testutil.Recv(t, got)
			tc.do(t, ts, c, s)
			assert.Equal(t, tc.reason, testutil.Recv(t, reasons))
			assert.False(t, s.Connected())
			assert.Error(t, s.Context().Err())
		})
	}
}

func TestTransportCloseReasonPolling(t *testing.T) {
	ts := newTestServer(t, nil)
	reasons := make(chan sio.Reason, 1)
	ts.OnConnection(func(s *Socket) { s.OnDisconnect(func(r sio.Reason) { reasons <- r }) })
	c := dial(t, ts, "polling", nil)
	c.connect("/", "")
	c.sendRaw("1") // the Engine.IO close packet
	assert.Equal(t, sio.ReasonTransportClose, testutil.Recv(t, reasons))
}

func TestCloseAndShutdownLeaveNoGoroutines(t *testing.T) {
	for _, graceful := range []bool{false, true} {
		name := "Close"
		if graceful {
			name = "Shutdown"
		}
		t.Run(name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			srv := New(&Options{EngineOptions: EngineOptions{PingInterval: 50 * time.Millisecond}})
			ts := &testServer{Server: srv, hs: httptest.NewServer(srv)}
			got := sockets(srv.Of("/"))
			reasons := make(chan sio.Reason, 8)
			srv.OnConnection(func(s *Socket) {
				s.OnDisconnect(func(r sio.Reason) { reasons <- r })
				s.On("block", func(e *sio.Event) {
					// A handler that waits for the socket's end.
					<-s.Context().Done()
				})
			})
			var cs []*tclient
			for _, tr := range transports {
				c := dial(t, ts, tr, nil)
				c.connect("/", "")
				testutil.Recv(t, got)
				cs = append(cs, c)
			}
			cs[0].emit("/", -1, "block")
			if graceful {
				ctx, cancel := context.WithTimeout(context.Background(), waitFor)
				require.NoError(t, srv.Shutdown(ctx))
				cancel()
			} else {
				require.NoError(t, srv.Close())
			}
			for range cs {
				assert.Equal(t, sio.ReasonServerShuttingDown, testutil.Recv(t, reasons))
			}
			for _, c := range cs {
				c.expectClosed()
				c.close()
			}
			ts.hs.Close()
			goleak.VerifyNone(t, ignore)
		})
	}
}

func TestConnectTimeout(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ts := newTestServer(t, &Options{ConnectTimeout: 50 * time.Millisecond})
		idle := dial(t, ts, tr, nil)
		idle.expectClosed()

		// A connection that joined a namespace in time stays: checking that
		// nothing happens needs the time to pass.
		sockets(ts.Of("/"))
		ok := dial(t, ts, tr, nil)
		ok.connect("/", "")
		<-time.After(150 * time.Millisecond)
		ok.syncNone("/")
		assert.Equal(t, 1, ts.Engine().ClientsCount())
	})
}

// TestEngineOptionsReachTheEngine: the Engine.IO options set on the server
// are the engine's, with nothing lost on the way (they are not copied field
// by field); a CORS option needs no import of package engine.
func TestEngineOptionsReachTheEngine(t *testing.T) {
	cors := &CORSOptions{Origin: []string{"https://a.example"}, Credentials: true}
	opts := &Options{EngineOptions: EngineOptions{
		PingInterval:               time.Minute,
		PingTimeout:                2 * time.Minute,
		UpgradeTimeout:             3 * time.Minute,
		MaxHTTPBufferSize:          12345,
		Transports:                 []string{"websocket"},
		DisallowUpgrades:           true,
		CORS:                       cors,
		MaxQueuedBytes:             4096,
		AllowEIO3:                  true,
		DisableHTTPCompression:     true,
		PerMessageDeflate:          true,
		PerMessageDeflateThreshold: 77,
	}}
	opts.Logger = slog.New(slog.DiscardHandler) // promoted, as every engine option
	srv := New(opts)
	t.Cleanup(func() { _ = srv.Close() })
	got := srv.Engine().Options()
	want := opts.EngineOptions
	assert.Same(t, opts.Logger, got.Logger)
	assert.Same(t, cors, got.CORS)
	got.Logger, got.CORS, want.Logger, want.CORS = nil, nil, nil, nil
	assert.Equal(t, want, got)
}

func TestGenerateIDAndMaxQueuedBytes(t *testing.T) {
	var n atomic.Int32
	ts := newTestServer(t, &Options{
		EngineOptions: EngineOptions{
			GenerateID: func(*http.Request) string {
				return "custom-" + strconv.Itoa(int(n.Add(1)))
			},
			MaxQueuedBytes: 1 << 10,
		},
	})
	assert.Equal(t, 1<<10, ts.Engine().Options().MaxQueuedBytes)
	for _, tr := range []string{"polling", "websocket"} {
		c := dial(t, ts, tr, nil)
		assert.Equal(t, "custom-"+strconv.Itoa(int(n.Load())), c.sid, tr)
		c.connect("/", "")
	}
}

func TestQueryAuth(t *testing.T) {
	assert.JSONEq(t, `{}`, string(queryAuth("")))
	assert.JSONEq(t, `{"token":"abc","n":"1"}`, string(queryAuth("token=abc&n=1")))
	assert.JSONEq(t, `{"a":["1","2"],"b":""}`, string(queryAuth("a=1&a=2&b=")))
}

func TestConnectErrorPayloadV3(t *testing.T) {
	assert.JSONEq(t, `{"code":401}`, string(connectErrorPayloadV3(&ConnectError{Message: "no", Data: map[string]any{"code": 401}})))
	assert.JSONEq(t, `"no"`, string(connectErrorPayloadV3(&ConnectError{Message: "no"})))
	assert.JSONEq(t, `"plain"`, string(connectErrorPayloadV3(errors.New("plain"))))
}

// TestOnReplacesAndOffRemoves checks a socket's event handlers beyond the
// few kept inline: On replaces the handler of an event, Off removes it,
// and the others stay.
func TestOnReplacesAndOffRemoves(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.OnConnection(func(s *Socket) {
		withSync(s)
		for _, name := range []string{"a", "b", "c", "d"} {
			s.On(name, func(e *sio.Event) { _ = e.Ack("old " + name) })
		}
		s.On("b", func(e *sio.Event) { _ = e.Ack("new b") })
		s.Off("c")
		s.Off("nope")
	})
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	for name, want := range map[string]string{"a": "old a", "b": "new b", "d": "old d"} {
		c.emit("/", 1, name)
		var got string
		require.NoError(t, c.expectAck("/", 1).Decode(&got))
		assert.Equal(t, want, got)
	}
	c.emit("/", 2, "c") // no handler: no ack
	c.syncNone("/")
}

// TestDefaultAckTimeout: Options.AckTimeout bounds an EmitWithAck made
// without Timeout(d) and without a deadline, with the error Timeout(d)
// gives; Timeout(d) and a deadline on ctx take precedence.
func TestDefaultAckTimeout(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		const d = 30 * time.Millisecond
		ts := newTestServer(t, &Options{AckTimeout: d})
		got := sockets(ts.Of("/"))
		c := dial(t, ts, tr, nil) // never acknowledges
		c.connect("/", "")
		s := testutil.Recv(t, got)

		// Socket, blocking form.
		_, want := s.Timeout(d).EmitWithAck(context.Background(), "question")
		c.expectEvent("/", "question")
		require.ErrorIs(t, want, sio.ErrAckTimeout)
		_, err := s.EmitWithAck(context.Background(), "question")
		c.expectEvent("/", "question")
		require.ErrorIs(t, err, sio.ErrAckTimeout)
		assert.Equal(t, want.Error(), err.Error())

		// Socket, callback form.
		cb := make(chan error, 1)
		require.NoError(t, s.EmitWithAckFunc("question", func(_ sio.Args, err error) { cb <- err }))
		c.expectEvent("/", "question")
		err = testutil.Recv(t, cb)
		require.ErrorIs(t, err, sio.ErrAckTimeout)
		assert.Equal(t, want.Error(), err.Error())

		// Timeout(d) overrides it.
		_, err = s.Timeout(2*d).EmitWithAck(context.Background(), "question")
		c.expectEvent("/", "question")
		assert.ErrorContains(t, err, (2 * d).String())

		// So does a deadline on ctx (longer than the default: the context ends it).
		ctx, cancel := context.WithTimeout(context.Background(), 3*d)
		_, err = s.EmitWithAck(ctx, "question")
		cancel()
		c.expectEvent("/", "question")
		assert.ErrorIs(t, err, sio.ErrAckTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)

		// An acknowledgement in time is still delivered.
		res := make(chan error, 1)
		go func() {
			_, err := s.EmitWithAck(context.Background(), "question")
			res <- err
		}()
		p, _ := c.expectEvent("/", "question")
		c.ack("/", p.ID, "ok")
		assert.NoError(t, testutil.Recv(t, res))

		// Broadcast.
		_, want = ts.Timeout(d).EmitWithAck(context.Background(), "poll")
		c.expectEvent("/", "poll")
		require.ErrorIs(t, want, ErrPartialAcks)
		_, err = ts.EmitWithAck(context.Background(), "poll")
		c.expectEvent("/", "poll")
		require.ErrorIs(t, err, sio.ErrAckTimeout)
		require.ErrorIs(t, err, ErrPartialAcks)
		assert.Equal(t, want.Error(), err.Error())
	})
}
