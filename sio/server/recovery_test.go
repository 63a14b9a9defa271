//go:build !js

package server

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/sio/parser"
)

// lastString returns the last argument of an event, which must be a string
// (the offset).
func lastString(t *testing.T, args sio.Args) string {
	t.Helper()
	require.NotZero(t, args.Len())
	var s string
	require.NoError(t, args[args.Len()-1].Decode(&s), "last argument %s", args.Raw(args.Len()-1))
	return s
}

func recoveryAuthJSON(pid, offset string) string {
	b, _ := json.Marshal(map[string]string{"pid": pid, "offset": offset, "token": "t"})
	return string(b)
}

type recoveryServer struct {
	*testServer
	sockets     chan *Socket
	reasons     chan sio.Reason
	middlewares atomic.Int32
}

func newRecoveryServer(t *testing.T, rec *RecoveryOptions, opts *Options) *recoveryServer {
	if opts == nil {
		opts = &Options{}
	}
	opts.ConnectionStateRecovery = rec
	rs := &recoveryServer{
		testServer: newTestServer(t, opts),
		sockets:    make(chan *Socket, 8),
		reasons:    make(chan sio.Reason, 8),
	}
	rs.Use(func(s *Socket) error {
		rs.middlewares.Add(1)
		return nil
	})
	rs.OnConnection(func(s *Socket) {
		withSync(s)
		s.OnDisconnect(func(r sio.Reason) { rs.reasons <- r })
		rs.sockets <- s
	})
	return rs
}

func TestRecovery(t *testing.T) {
	for _, tc := range []struct {
		transport string
		reasons   []sio.Reason
		opts      *Options
	}{
		{"websocket", []sio.Reason{sio.ReasonTransportClose}, nil},
		// A polling client that stops polling: its pending GET aborted, or
		// the heartbeat, ends the session.
		{"polling", []sio.Reason{sio.ReasonTransportError, sio.ReasonPingTimeout}, &Options{EngineOptions: EngineOptions{PingInterval: 30 * time.Millisecond, PingTimeout: 30 * time.Millisecond}}},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			rs := newRecoveryServer(t, &RecoveryOptions{SkipMiddlewares: true}, tc.opts)
			c1 := dial(t, rs.testServer, tc.transport, nil)
			sid, cd := c1.expectConnectDataAfter("/", "")
			require.NotEmpty(t, cd.PID, "the CONNECT packet carries the private session id")
			s1 := testutil.Recv(t, rs.sockets)
			assert.False(t, s1.Recovered())
			s1.Join("r")
			s1.SetData(map[string]any{"user": "ann"})

			require.NoError(t, rs.Emit("e1", 1))
			_, args := c1.expectEvent("/", "e1")
			require.Equal(t, 2, args.Len(), "the offset is appended as the last argument")
			offset := lastString(t, args)

			c1.cut()
			assert.Contains(t, tc.reasons, testutil.Recv(t, rs.reasons))
			assert.Equal(t, 0, rs.Of("/").SocketsCount())

			// Sent while the client is away.
			require.NoError(t, rs.To(sid).Emit("e2", "to-id"))
			require.NoError(t, rs.To("r").Emit("e3", []byte{5, 6}))
			require.NoError(t, rs.Emit("e4", "all"))
			require.NoError(t, rs.To("other").Emit("not-for-me"))
			require.NoError(t, rs.Except("r").Emit("not-for-me"))
			require.NoError(t, rs.Volatile().Emit("not-kept"))

			c2 := dial(t, rs.testServer, tc.transport, nil)
			c2.sendConnect("/", recoveryAuthJSON(cd.PID, offset))
			sid2, cd2 := c2.expectConnectData("/")
			assert.Equal(t, sid, sid2, "same socket id")
			assert.Equal(t, cd.PID, cd2.PID, "same private id")

			var offsets []string
			p, args := c2.expectEvent("/", "e2")
			assert.JSONEq(t, `"to-id"`, string(args.Raw(0)))
			offsets = append(offsets, lastString(t, args))
			p, args = c2.expectEvent("/", "e3")
			assert.Equal(t, parser.BinaryEvent, p.Type)
			var b []byte
			require.NoError(t, args.Decode(&b))
			assert.Equal(t, []byte{5, 6}, b)
			offsets = append(offsets, lastString(t, args))
			_, args = c2.expectEvent("/", "e4")
			offsets = append(offsets, lastString(t, args))
			assert.Len(t, uniq(offsets), 3)
			assert.NotContains(t, offsets, offset)

			s2 := testutil.Recv(t, rs.sockets)
			assert.True(t, s2.Recovered())
			assert.Equal(t, sid, s2.ID())
			assert.ElementsMatch(t, []Room{sid, "r"}, s2.Rooms())
			assert.Equal(t, map[string]any{"user": "ann"}, s2.Data())
			assert.Equal(t, int32(1), rs.middlewares.Load(), "middlewares skipped")

			// Nothing more (each missed packet once), and live again.
			c2.syncNone("/")
			require.NoError(t, rs.To("r").Emit("live"))
			_, args = c2.expectEvent("/", "live")
			assert.Equal(t, 1, args.Len())

			// A session is restored once.
			c3 := dial(t, rs.testServer, tc.transport, nil)
			c3.sendConnect("/", recoveryAuthJSON(cd.PID, offset))
			sid3, _ := c3.expectConnectData("/")
			assert.NotEqual(t, sid, sid3)
			assert.False(t, testutil.Recv(t, rs.sockets).Recovered())
		})
	}
}

func uniq(ss []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// expectConnectDataAfter connects and returns the sid and CONNECT payload.
func (c *tclient) expectConnectDataAfter(nsp, auth string) (string, connectData) {
	c.t.Helper()
	c.sendConnect(nsp, auth)
	return c.expectConnectData(nsp)
}

func TestRecoveryRunsMiddlewares(t *testing.T) {
	rs := newRecoveryServer(t, &RecoveryOptions{}, nil)
	c1 := dial(t, rs.testServer, "websocket", nil)
	sid, cd := c1.expectConnectDataAfter("/", "")
	s := testutil.Recv(t, rs.sockets)
	require.NoError(t, s.Emit("e1"))
	_, args := c1.expectEvent("/", "e1")
	offset := lastString(t, args)
	c1.cut()
	testutil.Recv(t, rs.reasons)
	require.NoError(t, rs.Emit("missed"))

	c2 := dial(t, rs.testServer, "websocket", nil)
	sid2, _ := c2.expectConnectDataAfter("/", recoveryAuthJSON(cd.PID, offset))
	assert.Equal(t, sid, sid2)
	c2.expectEvent("/", "missed")
	assert.True(t, testutil.Recv(t, rs.sockets).Recovered())
	assert.Equal(t, int32(2), rs.middlewares.Load(), "middlewares ran for the restored socket")
}

func TestRecoveryRefusedByMiddleware(t *testing.T) {
	rs := newRecoveryServer(t, &RecoveryOptions{}, nil)
	rs.Use(func(s *Socket) error {
		if s.Recovered() {
			return &ConnectError{Message: "no comeback"}
		}
		return nil
	})
	c1 := dial(t, rs.testServer, "websocket", nil)
	_, cd := c1.expectConnectDataAfter("/", "")
	s := testutil.Recv(t, rs.sockets)
	require.NoError(t, s.Emit("e1"))
	_, args := c1.expectEvent("/", "e1")
	c1.cut()
	testutil.Recv(t, rs.reasons)
	c2 := dial(t, rs.testServer, "websocket", nil)
	c2.sendConnect("/", recoveryAuthJSON(cd.PID, lastString(t, args)))
	assert.Equal(t, `44{"message":"no comeback"}`, c2.nextText())
}

func TestRecoveryNotAfterNamespaceDisconnect(t *testing.T) {
	for _, how := range []string{"client", "server"} {
		t.Run(how, func(t *testing.T) {
			rs := newRecoveryServer(t, &RecoveryOptions{SkipMiddlewares: true}, nil)
			c := dial(t, rs.testServer, "websocket", nil)
			sid, cd := c.expectConnectDataAfter("/", "")
			s := testutil.Recv(t, rs.sockets)
			require.NoError(t, s.Emit("e1"))
			_, args := c.expectEvent("/", "e1")
			if how == "client" {
				c.sendRaw("41")
			} else {
				s.Disconnect()
				assert.Equal(t, "41", c.nextText())
			}
			testutil.Recv(t, rs.reasons)
			sid2, _ := c.expectConnectDataAfter("/", recoveryAuthJSON(cd.PID, lastString(t, args)))
			assert.NotEqual(t, sid, sid2)
			assert.False(t, testutil.Recv(t, rs.sockets).Recovered())
		})
	}
}

func TestRecoveryUnknownOffsetOrExpired(t *testing.T) {
	rs := newRecoveryServer(t, &RecoveryOptions{SkipMiddlewares: true, MaxDisconnectionDuration: 200 * time.Millisecond}, nil)
	session := func() (string, connectData, string) {
		c := dial(t, rs.testServer, "websocket", nil)
		sid, cd := c.expectConnectDataAfter("/", "")
		s := testutil.Recv(t, rs.sockets)
		require.NoError(t, s.Emit("e1"))
		_, args := c.expectEvent("/", "e1")
		c.cut()
		testutil.Recv(t, rs.reasons)
		return sid, cd, lastString(t, args)
	}

	sid, cd, _ := session()
	c := dial(t, rs.testServer, "websocket", nil)
	got, _ := c.expectConnectDataAfter("/", recoveryAuthJSON(cd.PID, "no-such-offset"))
	assert.NotEqual(t, sid, got)
	assert.False(t, testutil.Recv(t, rs.sockets).Recovered())

	sid, cd, offset := session()
	disconnected := time.Now()
	testutil.Eventually(t, "the session to expire", func() bool { return time.Since(disconnected) > 250*time.Millisecond })
	c = dial(t, rs.testServer, "websocket", nil)
	got, _ = c.expectConnectDataAfter("/", recoveryAuthJSON(cd.PID, offset))
	assert.NotEqual(t, sid, got)
	assert.False(t, testutil.Recv(t, rs.sockets).Recovered())
}

func TestRecoveryOffsets(t *testing.T) {
	rs := newRecoveryServer(t, &RecoveryOptions{}, nil)
	c := dial(t, rs.testServer, "websocket", nil)
	c.connect("/", "")
	s := testutil.Recv(t, rs.sockets)
	ack := func(e *sio.Event) { _ = e.Ack("a") }
	s.On("ask", ack)

	// Acknowledgements, events asking for one and volatile events carry no offset.
	c.emit("/", 5, "ask")
	assert.Equal(t, `435["a"]`, c.nextText())
	done := make(chan error, 1)
	go func() {
		_, err := s.EmitWithAck(context.Background(), "q", 1)
		done <- err
	}()
	p, args := c.expectEvent("/", "q")
	assert.Equal(t, 1, args.Len())
	c.ack("/", p.ID)
	require.NoError(t, testutil.Recv(t, done))
	// A volatile event is dropped while the transport is busy: sent until
	// one arrives (the first, unless a write was still under way).
	var f frame
	testutil.Eventually(t, "a volatile event to arrive", func() bool {
		require.NoError(t, s.Volatile().Emit("v", 1))
		var ok bool
		f, ok = c.tryFrame(time.Second)
		return ok
	})
	assert.Equal(t, `42["v",1]`, string(eio.AppendFrame(nil, f)))

	// Emitted and broadcast events do, increasing.
	require.NoError(t, s.Emit("x", 1))
	_, args = c.expectEvent("/", "x")
	o1 := lastString(t, args)
	require.NoError(t, rs.Emit("y", 2))
	_, args = c.expectEvent("/", "y")
	o2 := lastString(t, args)
	assert.NotEqual(t, o1, o2)
	assert.Equal(t, 2, args.Len())
}

func TestNoRecoveryByDefault(t *testing.T) {
	ts := newTestServer(t, nil)
	got := sockets(ts.Of("/"))
	c := dial(t, ts, "websocket", nil)
	c.sendConnect("/", "")
	text := c.nextText()
	var cd connectData
	require.NoError(t, json.Unmarshal([]byte(text[2:]), &cd))
	assert.Equal(t, `40{"sid":`+strconv.Quote(cd.SID)+`}`, text, "no pid without recovery")
	s := testutil.Recv(t, got)
	require.NoError(t, s.Emit("x", 1))
	assert.Equal(t, `42["x",1]`, c.nextText())
	require.NoError(t, ts.Emit("y"))
	assert.Equal(t, `42["y"]`, c.nextText())
	// A CONNECT asking for recovery gets a new socket.
	c2 := dial(t, ts, "websocket", nil)
	sid2 := c2.connect("/", recoveryAuthJSON("pid", "offset"))
	assert.NotEqual(t, cd.SID, sid2)
	assert.False(t, testutil.Recv(t, got).Recovered())
}

// TestRecoveryConcurrentBroadcasts checks that packets broadcast while a
// client recovers its session reach it exactly once, in order.
func TestRecoveryConcurrentBroadcasts(t *testing.T) {
	rs := newRecoveryServer(t, &RecoveryOptions{SkipMiddlewares: true}, nil)
	c1 := dial(t, rs.testServer, "websocket", nil)
	_, cd := c1.expectConnectDataAfter("/", "")
	testutil.Recv(t, rs.sockets)
	require.NoError(t, rs.Emit("n", -1))
	_, args := c1.expectEvent("/", "n")
	offset := lastString(t, args)
	c1.cut()
	testutil.Recv(t, rs.reasons)

	const N = 300
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		i := 0
		defer func() { sent <- i }()
		for ; i < N; i++ {
			if i == N/2 {
				close(stop)
			}
			_ = rs.Emit("n", i)
		}
	}()
	<-stop // reconnect while broadcasts are under way
	c2 := dial(t, rs.testServer, "websocket", nil)
	c2.expectConnectDataAfter("/", recoveryAuthJSON(cd.PID, offset))
	total := testutil.Recv(t, sent)
	require.Equal(t, N, total)
	for want := range N {
		_, args := c2.expectEvent("/", "n")
		var n int
		require.NoError(t, args.Decode(&n))
		require.Equal(t, want, n)
	}
	c2.syncNone("/")
}
