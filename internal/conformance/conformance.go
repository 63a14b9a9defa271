// Package conformance is the server configuration the official protocol
// test suites expect, which is also the interop test app of
// e2e/testdata/node/CONTRACT.md: cmd/server serves it (-mode conformance)
// and the library's and e2e's interop tests run it in-process. It is
// internal to the module so that the library's tests need not import a
// command's package.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// App is the configuration the official Engine.IO v4 and Socket.IO
// v5 protocol test suites expect, which is also the interop test app of
// e2e/testdata/node/CONTRACT.md: plain Engine.IO echoing at /engine.io/,
// Socket.IO at /socket.io/ with namespaces / and /custom, and the dynamic
// namespaces /dyn-N and /priv-N.
type App struct {
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

// DefaultOptions returns the Socket.IO options the protocol test suites
// expect, those New uses when given nil; cmd/server adds its
// adapter to them.
func DefaultOptions() *server.Options {
	return &server.Options{
		EngineOptions: server.EngineOptions{
			PingInterval:      300 * time.Millisecond,
			PingTimeout:       200 * time.Millisecond,
			MaxHTTPBufferSize: 1e6,
			CORS:              &server.CORSOptions{Origin: []string{"*"}},
		},
		ConnectTimeout: time.Second,
	}
}

// TestOptions are DefaultOptions with the slower heartbeat the interop
// tests use (CONTRACT.md: 1 s / 1 s, connect timeout 1 s), so that a loaded
// machine does not time out healthy clients; recovery turns on connection
// state recovery as server.js's SIO_RECOVERY=1 does.
func TestOptions(recovery bool) *server.Options {
	o := DefaultOptions()
	o.PingInterval, o.PingTimeout = time.Second, time.Second
	if recovery {
		o.ConnectionStateRecovery = &server.RecoveryOptions{MaxDisconnectionDuration: time.Minute, SkipMiddlewares: true}
	}
	return o
}

// New builds the conformance servers. opts may override the
// Socket.IO options (nil: the suites' settings).
func New(logger *slog.Logger, opts *server.Options) *App {
	cors := &server.CORSOptions{Origin: []string{"*"}}
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
	if opts == nil {
		opts = DefaultOptions()
	}
	o := *opts
	if o.Logger == nil {
		o.Logger = logger
	}
	c := &App{Engine: eng, IO: server.New(&o)}
	for _, name := range []string{"/", "/custom"} {
		c.setup(c.IO.Of(name), nil)
	}
	// Dynamic namespaces: their children get the same middleware and
	// handlers, plus broadcast-parent, which broadcasts on the parent.
	for _, re := range []string{`^/dyn-\d+$`, `^/priv-\d+$`} {
		parent := c.IO.OfRegexp(regexp.MustCompile(re))
		c.setup(parent, parent)
	}
	return c
}

// setup installs the contract's middleware and connection handler on n;
// parent, for a dynamic namespace, is what broadcast-parent broadcasts on.
func (c *App) setup(n, parent *server.Namespace) {
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
	n.OnConnection(func(s *server.Socket) { c.onConnection(s, parent) })
}

// Handler returns the HTTP handler serving both paths.
func (c *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", c.Engine)
	mux.Handle("/socket.io/", c.IO)
	return mux
}

// Close closes both servers.
func (c *App) Close() {
	c.IO.Close()
	c.Engine.Close()
}

// Shutdown shuts both servers down gracefully.
func (c *App) Shutdown(ctx context.Context) error {
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

// errForbidden is the packet middleware's refusal of "forbidden" events.
var errForbidden = errors.New("forbidden event")

func (c *App) onConnection(s *server.Socket, parent *server.Namespace) {
	nsp := s.Namespace()
	// Registered before anything is emitted, so that "auth" counts.
	var anyCount, outgoingCount atomic.Int64
	s.OnAny(func(*sio.Event) { anyCount.Add(1) })
	s.OnAnyOutgoing(func(*sio.Event) { outgoingCount.Add(1) })
	s.Use(func(e *sio.Event) error {
		if e.Name == "forbidden" {
			return errForbidden
		}
		return nil
	})
	s.OnError(func(err error) { _ = s.Emit("error-seen", err.Error()) })
	_ = s.Emit("auth", s.Handshake().Auth)
	s.OnDisconnect(func(reason sio.Reason) {
		c.mu.Lock()
		c.disconnects = append(c.disconnects, disconnectRecord{ID: s.ID(), Nsp: nsp.Name(), Reason: string(reason)})
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
	s.On("server-disconnect", func(e *sio.Event) { s.Disconnect() })
	s.On("server-disconnect-all", func(e *sio.Event) { s.CloseConnection() })
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
	// The packet middleware refuses it: this handler must never run.
	s.On("forbidden", func(e *sio.Event) { _ = s.Emit("forbidden-ran") })
	s.On("any-count", func(e *sio.Event) { _ = e.Ack(anyCount.Load()) })
	s.On("outgoing-count", func(e *sio.Event) { _ = e.Ack(outgoingCount.Load()) })
	s.On("broadcast-ack", func(e *sio.Event) {
		var timeoutMs float64
		_ = e.Args.Decode(&timeoutMs)
		replies, err := nsp.Timeout(time.Duration(timeoutMs*float64(time.Millisecond))).EmitWithAck(s.Context(), "ping-all")
		firsts := make([]any, 0, len(replies))
		for _, r := range replies {
			var v any
			if r.Len() > 0 {
				_ = r.Decode(&v)
			}
			firsts = append(firsts, v)
		}
		sortValues(firsts)
		res := map[string]any{"ok": err == nil, "replies": firsts}
		if err != nil {
			res["error"] = "timeout"
		}
		_ = e.Ack(res)
	})
	s.On("set-data", func(e *sio.Event) {
		var v any
		_ = e.Args.Decode(&v)
		s.SetData(v)
		ackNull(e)
	})
	s.On("fetch-sockets", func(e *sio.Event) {
		var req struct {
			Room *string `json:"room"`
		}
		_ = e.Args.Decode(&req)
		op := nsp.To()
		if req.Room != nil {
			op = op.In(*req.Room)
		}
		sockets, err := op.FetchSockets(s.Context())
		if err != nil {
			return
		}
		type info struct {
			ID    string   `json:"id"`
			Rooms []string `json:"rooms"`
			Data  any      `json:"data"`
		}
		list := make([]info, 0, len(sockets))
		for _, rs := range sockets {
			rooms := append([]string{}, rs.Rooms()...)
			sort.Strings(rooms)
			data := rs.Data()
			if data == nil {
				data = map[string]any{} // upstream's socket.data starts as {}
			}
			list = append(list, info{ID: rs.ID(), Rooms: rooms, Data: data})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		_ = e.Ack(list)
	})
	roomAndTarget := func(e *sio.Event) (room, target string) {
		var req struct {
			Room   string `json:"room"`
			Target string `json:"target"`
		}
		_ = e.Args.Decode(&req)
		return req.Room, req.Target
	}
	s.On("sockets-join", func(e *sio.Event) {
		room, target := roomAndTarget(e)
		nsp.In(target).SocketsJoin(room)
		ackNull(e)
	})
	s.On("sockets-leave", func(e *sio.Event) {
		room, target := roomAndTarget(e)
		nsp.In(target).SocketsLeave(room)
		ackNull(e)
	})
	s.On("disconnect-room", func(e *sio.Event) {
		room, _ := roomAndTarget(e)
		nsp.In(room).DisconnectSockets(false)
		ackNull(e)
	})
	s.On("volatile-burst", func(e *sio.Event) {
		var n float64
		_ = e.Args.Decode(&n)
		for i := 0; i < int(n); i++ {
			_ = s.Volatile().Emit("vol", i)
		}
		ackNull(e)
	})
	if parent != nil {
		s.On("broadcast-parent", func(e *sio.Event) { _ = parent.Emit("broadcast", e.Args.AsAny()...) })
	}
}

// sortValues sorts strings in byte order, other values by their JSON, as
// server.js does (the same order for the ASCII strings of the scenarios).
func sortValues(list []any) {
	key := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	sort.SliceStable(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
}
