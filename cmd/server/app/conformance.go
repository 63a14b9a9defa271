// Package app holds the server configurations of cmd/server: the demo chat,
// the conformance configuration the official protocol test suites expect
// (also the interop test app of e2e/testdata/node/CONTRACT.md), and the
// load-test handlers.
package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// Conformance is the configuration the official Engine.IO v4 and Socket.IO
// v5 protocol test suites expect, which is also the interop test app of
// e2e/testdata/node/CONTRACT.md: plain Engine.IO echoing at /engine.io/,
// Socket.IO at /socket.io/ with namespaces / and /custom.
type Conformance struct {
	Engine *engine.Server
	IO     *server.Server

	mu          sync.Mutex
	disconnects []disconnectRecord
}

type disconnectRecord struct {
	ID     string `json:"id"`
	Nsp    string `json:"nsp"`
	Reason string `json:"reason"`
}

// NewConformance builds the conformance servers. opts may override the
// Socket.IO options (nil: the suites' settings).
func NewConformance(logger *slog.Logger, opts *server.Options) *Conformance {
	cors := &engine.CORSOptions{Origin: []string{"*"}}
	eng := engine.NewServer(&engine.Options{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		CORS:              cors,
		Logger:            logger,
	})
	eng.OnConnection(func(s *engine.Socket) {
		s.OnMessage(func(data []byte, binary bool) {
			_ = s.SendMessage(data, binary)
		})
	})
	var o server.Options
	if opts != nil {
		o = *opts
	} else {
		o = server.Options{
			PingInterval:      300 * time.Millisecond,
			PingTimeout:       200 * time.Millisecond,
			MaxHTTPBufferSize: 1e6,
			ConnectTimeout:    time.Second,
			CORS:              cors,
		}
	}
	if o.Logger == nil {
		o.Logger = logger
	}
	c := &Conformance{Engine: eng, IO: server.New(&o)}
	for _, name := range []string{"/", "/custom"} {
		n := c.IO.Of(name)
		n.Use(func(s *server.Socket) error {
			var auth struct {
				Token any `json:"token"`
			}
			_ = s.Handshake().DecodeAuth(&auth)
			if auth.Token == "reject" {
				return &server.ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "bad token"}}
			}
			return nil
		})
		n.OnConnection(c.onConnection)
	}
	return c
}

// Handler returns the HTTP handler serving both paths.
func (c *Conformance) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", c.Engine)
	mux.Handle("/socket.io/", c.IO)
	return mux
}

// Close closes both servers.
func (c *Conformance) Close() {
	c.IO.Close()
	c.Engine.Close()
}

// Shutdown shuts both servers down gracefully.
func (c *Conformance) Shutdown(ctx context.Context) error {
	err := c.IO.Shutdown(ctx)
	if e := c.Engine.Shutdown(ctx); err == nil {
		err = e
	}
	return err
}

func ackNull(e *sio.Event) { _ = e.Ack(nil) }

// attachments returns the binary attachments of a received event.
func attachments(e *sio.Event) [][]byte {
	if e.Args.Len() == 0 {
		return nil
	}
	return e.Args[0].Attachments
}

func (c *Conformance) onConnection(s *server.Socket) {
	nsp := s.Namespace()
	_ = s.Emit("auth", s.Handshake().Auth)
	s.OnDisconnect(func(reason string) {
		c.mu.Lock()
		c.disconnects = append(c.disconnects, disconnectRecord{ID: s.ID(), Nsp: nsp.Name(), Reason: reason})
		if len(c.disconnects) > 50 {
			c.disconnects = c.disconnects[len(c.disconnects)-50:]
		}
		c.mu.Unlock()
	})
	s.On("message", func(e *sio.Event) { _ = s.Emit("message-back", e.Args.AsAny()...) })
	s.On("message-with-ack", func(e *sio.Event) { _ = e.Ack(e.Args.AsAny()...) })
	s.On("echo", func(e *sio.Event) { _ = e.Ack(e.Args.AsAny()...) })
	s.On("broadcast", func(e *sio.Event) { _ = nsp.Emit("broadcast", e.Args.AsAny()...) })
	s.On("join", func(e *sio.Event) {
		var room string
		_ = e.Args.Decode(&room)
		s.Join(room)
		ackNull(e)
	})
	s.On("leave", func(e *sio.Event) {
		var room string
		_ = e.Args.Decode(&room)
		s.Leave(room)
		ackNull(e)
	})
	s.On("rooms", func(e *sio.Event) {
		r := s.Rooms()
		sort.Strings(r)
		_ = e.Ack(r)
	})
	s.On("emit-to", func(e *sio.Event) {
		var req struct {
			Rooms      []string `json:"rooms"`
			Except     []string `json:"except"`
			Event      string   `json:"event"`
			FromSocket bool     `json:"fromSocket"`
		}
		_ = e.Args.Decode(&req)
		// The args as raw JSON, placeholders kept, so binary stays binary.
		var raw struct {
			Args json.RawMessage `json:"args"`
		}
		if e.Args.Len() > 0 {
			_ = json.Unmarshal(e.Args[0].Raw, &raw)
		}
		elems, _ := parser.Value{Raw: raw.Args, Attachments: attachments(e)}.Elems()
		var op *server.BroadcastOperator
		if req.FromSocket {
			op = s.Broadcast()
		} else {
			op = nsp.To()
		}
		op = op.To(req.Rooms...).Except(req.Except...)
		_ = op.Emit(req.Event, sio.Args(elems).AsAny()...)
		ackNull(e)
	})
	s.On("request-ack", func(e *sio.Event) {
		var (
			event     string
			timeoutMs int
		)
		_ = e.Args.Decode(&event, nil, &timeoutMs)
		var out []any
		if e.Args.Len() > 1 {
			elems, _ := e.Args[1].Elems()
			out = sio.Args(elems).AsAny()
		}
		ctx, cancel := context.WithTimeout(s.Context(), time.Duration(timeoutMs)*time.Millisecond)
		defer cancel()
		reply, err := s.EmitWithAck(ctx, event, out...)
		if err != nil {
			_ = e.Ack(map[string]any{"ok": false, "error": "timeout"})
			return
		}
		_ = e.Ack(map[string]any{"ok": true, "reply": reply.AsAny()})
	})
	s.On("server-disconnect", func(e *sio.Event) { s.Disconnect(false) })
	s.On("server-disconnect-all", func(e *sio.Event) { s.Disconnect(true) })
	s.On("last-disconnects", func(e *sio.Event) {
		c.mu.Lock()
		list := append([]disconnectRecord{}, c.disconnects...)
		c.mu.Unlock()
		_ = e.Ack(list)
	})
	s.On("binary-me", func(e *sio.Event) {
		_ = s.Emit("binary", []byte{1, 2, 3}, map[string]any{"nested": []byte{4}})
		ackNull(e)
	})
}
