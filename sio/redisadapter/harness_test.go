//go:build !js

package redisadapter_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/redistest"
	"github.com/gosio/socketio/sio/redisadapter"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// waitFor bounds every wait of these tests.
const waitFor = 10 * time.Second

// mode is an adapter configuration the cluster tests run with.
type mode struct {
	name    string
	factory func(c goredis.UniversalClient) server.AdapterFactory
	// countChannel is the channel whose subscribers are the nodes.
	sharded bool
}

var modes = []mode{
	{"classic", func(c goredis.UniversalClient) server.AdapterFactory {
		return redisadapter.New(c, &redisadapter.Options{RequestsTimeout: 2 * time.Second})
	}, false},
	{"classic-specific-response-channel", func(c goredis.UniversalClient) server.AdapterFactory {
		return redisadapter.New(c, &redisadapter.Options{RequestsTimeout: 2 * time.Second, PublishOnSpecificResponseChannel: true})
	}, false},
	{"sharded-static", func(c goredis.UniversalClient) server.AdapterFactory {
		return redisadapter.NewSharded(c, &redisadapter.ShardedOptions{SubscriptionMode: redisadapter.Static, RequestsTimeout: 2 * time.Second})
	}, true},
	{"sharded-dynamic", func(c goredis.UniversalClient) server.AdapterFactory {
		return redisadapter.NewSharded(c, &redisadapter.ShardedOptions{RequestsTimeout: 2 * time.Second})
	}, true},
	{"sharded-dynamic-private", func(c goredis.UniversalClient) server.AdapterFactory {
		return redisadapter.NewSharded(c, &redisadapter.ShardedOptions{SubscriptionMode: redisadapter.DynamicPrivate, RequestsTimeout: 2 * time.Second})
	}, true},
}

// forModes runs fn for every mode (sharded ones only with Redis 7).
func forModes(t *testing.T, fn func(t *testing.T, m mode, rs *redistest.Server)) {
	version := redistest.Version(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			if m.sharded && version < 7 {
				t.Skipf("sharded pub/sub needs Redis 7 (have %d)", version)
			}
			fn(t, m, redistest.Start(t))
		})
	}
}

func newClient(t testing.TB, rs *redistest.Server) goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: rs.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// node is a Go server on the adapter, with the handlers the tests use.
type node struct {
	name   string
	srv    *server.Server
	url    string
	client goredis.UniversalClient
	stop   func()
}

func startNode(t testing.TB, name string, m mode, rs *redistest.Server) *node {
	t.Helper()
	rc := newClient(t, rs)
	srv := server.New(&server.Options{EngineOptions: server.EngineOptions{Logger: testLogger(t, name)}, Adapter: m.factory(rc)})
	n := &node{name: name, srv: srv, client: rc}
	srv.Of("/").OnServerSideEmit(func(e *sio.Event) {
		if e.Name == "ping" {
			_ = e.Ack(name)
		}
	})
	srv.OnConnection(func(s *server.Socket) {
		s.SetData(map[string]any{"node": name})
		s.On("join", func(e *sio.Event) {
			room, _ := sio.Arg[string](e.Args, 0)
			s.Join(room)
			_ = e.Ack(name)
		})
		s.On("broadcast", func(e *sio.Event) {
			_ = s.Broadcast().Emit("msg", e.Args.AsAny()...)
			_ = e.Ack()
		})
	})
	ts := httptest.NewServer(srv)
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			_ = srv.Close()
			ts.Close()
		})
	}
	t.Cleanup(n.stop)
	n.url = ts.URL
	return n
}

// waitNodes waits until the adapter of n counts want nodes.
func waitNodes(t testing.TB, n *node, want int) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		got, err := n.srv.Of("/").Adapter().ServerCount(context.Background())
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s counts %d nodes (err %v), want %d", n.name, got, err, want)
		}
		time.Sleep(10 * time.Millisecond) // polling the subscriptions
	}
}

// tclient is a Go client recording the events it gets.
type tclient struct {
	s      *client.Socket
	events chan *sio.Event
}

func dial(t testing.TB, url string) *tclient {
	t.Helper()
	s, err := client.New(url, &client.Options{Transport: native.New(nil), DisableReconnection: true})
	require.NoError(t, err)
	c := &tclient{s: s, events: make(chan *sio.Event, 100)}
	s.OnAny(func(e *sio.Event) {
		if e.Name == "ack-me" {
			_ = e.Ack(s.ID())
			return
		}
		c.events <- e
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, s.Connect(ctx))
	t.Cleanup(s.Disconnect)
	return c
}

// next returns the next event the client gets.
func (c *tclient) next(t testing.TB) *sio.Event {
	t.Helper()
	select {
	case e := <-c.events:
		return e
	case <-time.After(waitFor):
		t.Fatalf("client %s got no event", c.s.ID())
		return nil
	}
}

// expect checks that the next events are want (event names; the last is
// typically a marker broadcast to everyone, proving nothing else came).
func (c *tclient) expect(t testing.TB, want ...string) []*sio.Event {
	t.Helper()
	var got []*sio.Event
	var names []string
	for range want {
		e := c.next(t)
		got = append(got, e)
		names = append(names, e.Name)
	}
	require.Equal(t, want, names, "events of client %s", c.s.ID())
	return got
}

func (c *tclient) emitAck(t testing.TB, event string, args ...any) sio.Args {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	r, err := c.s.EmitWithAck(ctx, event, args...)
	require.NoError(t, err)
	return r
}

func ids(ss []server.RemoteSocket) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID()
	}
	sort.Strings(out)
	return out
}

func sorted(xs ...string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return out
}

func argStrings(t testing.TB, replies []sio.Args) []string {
	t.Helper()
	var out []string
	for _, r := range replies {
		require.Equal(t, 1, r.Len(), "reply %v", r)
		s, err := sio.Arg[string](r, 0)
		require.NoError(t, err)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// testLogger writes the node's debug logs to the test's log.
func testLogger(t testing.TB, name string) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
