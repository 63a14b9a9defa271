//go:build !js

package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/socketio/sio"
)

// benchEnv is a server behind an httptest server and the raw WebSocket
// clients connected to its main namespace, all closed at the end of the
// benchmark.
type benchEnv struct {
	b       *testing.B
	srv     *Server
	hs      *httptest.Server
	sockets chan *Socket // server side of each new connection
	clients []*benchClient
}

// newBenchEnv starts a server whose main namespace runs setup on every
// socket (the "echo" handler acks with its arguments) before the socket is
// handed to the benchmark.
func newBenchEnv(b *testing.B, setup func(*Socket)) *benchEnv {
	b.Helper()
	env := &benchEnv{b: b, sockets: make(chan *Socket, 16)}
	env.srv = New(&Options{EngineOptions: EngineOptions{PingInterval: time.Minute, PingTimeout: time.Minute}})
	env.srv.OnConnection(func(s *Socket) {
		s.On("echo", func(e *sio.Event) { _ = e.Ack(e.Args.AsAny()...) })
		if setup != nil {
			setup(s)
		}
		env.sockets <- s
	})
	env.hs = httptest.NewServer(env.srv)
	b.Cleanup(func() {
		for _, c := range env.clients {
			_ = c.ws.CloseNow()
		}
		_ = env.srv.Close()
		env.hs.Close()
	})
	return env
}

// benchClient is a raw Engine.IO/Socket.IO client over WebSocket.
type benchClient struct {
	ws  *websocket.Conn
	buf bytes.Buffer
}

// connect opens a WebSocket session, joins "/" and returns the client with
// the server's socket.
func (env *benchEnv) connect() (*benchClient, *Socket) {
	b := env.b
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(env.hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	c := &benchClient{ws: ws}
	env.clients = append(env.clients, c)
	if open := c.read(ctx); !bytes.HasPrefix(open, []byte("0{")) {
		b.Fatalf("open packet: %q", open)
	}
	c.write(ctx, "40")
	if got := c.read(ctx); !bytes.HasPrefix(got, []byte("40{")) {
		b.Fatalf("CONNECT: %q", got)
	}
	select {
	case s := <-env.sockets:
		return c, s
	case <-ctx.Done():
		b.Fatal("no server socket")
		return nil, nil
	}
}

// read returns the next text frame, valid until the next read.
func (c *benchClient) read(ctx context.Context) []byte {
	_, r, err := c.ws.Reader(ctx)
	if err != nil {
		panic(fmt.Sprintf("read: %v", err))
	}
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(r); err != nil {
		panic(fmt.Sprintf("read: %v", err))
	}
	return c.buf.Bytes()
}

func (c *benchClient) write(ctx context.Context, frame string) {
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		panic(fmt.Sprintf("write: %v", err))
	}
}

// benchPayload is the 100-byte string argument of every benchmark event.
var benchPayload = strings.Repeat("x", 100)

// BenchmarkEmit measures Socket.Emit of one event with a 100-byte string
// to one WebSocket client, until the client has read it.
func BenchmarkEmit(b *testing.B) {
	env := newBenchEnv(b, nil)
	c, s := env.connect()
	ctx := context.Background()
	want := `42["msg","` + benchPayload + `"]`
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Emit("msg", benchPayload); err != nil {
			b.Fatal(err)
		}
		if got := c.read(ctx); string(got) != want {
			b.Fatalf("got %q", got)
		}
	}
}

// BenchmarkBroadcastRoom1000 measures one Emit to a room of 1,000
// WebSocket clients, until each has read it. deliveries/s is the fan-out
// throughput.
func BenchmarkBroadcastRoom1000(b *testing.B) {
	const n = 1000
	env := newBenchEnv(b, func(s *Socket) { s.Join("room") })
	clients := make([]*benchClient, n)
	for i := range clients {
		clients[i], _ = env.connect()
	}
	ctx := context.Background()
	want := `42["msg","` + benchPayload + `"]`
	op := env.srv.To("room")
	b.ReportAllocs()
	t0 := time.Now()
	for b.Loop() {
		if err := op.Emit("msg", benchPayload); err != nil {
			b.Fatal(err)
		}
		for _, c := range clients {
			if got := c.read(ctx); string(got) != want {
				b.Fatalf("got %q", got)
			}
		}
	}
	b.ReportMetric(float64(b.N*n)/time.Since(t0).Seconds(), "deliveries/s")
}

// BenchmarkAckRoundTrip measures a client's "echo" with an ack id until it
// reads the acknowledgement (the server acks with the same arguments).
func BenchmarkAckRoundTrip(b *testing.B) {
	env := newBenchEnv(b, nil)
	c, _ := env.connect()
	ctx := context.Background()
	b.ReportAllocs()
	var id uint64
	var frame, want []byte
	for b.Loop() {
		id++
		frame = append(strconv.AppendUint(append(frame[:0], "42"...), id, 10), `["echo","`+benchPayload+`"]`...)
		want = append(strconv.AppendUint(append(want[:0], "43"...), id, 10), `["`+benchPayload+`"]`...)
		if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
			b.Fatal(err)
		}
		if got := c.read(ctx); !bytes.Equal(got, want) {
			b.Fatalf("got %q, want %q", got, want)
		}
	}
}

// BenchmarkAckRoundTripParallel is BenchmarkAckRoundTrip with 64 clients
// each keeping one "echo" in flight: the server's throughput, not its
// latency.
func BenchmarkAckRoundTripParallel(b *testing.B) {
	const n = 64
	env := newBenchEnv(b, nil)
	pool := make(chan *benchClient, n)
	for range n {
		c, _ := env.connect()
		pool <- c
	}
	b.ReportAllocs()
	b.SetParallelism((n + 1) / 2)
	var once sync.Once
	b.RunParallel(func(pb *testing.PB) {
		var c *benchClient
		select {
		case c = <-pool:
		default:
			once.Do(func() { b.Error("more goroutines than clients") })
			return
		}
		ctx := context.Background()
		var id uint64
		var frame []byte
		for pb.Next() {
			id++
			frame = append(strconv.AppendUint(append(frame[:0], "42"...), id, 10), `["echo","`+benchPayload+`"]`...)
			if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
				panic(err)
			}
			if got := c.read(ctx); !bytes.HasPrefix(got, []byte("43")) {
				panic(fmt.Sprintf("got %q", got))
			}
		}
	})
}
