//go:build !js

package server

import (
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/stretchr/testify/assert"
)

func TestOnNamespace(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.Of("/a")
	var (
		mu    sync.Mutex
		names []string
	)
	ts.OnNamespace(func(n *Namespace) {
		mu.Lock()
		names = append(names, n.Name())
		mu.Unlock()
	})
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Sorted(slices.Values(names))
	}
	assert.Equal(t, []string{"/", "/a"}, seen(), "the namespaces that exist")
	ts.Of("/b")
	ts.Of("/b") // exists: not again
	assert.Equal(t, []string{"/", "/a", "/b"}, seen())

	// A dynamic child is reported before its first socket connects.
	ts.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	c := dial(t, ts, "websocket", nil)
	c.connect("/dyn-1", "")
	assert.Equal(t, []string{"/", "/a", "/b", "/dyn-1"}, seen())
}

func TestOnRoomEvent(t *testing.T) {
	ts := newTestServer(t, nil)
	var (
		mu  sync.Mutex
		evs []AdapterEvent
	)
	ts.Of("/").OnRoomEvent(func(e AdapterEvent) {
		mu.Lock()
		evs = append(evs, e)
		mu.Unlock()
	})
	take := func() []AdapterEvent {
		mu.Lock()
		defer mu.Unlock()
		out := evs
		evs = nil
		return out
	}
	got := sockets(ts.Of("/"))
	c := dial(t, ts, "websocket", nil)
	id := c.connect("/", "")
	s := testutil.Recv(t, got)
	assert.Equal(t, []AdapterEvent{{Kind: "create-room", Room: id}, {Kind: "join-room", Room: id, ID: id}}, take())
	ts.Of("/").SocketsJoin("r") // through the adapter, as the admin UI does
	assert.Equal(t, []AdapterEvent{{Kind: "create-room", Room: "r"}, {Kind: "join-room", Room: "r", ID: id}}, take())
	s.Leave("r")
	assert.Equal(t, []AdapterEvent{{Kind: "leave-room", Room: "r", ID: id}, {Kind: "delete-room", Room: "r"}}, take())
}

func TestObserve(t *testing.T) {
	ts := newTestServer(t, nil)
	type ev struct{ kind, id, arg string }
	var (
		mu       sync.Mutex
		evs      []ev
		in, out  int
		nin, nou int
	)
	ts.Observe(&ConnObserver{
		Opened:   func(id, tr string) { mu.Lock(); evs = append(evs, ev{"open", id, tr}); mu.Unlock() },
		Upgraded: func(id, tr string) { mu.Lock(); evs = append(evs, ev{"upgrade", id, tr}); mu.Unlock() },
		Closed:   func(id string, r sio.Reason) { mu.Lock(); evs = append(evs, ev{"close", id, string(r)}); mu.Unlock() },
		Received: func(n int) { mu.Lock(); in += n; nin++; mu.Unlock() },
		Sent:     func(n int) { mu.Lock(); out += n; nou++; mu.Unlock() },
	})
	got := sockets(ts.Of("/"))
	ts.Of("/").OnConnection(func(s *Socket) { _ = s.Emit("hi", "there") })
	c := dial(t, ts, "websocket", nil)
	c.connect("/", "")
	testutil.Recv(t, got)
	c.expectEvent("/", "hi")
	c.emit("/", -1, "x")
	testutil.Eventually(t, "the event to be counted", func() bool { mu.Lock(); defer mu.Unlock(); return nin == 2 })
	c.close()
	testutil.Eventually(t, "the close to be reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(evs) == 2 })
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "open", evs[0].kind)
	assert.Equal(t, "websocket", evs[0].arg)
	assert.Equal(t, "close", evs[1].kind)
	assert.Equal(t, evs[0].id, evs[1].id)
	// In: CONNECT "0" and `2["x"]`; out: CONNECT `0{"sid":…}` and `2["hi","there"]`.
	assert.Equal(t, len("0")+len(`2["x"]`), in)
	assert.Equal(t, 2, nou)
	assert.Equal(t, len(`2["hi","there"]`)+len(`0{"sid":"12345678901234567890"}`), out)
}
