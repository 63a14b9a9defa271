//go:build !js

package engine

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/wsframe"
)

// readPaths are the two ways the engine reads the WebSockets it speaks
// itself: pollers (Linux), and a goroutine per connection (other systems,
// TLS). Elsewhere than on Linux both are the second.
var readPaths = []struct {
	name     string
	noPoller bool
}{{"poller", false}, {"reader", true}}

// usage is what the process uses now, after a collection: goroutines, and
// the bytes of live heap and of goroutine stacks.
func usage() (goroutines int, bytes uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc + m.StackInuse
}

// TestPingFlood has a client send 50,000 pings without reading: the server
// must not grow by a goroutine or a buffer per ping (at most one pong
// waits), and once the client reads, the pongs it gets answer its pings in
// order, the last one included.
func TestPingFlood(t *testing.T) {
	for _, rp := range readPaths {
		t.Run(rp.name, func(t *testing.T) {
			h := newHarness(t, nil, func(h *harness) { h.srv.ws.NoPoller = rp.noPoller })
			w, _ := h.dialRawWS(t, "")
			h.nextConn()
			g0, m0 := usage()

			const pings, batch = 50000, 1000
			payload := func(i int) []byte { // 125 bytes, the most a ping has
				return fmt.Appendf(nil, "%06d%s", i, strings.Repeat("p", 119))
			}
			_ = w.c.SetDeadline(time.Now().Add(4 * waitTimeout))
			for i := 0; i < pings; i += batch {
				var b []byte
				for j := i; j < i+batch; j++ {
					b = append(b, wsframe.AppendMasked(nil, opPing, payload(j), 0x06070809)...)
				}
				_, err := w.c.Write(b)
				require.NoError(t, err, "the server reads on while the client does not")
			}
			w.frame(0x80|opText, []byte("4done"), false)
			require.Equal(t, "done", h.nextMsg().data, "every ping was read")

			g1, m1 := usage()
			t.Logf("after %d pings: %+d goroutines, %+d bytes of heap and stacks", pings, g1-g0, int64(m1)-int64(m0))
			assert.LessOrEqual(t, g1-g0, 5, "goroutines after %d pings: %d, before: %d", pings, g1, g0)
			assert.Less(t, int64(m1)-int64(m0), int64(32<<20), "heap and stacks after %d pings: %d, before: %d", pings, m1, m0)

			// Reading now, the client gets pongs in the order of its pings,
			// up to the one for its last ping.
			last := -1
			for last < pings-1 {
				op, p := w.read()
				require.Equal(t, byte(opPong), op)
				n, err := strconv.Atoi(string(p[:6]))
				require.NoError(t, err)
				require.Greater(t, n, last, "pongs answer pings in order")
				require.Equal(t, payload(n), p)
				last = n
			}
			// The connection still works.
			w.frame(0x80|opText, []byte("4again"), false)
			require.Equal(t, "again", h.nextMsg().data)
		})
	}
}

// TestPongAfterQueuedData checks that a pong never overtakes data queued
// before its ping: the client reads nothing while the server queues
// messages and answers its pings, then finds every message before the
// pong of the ping that followed it.
func TestPongAfterQueuedData(t *testing.T) {
	for _, rp := range readPaths {
		t.Run(rp.name, func(t *testing.T) {
			h := newHarness(t, nil, func(h *harness) {
				h.srv.ws.NoPoller = rp.noPoller
				h.onMessage = func(s *Socket, data []byte, binary bool) {
					// Each message is answered by a large one, so that the
					// server's writes soon wait for the client.
					_ = s.SendMessage(append(data, bytes.Repeat([]byte{'x'}, 64<<10)...), false)
				}
			})
			w, _ := h.dialRawWS(t, "")
			h.nextConn()
			const rounds = 100
			for i := range rounds {
				w.frame(0x80|opText, fmt.Appendf(nil, "4m%03d", i), false)
				w.frame(0x80|opPing, fmt.Appendf(nil, "p%03d", i), false)
			}
			_ = w.c.SetDeadline(time.Now().Add(4 * waitTimeout))
			msgs, lastPong := 0, -1
			for lastPong < rounds-1 {
				op, p := w.read()
				switch op {
				case opText:
					n, err := strconv.Atoi(string(p[2:5]))
					require.NoError(t, err)
					require.Equal(t, msgs, n, "messages in order")
					msgs++
				case opPong:
					n, err := strconv.Atoi(string(p[1:]))
					require.NoError(t, err)
					require.Greater(t, n, lastPong, "pongs in order")
					require.Equal(t, n+1, msgs, "the pong of ping %d comes after the answer to message %d, and before the next", n, n)
					lastPong = n
				default:
					t.Fatalf("opcode %d", op)
				}
			}
		})
	}
}
