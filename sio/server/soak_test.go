//go:build !js

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
)

// Soak test counts: WebSocket connect/disconnect cycles and abandoned
// polling sessions (issue 12).
const (
	soakWSCycles        = 5000
	soakPollingSessions = 2000
	// soakWorkers is how many clients run at once.
	soakWorkers = 8
	// After the soak, the process may hold this many goroutines and bytes
	// of heap more than before. A goroutine or ~1 KiB leaked per session
	// exceeds them many times over (7,000 sessions).
	soakGoroutineMargin = 16
	soakHeapMargin      = 2 << 20
)

// TestSoak opens and closes Socket.IO sessions by the thousand, as clients
// do, and checks that the server gives back what they took: 5,000
// WebSocket sessions (handshake, CONNECT to "/", an event round trip for
// one in four, then a close handshake, an Engine.IO close packet or a cut
// connection) and 2,000 polling sessions that connect and then go away
// without a word, which the heartbeat must reap. Then every session is
// gone, and the goroutines and the heap are back within a small margin of
// what they were before.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: skipped with -short")
	}
	ts := newTestServer(t, &Options{
		// Abandoned polling sessions end after PingInterval+PingTimeout.
		// A session must outlive its three requests on a loaded CI
		// machine under -race (200 ms did not, once).
		EngineOptions: EngineOptions{
			PingInterval: 500 * time.Millisecond,
			PingTimeout:  500 * time.Millisecond,
		},
	})
	srv := ts.Server
	srv.OnConnection(func(s *Socket) {
		s.On("echo", func(e *sio.Event) { _ = e.Ack(e.Args.AsAny()...) })
	})
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: soakWorkers}}
	defer httpc.CloseIdleConnections()

	run := func(wsCycles, pollSessions int) {
		t.Helper()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var next atomic.Int64
		var failed atomic.Bool
		var wg sync.WaitGroup
		for range soakWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !failed.Load() {
					i := int(next.Add(1)) - 1
					var err error
					switch {
					case i < wsCycles:
						err = soakWebSocket(ctx, ts, httpc, i)
					case i < wsCycles+pollSessions:
						err = soakAbandonPolling(ctx, ts, httpc, i)
					default:
						return
					}
					if err != nil && !failed.Swap(true) {
						t.Errorf("session %d: %v", i, err)
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		httpc.CloseIdleConnections()
		testutil.Eventually(t, "every session to end", func() bool { return srv.Engine().ClientsCount() == 0 && srv.Of("/").SocketsCount() == 0 })
		t.Logf("%d WebSocket cycles, %d abandoned polling sessions: %v", wsCycles, pollSessions, time.Since(start).Round(time.Millisecond))
	}

	// A first round brings up what stays for the server's life (pollers,
	// parked handler goroutines, pooled buffers) and warms the runtime.
	run(200, 100)
	goroutines, heap := soakUsage(srv)
	run(soakWSCycles, soakPollingSessions)
	var g int
	var h uint64
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, h = soakUsage(srv)
		if g <= goroutines+soakGoroutineMargin && h <= heap+soakHeapMargin {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the soak: %d goroutines (%d before), %d KiB of heap (%d KiB before); goroutines:\n%s",
				g, goroutines, h>>10, heap>>10, goroutineSummary())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	t.Logf("goroutines %d -> %d, heap %d KiB -> %d KiB", goroutines, g, heap>>10, h>>10)
}

// soakUsage returns the number of goroutines, those parked for the next
// handler run left out (the server keeps up to maxIdleWorkers of them, as
// many as ran at once), and the live heap, after collecting garbage (twice:
// pooled objects survive one collection).
func soakUsage(srv *Server) (int, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	parked := srv.pool.Parked()
	return runtime.NumGoroutine() - parked, ms.HeapAlloc
}

// goroutineSummary counts the goroutines by the function they are in.
func goroutineSummary() string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	count := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(g, "\n")
		if len(lines) > 1 {
			fn := lines[1]
			if i := strings.LastIndexByte(fn, '('); i > 0 {
				fn = fn[:i] // without the arguments
			}
			count[fn]++
		}
	}
	var b strings.Builder
	for fn, n := range count {
		fmt.Fprintf(&b, "%5d %s\n", n, fn)
	}
	return b.String()
}

// soakWebSocket runs one WebSocket session: handshake, CONNECT to "/",
// for one in four an event and its acknowledgement, then one of three
// ends: a close handshake, an Engine.IO close packet, a cut connection.
func soakWebSocket(ctx context.Context, ts *testServer, httpc *http.Client, i int) error {
	ctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	u := "ws" + strings.TrimPrefix(ts.endpoint("websocket", nil), "http")
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: httpc})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer ws.CloseNow()
	read := func() (string, error) {
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return "", err
			}
			if string(b) == "2" { // a ping: answer it, and read on
				if err := ws.Write(ctx, websocket.MessageText, []byte("3")); err != nil {
					return "", err
				}
				continue
			}
			return string(b), nil
		}
	}
	expect := func(prefix string) error {
		got, err := read()
		if err != nil {
			return fmt.Errorf("reading %q: %w", prefix, err)
		}
		if !strings.HasPrefix(got, prefix) {
			return fmt.Errorf("got %q, expected %q", got, prefix)
		}
		return nil
	}
	write := func(s string) error { return ws.Write(ctx, websocket.MessageText, []byte(s)) }
	if err := expect("0{"); err != nil {
		return err
	}
	if err := write("40"); err != nil {
		return err
	}
	if err := expect(`40{"sid":`); err != nil {
		return err
	}
	if i%4 == 0 {
		if err := write(fmt.Sprintf(`421["echo",%d]`, i)); err != nil {
			return err
		}
		if err := expect(fmt.Sprintf(`431[%d]`, i)); err != nil {
			return err
		}
	}
	switch i % 3 {
	case 0:
		return ws.Close(websocket.StatusNormalClosure, "")
	case 1:
		if err := write("1"); err != nil {
			return err
		}
		// The server closes the connection.
		for {
			if _, err := read(); err != nil {
				return nil
			}
		}
	default:
		return nil // cut: CloseNow, deferred
	}
}

// soakAbandonPolling opens a polling session, joins "/" and goes away.
func soakAbandonPolling(ctx context.Context, ts *testServer, httpc *http.Client, i int) error {
	ctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	do := func(method, u, body string) (string, error) {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, r)
		if err != nil {
			return "", err
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s %s: %s", method, resp.Status, b)
		}
		return string(b), err
	}
	open, err := do(http.MethodGet, ts.endpoint("polling", nil), "")
	if err != nil {
		return err
	}
	sid, ok := strings.CutPrefix(open, `0{"sid":"`)
	if !ok {
		return fmt.Errorf("handshake: %q", open)
	}
	sid, _, _ = strings.Cut(sid, `"`)
	u := ts.endpoint("polling", map[string][]string{"sid": {sid}})
	if _, err := do(http.MethodPost, u, "40"); err != nil {
		return err
	}
	// The CONNECT reply may come after a ping on a loaded machine: poll
	// until it comes, answering pings.
	for {
		got, err := do(http.MethodGet, u, "")
		if err != nil {
			return err
		}
		if strings.Contains(got, `40{"sid":`) {
			return nil
		}
		if got != "2" {
			return errors.New("no CONNECT: " + got)
		}
		if _, err := do(http.MethodPost, u, "3"); err != nil {
			return err
		}
	}
}
