//go:build linux

package engine

import (
	"bytes"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPollerReadsWebSockets checks that on Linux a WebSocket session is
// read by a poller: it has no goroutine of its own, and its messages
// arrive.
func TestPollerReadsWebSockets(t *testing.T) {
	if os.Getenv(goroutineReadersEnv) != "" {
		t.Skip("goroutine readers")
	}
	h := newHarness(t, nil)
	c, sid := h.wsHandshake()
	s := testutil.Recv(t, h.conn)
	require.Equal(t, sid, s.ID())
	s.mu.Lock()
	ws := s.ws
	s.mu.Unlock()
	// The session is handed to its poller right after OnConnection.
	require.Eventually(t, func() bool { return ws.poll.Load() != nil }, waitTimeout, time.Millisecond,
		"the session is read by a poller")

	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
	assert.NotContains(t, buf.String(), "engine.(*Socket).readLoop", "no reader goroutine")

	for _, m := range []string{"one", "two", "three"} {
		writeWS(t, c, "4"+m)
		assert.Equal(t, m, h.nextMsg().data)
	}
	writeWS(t, c, "1")
	assert.Equal(t, ReasonTransportClose, h.nextClose().reason)
}

// TestConnTable checks the poller's table of connections: an id finds its
// connection until it is removed, and never finds the connection that
// takes the slot afterwards.
func TestConnTable(t *testing.T) {
	var tab connTable
	a, b, c := &wsConn{}, &wsConn{}, &wsConn{}
	ida, idb := tab.add(a), tab.add(b)
	assert.NotZero(t, ida)
	assert.NotEqual(t, ida, idb)
	assert.Same(t, a, tab.get(ida))
	assert.Same(t, b, tab.get(idb))
	assert.Nil(t, tab.get(0))
	assert.Equal(t, 2, tab.n)

	tab.remove(idb, a) // not b's holder: no change
	assert.Same(t, b, tab.get(idb))
	tab.remove(ida, a)
	assert.Nil(t, tab.get(ida))
	assert.Equal(t, 1, tab.n)

	idc := tab.add(c) // reuses a's slot, with a new generation
	assert.Equal(t, uint32(ida), uint32(idc))
	assert.NotEqual(t, ida, idc)
	assert.Nil(t, tab.get(ida), "a late event of a must not reach c")
	assert.Same(t, c, tab.get(idc))

	var all []*wsConn
	tab.each(func(w *wsConn) { all = append(all, w) })
	assert.ElementsMatch(t, []*wsConn{b, c}, all)
}
