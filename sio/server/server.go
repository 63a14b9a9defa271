// Package server is a Socket.IO v5 server, wire-compatible with the
// official socket.io 4.x server and its clients: namespaces, middlewares,
// rooms, broadcasting, acknowledgements and binary, over the Engine.IO v4
// server of package engine.
//
// A Server is an http.Handler: mount it at its path ("/socket.io/" by
// default) on your own mux and listener.
//
// # Ordering and concurrency
//
// Packets are decoded on the connection's read path. Event handlers never
// run there: each socket has its own queue of handlers (events, the
// connection handler, disconnecting and disconnect), run one at a time and
// in order, on a goroutine that exists only while the queue is not empty.
// A handler may therefore block, including on EmitWithAck on its own
// socket: acknowledgements are delivered from the read path directly.
// Different sockets' handlers run concurrently.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/sio/engine"
)

// Options configures a Server. The zero value of every field means the
// official default given in its comment.
type Options struct {
	// Path is where the server answers (default "/socket.io/").
	Path string
	// ConnectTimeout closes a connection that has joined no namespace
	// within it (default 45s).
	ConnectTimeout time.Duration
	// PingInterval (default 25s), PingTimeout (default 20s),
	// UpgradeTimeout (default 10s), MaxHTTPBufferSize (default 1e6),
	// Transports (default polling and websocket), DisallowUpgrades, CORS
	// (default off) and AllowRequest are the Engine.IO options.
	PingInterval      time.Duration
	PingTimeout       time.Duration
	UpgradeTimeout    time.Duration
	MaxHTTPBufferSize int64
	Transports        []string
	DisallowUpgrades  bool
	CORS              *engine.CORSOptions
	AllowRequest      func(r *http.Request) error
	// MaxAttachments is the most binary attachments a packet may announce (default 10).
	MaxAttachments int
	// Adapter creates each namespace's adapter (default NewMemoryAdapter).
	Adapter AdapterFactory
	// Logger receives logs; nil means silent.
	Logger *slog.Logger
}

// Server is a Socket.IO server. Create it with New.
type Server struct {
	opts Options
	log  *slog.Logger
	eng  *engine.Server

	mu     sync.RWMutex
	nsps   map[string]*Namespace
	conns  map[*conn]struct{}
	closed bool
	// dynamic namespaces
	parents         []*Namespace
	cleanupChildren bool

	wg sync.WaitGroup // handler and connect goroutines
}

// New returns a server configured by opts (nil means all defaults). The
// main namespace "/" exists from the start.
func New(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if !strings.HasSuffix(o.Path, "/") {
		o.Path += "/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:  o,
		log:   o.Logger,
		nsps:  make(map[string]*Namespace),
		conns: make(map[*conn]struct{}),
	}
	s.eng = engine.NewServer(&engine.Options{
		PingInterval:      o.PingInterval,
		PingTimeout:       o.PingTimeout,
		UpgradeTimeout:    o.UpgradeTimeout,
		MaxHTTPBufferSize: o.MaxHTTPBufferSize,
		Transports:        o.Transports,
		DisallowUpgrades:  o.DisallowUpgrades,
		CORS:              o.CORS,
		AllowRequest:      o.AllowRequest,
		Logger:            o.Logger,
	})
	s.eng.OnConnection(s.onEngineConnection)
	s.Of("/")
	return s
}

// ServeHTTP serves the Socket.IO endpoint; requests outside Path get 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, s.opts.Path) && r.URL.Path+"/" != s.opts.Path {
		http.NotFound(w, r)
		return
	}
	s.eng.ServeHTTP(w, r)
}

// Engine returns the underlying Engine.IO server.
func (s *Server) Engine() *engine.Server { return s.eng }

// Of returns the namespace name, creating it if needed. A name without a
// leading slash gets one.
func (s *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(s, name)
	s.nsps[name] = n
	return n
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[name]
}

// Sockets returns the main namespace.
func (s *Server) Sockets() *Namespace { return s.Of("/") }

// OnConnection sets a connection handler on the main namespace.
func (s *Server) OnConnection(fn func(*Socket)) { s.Of("/").OnConnection(fn) }

// Use adds a middleware to the main namespace.
func (s *Server) Use(mw Middleware) { s.Of("/").Use(mw) }

// Emit emits to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.Of("/").Emit(event, args...) }

// To selects rooms of the main namespace for a broadcast.
func (s *Server) To(rooms ...Room) *BroadcastOperator { return s.Of("/").To(rooms...) }

// In is the same as To.
func (s *Server) In(rooms ...Room) *BroadcastOperator { return s.Of("/").In(rooms...) }

// Except excludes rooms of the main namespace from a broadcast.
func (s *Server) Except(rooms ...Room) *BroadcastOperator { return s.Of("/").Except(rooms...) }

func (s *Server) onEngineConnection(es *engine.Socket) {
	c := newConn(s, es)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close disconnects every socket at once (reason "server shutting down"),
// closes every connection and waits for the server's goroutines. It is
// idempotent.
func (s *Server) Close() error {
	s.closeSockets()
	err := s.eng.Close()
	s.wg.Wait()
	return err
}

// Shutdown disconnects every socket (reason "server shutting down"),
// answers pending long-polls and closes WebSockets after what is queued,
// then waits for the server's goroutines until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeSockets()
	err := s.eng.Shutdown(ctx)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
		<-done
	}
	return err
}

func (s *Server) closeSockets() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeAll(reasonServerShuttingDown)
	}
}
