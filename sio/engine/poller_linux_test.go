//go:build linux

package engine

import (
	"bytes"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPollerReadsWebSockets checks that on Linux a WebSocket session is
// read by a poller: it has no goroutine of its own, and its messages
// arrive.
func TestPollerReadsWebSockets(t *testing.T) {
	if goroutineReaders.Load() {
		t.Skip("goroutine readers")
	}
	h := newHarness(t, nil)
	c, sid := h.wsHandshake()
	s := testutil.Recv(t, h.conn)
	require.Equal(t, sid, s.ID())
	// The session is handed to its poller right after OnConnection.
	require.Eventually(t, func() bool { return pollerOf(s) != nil }, waitTimeout, time.Millisecond,
		"the session is read by a poller")

	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
	assert.NotContains(t, buf.String(), "wsio.(*OwnConn).readLoop", "no reader goroutine")

	for _, m := range []string{"one", "two", "three"} {
		writeWS(t, c, "4"+m)
		assert.Equal(t, m, h.nextMsg().data)
	}
	writeWS(t, c, "1")
	assert.Equal(t, sio.ReasonTransportClose, h.nextClose().reason)
}
