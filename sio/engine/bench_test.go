//go:build !js

package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// echoHarness is a harness whose sessions echo every message.
func echoHarness(b *testing.B) *harness {
	return newHarness(b, &Options{MaxQueuedBytes: -1}, func(h *harness) {
		h.onMessage = func(s *Socket, data []byte, binary bool) { _ = s.SendMessage(data, binary) }
	})
}

// BenchmarkPollingRoundTrip measures one message sent by POST and echoed
// back on a GET.
func BenchmarkPollingRoundTrip(b *testing.B) {
	h := echoHarness(b)
	sid, _ := h.handshake()
	h.nextConn()
	b.ReportAllocs()
	for b.Loop() {
		if res := h.post(sid, "4hello world"); res.body != "ok" {
			b.Fatalf("POST: %+v", res)
		}
		if res := h.poll(sid); res.body != "4hello world" {
			b.Fatalf("GET: %+v", res)
		}
	}
}

// BenchmarkWebSocketRoundTrip measures one message echoed over WebSocket.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	h := echoHarness(b)
	c, _ := h.wsHandshake()
	h.nextConn()
	ctx := context.Background()
	msg := []byte("4hello world")
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, c.Write(ctx, websocket.MessageText, msg))
		_, got, err := c.Read(ctx)
		require.NoError(b, err)
		if string(got) != string(msg) {
			b.Fatalf("got %q", got)
		}
	}
}

// BenchmarkWebSocketBroadcast measures queueing one frame on many idle
// sessions and writing it out.
func BenchmarkWebSocketBroadcast(b *testing.B) {
	const n = 100
	h := echoHarness(b)
	conns := make([]*websocket.Conn, n)
	socks := make([]*Socket, n)
	for i := range n {
		conns[i], _ = h.wsHandshake()
		socks[i] = h.nextConn()
	}
	frame := Frame{Data: []byte("4broadcast")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range socks {
			require.NoError(b, s.Send(frame))
		}
		for _, c := range conns {
			if _, _, err := c.Read(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWebSocketSend measures one 100-byte message sent by the server
// (Socket.SendMessage) until the client has read it.
func BenchmarkWebSocketSend(b *testing.B) {
	h := echoHarness(b)
	c, _ := h.wsHandshake()
	s := h.nextConn()
	ctx := context.Background()
	msg := []byte(strings.Repeat("x", 100))
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, s.SendMessage(msg, false))
		_, got, err := c.Read(ctx)
		require.NoError(b, err)
		if len(got) != 1+len(msg) {
			b.Fatalf("got %q", got)
		}
	}
}

// BenchmarkPollingSend measures one 100-byte message sent by the server
// and fetched by a long-polling GET.
func BenchmarkPollingSend(b *testing.B) {
	h := echoHarness(b)
	sid, _ := h.handshake()
	s := h.nextConn()
	msg := []byte(strings.Repeat("x", 100))
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, s.SendMessage(msg, false))
		if res := h.poll(sid); len(res.body) != 1+len(msg) {
			b.Fatalf("GET: %+v", res)
		}
	}
}
