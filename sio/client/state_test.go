package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rand   float64
		jitter float64
		want   []time.Duration
	}{
		{"no jitter", 0.3, 0, []time.Duration{1000, 2000, 4000, 5000, 5000}},
		{"even draw goes down", 0.25, 0.5, []time.Duration{875, 1750, 3500, 5000}},
		{"odd draw goes up", 0.15, 0.5, []time.Duration{1075, 2150, 4300, 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := backoff{min: time.Second, max: 5 * time.Second, jitter: tc.jitter, rand: func() float64 { return tc.rand }}
			for i, want := range tc.want {
				assert.Equal(t, want*time.Millisecond, b.duration(), "attempt %d", i)
			}
			assert.Equal(t, len(tc.want), b.attempts)
			b.reset()
			assert.Equal(t, 0, b.attempts)
		})
	}
}

func TestOptionDefaults(t *testing.T) {
	p, err := parseServerURL("https://example.com/admin?x=1")
	require.NoError(t, err)
	assert.Equal(t, "/admin", p.nsp)
	assert.Equal(t, "https://example.com:443", p.id())
	c, err := newConfig(p, &Options{Transport: newFakeTransport(), Path: "/custom"})
	require.NoError(t, err)
	assert.Equal(t, "/custom/", c.path)
	assert.Equal(t, DefaultTimeout, c.timeout)
	assert.Equal(t, time.Second, c.delay)
	assert.Equal(t, 5*time.Second, c.delayMax)
	assert.Equal(t, 0.5, c.jitter)
	assert.True(t, c.reconnection)
	assert.True(t, c.upgrade)
	assert.Equal(t, 1000, c.maxBuffered)
	assert.Equal(t, []string{TransportPolling, TransportWebSocket}, c.transports)
	assert.Equal(t, map[string][]string{"x": {"1"}}, c.query)

	p, err = parseServerURL("ws://[::1]:3000")
	require.NoError(t, err)
	assert.Equal(t, "/", p.nsp)
	assert.Equal(t, "http://[::1]:3000", p.id())
	_, err = newConfig(p, &Options{Transport: newFakeTransport(), Transports: []string{"webtransport"}})
	assert.Error(t, err)
	_, err = parseServerURL("localhost:3000")
	assert.Error(t, err)
}

// TestPingTimeout: a server that stops pinging is detected after
// pingInterval + pingTimeout.
func TestPingTimeout(t *testing.T) {
	ft := newFakeTransport()
	opts := wsOptions(ft)
	opts.DisableReconnection = true
	s, err := New("http://fake", opts)
	require.NoError(t, err)
	disc := make(chan sio.Reason, 1)
	s.OnDisconnect(func(r sio.Reason) { disc <- r })
	closes := make(chan sio.Reason, 1)
	s.Manager().OnClose(func(r sio.Reason) { closes <- r })
	pings := make(chan struct{}, 10)
	s.Manager().OnPing(func() { pings <- struct{}{} })
	go func() {
		ws := ft.acceptSocketIO(t, `{"sid":"s1","upgrades":[],"pingInterval":60,"pingTimeout":40,"maxPayload":1000}`, "a")
		ws.send("2")
	}()
	require.NoError(t, s.Connect(t.Context()))
	defer s.Disconnect()
	testutil.Recv(t, pings)
	start := time.Now()
	assert.Equal(t, sio.ReasonPingTimeout, testutil.Recv(t, disc))
	assert.Equal(t, sio.ReasonPingTimeout, testutil.Recv(t, closes))
	assert.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond)
	assert.False(t, s.Connected())
}

// TestPingPong: pings are answered and keep the connection alive.
func TestPingPong(t *testing.T) {
	ft := newFakeTransport()
	s, err := New("http://fake", wsOptions(ft))
	require.NoError(t, err)
	connected := make(chan *fakeWS, 1)
	go func() {
		connected <- ft.acceptSocketIO(t, `{"sid":"s1","upgrades":[],"pingInterval":40,"pingTimeout":30,"maxPayload":1000}`, "a")
	}()
	require.NoError(t, s.Connect(t.Context()))
	defer s.Disconnect()
	ws := testutil.Recv(t, connected)
	// 10 pings 30 ms apart (the server's pace): 300 ms, far beyond the
	// 70 ms deadline.
	tick := time.NewTicker(30 * time.Millisecond)
	defer tick.Stop()
	for range 10 {
		<-tick.C
		ws.send("2")
		f := testutil.Recv(t, ws.out)
		assert.Equal(t, "3", f.data)
	}
	assert.True(t, s.Connected())
}

// TestBufferWhileOffline: emits made before the connection are buffered
// (bounded, volatile ones dropped) and sent in order once connected.
func TestBufferWhileOffline(t *testing.T) {
	ft := newFakeTransport()
	opts := wsOptions(ft)
	opts.MaxBufferedPackets = 3
	s, err := New("http://fake", opts)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, s.Emit("e", i))
		require.NoError(t, s.Volatile().Emit("v", i))
	}
	err = s.Emit("e", 3)
	require.ErrorIs(t, err, ErrBufferFull)
	_, err = s.EmitWithAck(t.Context(), "e", 4)
	require.ErrorIs(t, err, ErrBufferFull)

	s.Open()
	defer s.Disconnect()
	ws := ft.acceptSocketIO(t, slowPings, "a")
	for i := range 3 {
		assert.Equal(t, fmt.Sprintf(`42["e",%d]`, i), ws.expect(t))
	}
	// Nothing else was sent: the next frame is the one emitted now.
	require.NoError(t, s.Emit("last"))
	assert.Equal(t, `42["last"]`, ws.expect(t))
}

// TestAckFailsOnDisconnect: acknowledgements of packets sent on a lost
// connection fail; those of buffered packets survive the reconnection.
func TestAckFailsOnDisconnect(t *testing.T) {
	ft := newFakeTransport()
	s, err := New("http://fake", wsOptions(ft))
	require.NoError(t, err)
	s.Open()
	defer s.Disconnect()
	ws := ft.acceptSocketIO(t, slowPings, "a")
	require.Eventually(t, s.Connected, 5*time.Second, time.Millisecond)

	sent := make(chan error, 1)
	require.NoError(t, s.EmitWithAckFunc("q", func(_ sio.Args, err error) { sent <- err }))
	assert.Equal(t, `420["q"]`, ws.expect(t))
	disc := make(chan sio.Reason, 1)
	s.OnDisconnect(func(r sio.Reason) { disc <- r })
	ws.Close()
	assert.Equal(t, sio.ReasonTransportClose, testutil.Recv(t, disc))
	assert.ErrorIs(t, testutil.Recv(t, sent), sio.ErrDisconnected)

	buffered := make(chan sio.Args, 1)
	require.NoError(t, s.EmitWithAckFunc("q2", func(a sio.Args, err error) {
		assert.NoError(t, err)
		buffered <- a
	}))
	ws = ft.acceptSocketIO(t, slowPings, "b")
	assert.Equal(t, `421["q2"]`, ws.expect(t))
	ws.send(`431["ok"]`)
	args := testutil.Recv(t, buffered)
	assert.Equal(t, `"ok"`, string(args.Raw(0)))

	// A client disconnect tells the server, then closes the connection.
	pending := make(chan error, 1)
	require.NoError(t, s.EmitWithAckFunc("q3", func(_ sio.Args, err error) { pending <- err }))
	assert.Equal(t, `422["q3"]`, ws.expect(t))
	s.Disconnect()
	assert.Equal(t, "41", ws.expect(t))
	assert.Equal(t, sio.ReasonClientDisconnect, testutil.Recv(t, disc))
	assert.ErrorIs(t, testutil.Recv(t, pending), sio.ErrDisconnected)
	assert.False(t, s.Active())
	select {
	case <-ws.closed:
	default:
		t.Fatal("the WebSocket is still open after Disconnect returned")
	}
}

// TestReconnectionBackoff: the manager retries with the configured delays
// until ReconnectionAttempts, then gives up.
func TestReconnectionBackoff(t *testing.T) {
	ft := newFakeTransport()
	ft.dialErr = fmt.Errorf("refused")
	opts := wsOptions(ft)
	opts.ReconnectionAttempts = 3
	opts.RandomizationFactor = -1
	s, err := New("http://fake", opts)
	require.NoError(t, err)
	m := s.Manager()
	var mu sync.Mutex
	var events []string
	record := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	m.OnError(func(error) { record("error") })
	m.OnReconnectAttempt(func(n int) { record(fmt.Sprint("attempt ", n)) })
	m.OnReconnectError(func(error) { record("reconnect_error") })
	failed := make(chan struct{})
	m.OnReconnectFailed(func() { record("failed"); close(failed) })
	connErrs := make(chan error, 10)
	s.OnConnectError(func(err error) { connErrs <- err })
	start := time.Now()
	s.Open()
	defer s.Disconnect()
	testutil.Recv(t, failed)
	// 10 + 20 + 20 ms of delays.
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	// The last reconnect_error is reported after "failed": wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n >= 11 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	assert.Equal(t, []string{
		"error",
		"attempt 1", "error", "reconnect_error",
		"attempt 2", "error", "reconnect_error",
		// As in the official client, giving up is decided (and reported)
		// before the last attempt's reconnect_error.
		"attempt 3", "error", "failed", "reconnect_error",
	}, events)
	mu.Unlock()
	for range 4 { // one connect_error per failed attempt
		assert.ErrorContains(t, testutil.Recv(t, connErrs), "refused")
	}
	assert.True(t, s.Active())
	assert.False(t, s.Connected())
}

// TestConnectTimeout: a handshake that does not complete in Options.Timeout
// fails with ErrConnectTimeout.
func TestConnectTimeout(t *testing.T) {
	ft := newFakeTransport()
	ft.do = func(ctx context.Context, _ *Request) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	_, err := Dial(t.Context(), "http://fake", &Options{Transport: ft, Timeout: 30 * time.Millisecond})
	assert.ErrorIs(t, err, ErrConnectTimeout)
}

func TestTryAllTransports(t *testing.T) {
	ft := newFakeTransport()
	ft.dialErr = fmt.Errorf("websocket blocked")
	var gets atomic.Int32
	ft.do = func(ctx context.Context, r *Request) ([]byte, error) {
		if r.Method == "GET" && gets.Add(1) == 1 {
			return []byte(`0{"sid":"s1","upgrades":[],"pingInterval":10000,"pingTimeout":5000,"maxPayload":1000}`), nil
		}
		if r.Method == "POST" {
			return []byte("ok"), nil
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	opts := &Options{Transport: ft, Transports: []string{TransportWebSocket, TransportPolling}, DisableReconnection: true}
	m, err := NewManager("http://fake", opts)
	require.NoError(t, err)
	errs := make(chan error, 1)
	m.OnError(func(err error) { errs <- err })
	m.Socket("/", nil).Open()
	assert.ErrorContains(t, testutil.Recv(t, errs), "websocket blocked")
	m.Close()

	opts.TryAllTransports = true
	m, err = NewManager("http://fake", opts)
	require.NoError(t, err)
	defer m.Close()
	m.Socket("/", nil).Open()
	require.Eventually(t, func() bool { return m.TransportName() == TransportPolling }, 5*time.Second, time.Millisecond)
}

// pollingServer is a fake long-polling server: POST bodies are reported on
// posts and each POST waits for a token on release; GETs wait for a payload
// on push.
type pollingServer struct {
	handshake string
	posts     chan string
	release   chan struct{}
	push      chan string
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	sawGet    atomic.Bool
}

func (p *pollingServer) do(ctx context.Context, r *Request) ([]byte, error) {
	if r.Method == "GET" {
		if !p.sawGet.Swap(true) {
			return []byte("0" + p.handshake), nil
		}
		select {
		case data := <-p.push:
			return []byte(data), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		m := p.maxFlight.Load()
		if n <= m || p.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case p.posts <- string(r.Body):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-p.release:
		return []byte("ok"), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestPollingBatches: one POST at a time, carrying everything queued
// meanwhile, within the server's maxPayload.
func TestPollingBatches(t *testing.T) {
	ps := &pollingServer{
		handshake: `{"sid":"s1","upgrades":[],"pingInterval":10000,"pingTimeout":5000,"maxPayload":60}`,
		posts:     make(chan string, 100),
		release:   make(chan struct{}, 100),
		push:      make(chan string, 100),
	}
	ft := newFakeTransport()
	ft.do = ps.do
	s, err := New("http://fake", &Options{Transport: ft, DisableReconnection: true})
	require.NoError(t, err)
	s.Open()
	defer func() {
		close(ps.release)
		s.Disconnect()
	}()
	assert.Equal(t, "40", testutil.Recv(t, ps.posts))
	ps.push <- `40{"sid":"a"}`
	require.Eventually(t, s.Connected, 5*time.Second, time.Millisecond)
	for i := range 6 {
		require.NoError(t, s.Emit("e", strings.Repeat("x", 10), i))
	}
	ps.release <- struct{}{} // the CONNECT POST
	// 42["e","xxxxxxxxxx",0] is 23 bytes: two per payload of at most 60.
	for i := 0; i < 6; i += 2 {
		body := testutil.Recv(t, ps.posts)
		assert.Equal(t, fmt.Sprintf(`42["e","xxxxxxxxxx",%d]`+"\x1e"+`42["e","xxxxxxxxxx",%d]`, i, i+1), body)
		assert.LessOrEqual(t, len(body), 60)
		ps.release <- struct{}{}
	}
	assert.Equal(t, int32(1), ps.maxFlight.Load())

	// Packets larger than maxPayload are refused.
	err = s.Emit("e", strings.Repeat("x", 60))
	assert.ErrorIs(t, err, sio.ErrPayloadTooLarge)
	// Binary attachments are counted base64-encoded on polling.
	err = s.Emit("e", make([]byte, 45))
	assert.ErrorIs(t, err, sio.ErrPayloadTooLarge)
	require.NoError(t, s.Emit("e", make([]byte, 40)))
	assert.Equal(t, `451-["e",{"_placeholder":true,"num":0}]`, testutil.Recv(t, ps.posts))
	ps.release <- struct{}{}
	assert.Equal(t, "b"+base64.StdEncoding.EncodeToString(make([]byte, 40)), testutil.Recv(t, ps.posts))
}

// TestRetriesQueue: with Retries, emits are sent one at a time, in order,
// and re-sent after an ack timeout.
func TestRetriesQueue(t *testing.T) {
	ft := newFakeTransport()
	opts := wsOptions(ft)
	opts.Retries = 1
	opts.AckTimeout = 40 * time.Millisecond
	s, err := New("http://fake", opts)
	require.NoError(t, err)
	s.Open()
	defer s.Disconnect()
	ws := ft.acceptSocketIO(t, slowPings, "a")
	require.Eventually(t, s.Connected, 5*time.Second, time.Millisecond)

	results := make(chan string, 10)
	for _, name := range []string{"a", "b"} {
		require.NoError(t, s.EmitWithAckFunc(name, func(a sio.Args, err error) {
			if err != nil {
				results <- name + ":" + err.Error()
				return
			}
			results <- name + ":" + string(a.Raw(0))
		}))
	}
	// "a" first, alone; not acknowledged: re-sent with a new id.
	assert.Equal(t, `420["a"]`, ws.expect(t))
	assert.Equal(t, `421["a"]`, ws.expect(t))
	// Second try not acknowledged either: "a" fails, "b" goes.
	assert.Equal(t, `422["b"]`, ws.expect(t))
	assert.Contains(t, testutil.Recv(t, results), "a:client: ack")
	ws.send(`432["b-ok"]`)
	assert.Equal(t, `b:"b-ok"`, testutil.Recv(t, results))

	// A disconnection during a try: the emit is sent again after the
	// reconnection.
	require.NoError(t, s.Emit("c"))
	assert.Equal(t, `423["c"]`, ws.expect(t))
	ws.Close()
	ws = ft.acceptSocketIO(t, slowPings, "b")
	f := ws.expect(t)
	assert.True(t, strings.HasPrefix(f, `42`) && strings.HasSuffix(f, `["c"]`), f)
}

// TestConnectPayload covers the CONNECT data with connection state recovery.
func TestConnectPayload(t *testing.T) {
	s := &Socket{}
	b, err := s.connectPayload(nil)
	require.NoError(t, err)
	assert.Nil(t, b)
	b, err = s.connectPayload(map[string]int{"a": 1})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":1}`, string(b))
	_, err = s.connectPayload("token")
	assert.Error(t, err)

	s.pid = "p1"
	b, err = s.connectPayload(nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"pid":"p1"}`, string(b))
	s.offset, s.hasOffset = "o9", true
	b, err = s.connectPayload(map[string]any{"a": 1, "pid": "mine"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":1,"pid":"mine","offset":"o9"}`, string(b))
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v))
}
