// Package server is a Socket.IO v5 server, wire-compatible with the
// official socket.io 4.x server and its clients: namespaces (dynamic ones
// too), middlewares, rooms, broadcasting, acknowledgements, binary and
// connection state recovery, over the Engine.IO v4 server of package
// engine. Rooms, broadcasts and recovery sessions go through an Adapter
// (in memory by default), so that a cluster adapter can spread them.
//
// A Server is an http.Handler: mount it at its path ("/socket.io/" by
// default) on your own mux and listener.
//
// # Ordering and concurrency
//
// Packets are decoded on the connection's read path. Handlers never run
// there: each connection has one queue of handlers (events, connection,
// disconnecting and disconnect handlers, and acknowledgement callbacks of
// every namespace joined over it), run one at a time in the order the
// packets arrived, on a goroutine that the connection has only while the
// queue is not empty (goroutines are reused from one connection to another).
// The read path itself may serve many connections (engine's pollers), so
// nothing user-supplied runs there but the match function of OfFunc. As with the official server, what a client sends is therefore
// handled in the order it was sent, across namespaces. A handler may block,
// including on EmitWithAck on its own socket: acknowledgements are
// delivered from the read path directly. Handlers of different connections
// run concurrently.
//
// # Panics in handlers
//
// Node crashes when a handler throws; we do better. A panic in user code
// the server calls is recovered where it is called, logged at Error level
// through Options.Logger with its stack ("sio: handler panicked", with the
// handler, namespace, socket id, panic value and stack), and only the
// socket concerned suffers; every other client is served on, and the
// connection's handler queue goes on with its next handler.
//
//   - An event handler, catch-all (OnAny) handler, packet middleware
//     (Socket.Use), OnError handler, connection handler (OnConnection),
//     acknowledgement callback (EmitWithAckFunc) or outgoing catch-all
//     handler (OnAnyOutgoing, which runs on the emitter's goroutine: the
//     emit then fails with sio.ErrDisconnected) disconnects its socket with
//     reason "server namespace disconnect", as Socket.Disconnect()
//     does: the client gets a DISCONNECT packet ("io server disconnect" for
//     it), after which the official client does not reconnect on its own,
//     so a handler that always panics is not run again and again. The
//     other namespaces of the connection stay connected.
//   - A namespace middleware (Use) refuses the connection: the client gets
//     a connect_error with the message "server error" (the panic value
//     stays in the log).
//   - A disconnecting or disconnect handler is only logged: the socket is
//     going already, and the next handlers and its clean-up still run.
//   - An OnServerSideEmit handler or an adapter's OnEvent hook is only
//     logged; a match function of OfFunc that panics counts as no match.
//
// Engine-level callbacks are recovered by package engine in the same way.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/internal/ordered"
	"github.com/gosio/socketio/sio/parser"
)

// Options configures a Server. The zero value of every field means the
// official default given in its comment.
type Options struct {
	// EngineOptions are the options of the Engine.IO server under the
	// Socket.IO server (PingInterval, CORS, Transports, Logger, ...; see
	// engine.Options), promoted: opts.CORS is opts.EngineOptions.CORS. With
	// AllowEIO3, the clients of socket.io 2.x (Socket.IO protocol revision
	// 4) are served too: such a client is connected to the main namespace
	// as soon as its connection opens; it joins another with the auth
	// payload in the namespace's query string ("/admin?token=abc"), which
	// becomes the handshake's auth; a refusal by a middleware carries the
	// error's data, or else its message, instead of {message, data}; there
	// is no connection state recovery for it. Logger is the server's logger
	// too (nil means silent).
	EngineOptions
	// Path is where the server answers (default "/socket.io/").
	Path string
	// ConnectTimeout closes a connection that has joined no namespace
	// within it (default 45s).
	ConnectTimeout time.Duration
	// AckTimeout is the default bound of a server-side EmitWithAck or
	// EmitWithAckFunc (on a socket or a broadcast) made without Timeout(d)
	// and, for EmitWithAck, with a context that has no deadline; it ends
	// with the same error as Timeout(AckTimeout). Zero (the default, as
	// upstream) means none: such an emit waits for the acknowledgement or
	// the disconnection.
	AckTimeout time.Duration
	// MaxAttachments is the most binary attachments a packet may announce (default 10).
	MaxAttachments int
	// Adapter creates each namespace's adapter (default NewMemoryAdapter).
	Adapter AdapterFactory
	// ConnectionStateRecovery turns on connection state recovery (off when
	// nil): a client whose connection was lost gets back its socket id,
	// rooms and data, and the events it missed, when it reconnects in time.
	ConnectionStateRecovery *RecoveryOptions
	// CleanupEmptyChildNamespaces removes a child namespace of a dynamic
	// namespace (OfRegexp, OfFunc) when its last socket leaves (upstream's
	// cleanupEmptyChildNamespaces; default false).
	CleanupEmptyChildNamespaces bool
	// Parser is the format of packets on the wire (default parser.JSON(),
	// the official default); clients must use the same, as with the
	// official parser option (for socket.io-msgpack-parser, see package
	// sio/parser/msgpack).
	Parser parser.Parser
}

// EngineOptions are the Engine.IO options, named here so that a server can
// be configured without importing package engine.
type EngineOptions = engine.Options

// CORSOptions are the cross-origin settings (Options.CORS; see
// engine.CORSOptions).
type CORSOptions = engine.CORSOptions

// RecoveryOptions configures connection state recovery (see the official
// documentation of connectionStateRecovery).
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long the state of a disconnected
	// socket, and the packets sent meanwhile, are kept (default 2 minutes).
	MaxDisconnectionDuration time.Duration
	// SkipMiddlewares skips the namespace's middlewares when the state of
	// a socket is recovered. Unlike the official option, whose default is
	// true, the zero value runs them.
	SkipMiddlewares bool
}

// Server is a Socket.IO server. Create it with New.
type Server struct {
	opts Options
	log  *slog.Logger
	eng  *engine.Server

	mu             sync.RWMutex
	nsps           map[string]*Namespace
	conns          map[*conn]struct{}
	closed         bool
	adaptersClosed bool
	parents        []*Namespace // dynamic namespaces

	// ctx ends when the server is closed; adapter calls made on behalf of
	// the server (persisting sessions) use it.
	ctx    context.Context
	cancel context.CancelFunc

	// parser is Options.Parser or the default; textWire is set for the
	// default, whose acknowledgements are encoded straight into the
	// event's own buffer.
	parser   parser.Parser
	textWire bool

	// instrumentation hooks (observe.go)
	obsMu sync.Mutex
	obs   observers
	onNsp []func(*Namespace)

	// pool runs the handler queues and the connect goroutines.
	pool ordered.Pool
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
	if o.ConnectionStateRecovery != nil {
		r := *o.ConnectionStateRecovery
		if r.MaxDisconnectionDuration <= 0 {
			r.MaxDisconnectionDuration = 2 * time.Minute
		}
		o.ConnectionStateRecovery = &r
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:     o,
		log:      o.Logger,
		nsps:     make(map[string]*Namespace),
		conns:    make(map[*conn]struct{}),
		parser:   o.Parser,
		textWire: o.Parser == nil,
		ctx:      ctx,
		cancel:   cancel,
	}
	s.obs.log = o.Logger
	s.pool.Park = maxIdleWorkers
	s.eng = engine.NewServer(&o.EngineOptions)
	if s.parser == nil {
		s.parser = parser.JSON()
	}
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

// Logger returns the server's logger (Options.Logger; silent when unset),
// for the adapters to log with.
func (s *Server) Logger() *slog.Logger { return s.log }

// Engine returns the underlying Engine.IO server.
func (s *Server) Engine() *engine.Server { return s.eng }

// Of returns the namespace name, creating it if needed. A name without a
// leading slash gets one.
func (s *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.Lock()
	if n := s.nsps[name]; n != nil {
		s.mu.Unlock()
		return n
	}
	n := newNamespace(s, name)
	s.nsps[name] = n
	fns := s.onNsp
	s.mu.Unlock()
	s.newNamespaceCreated(n, fns)
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

// Volatile returns a volatile broadcast on the main namespace.
func (s *Server) Volatile() *BroadcastOperator { return s.Of("/").Volatile() }

// Local returns a broadcast on the main namespace of this node only.
func (s *Server) Local() *BroadcastOperator { return s.Of("/").Local() }

// Compress returns a broadcast on the main namespace with the compression flag.
func (s *Server) Compress(on bool) *BroadcastOperator { return s.Of("/").Compress(on) }

// Timeout returns a broadcast on the main namespace whose acknowledgements
// are awaited for d.
func (s *Server) Timeout(d time.Duration) *BroadcastOperator { return s.Of("/").Timeout(d) }

// EmitWithAck emits to every socket of the main namespace and gathers the
// acknowledgements; see BroadcastOperator.EmitWithAck.
func (s *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]sio.Args, error) {
	return s.Of("/").EmitWithAck(ctx, event, args...)
}

// FetchSockets returns the sockets of the main namespace, on every node.
func (s *Server) FetchSockets(ctx context.Context) ([]RemoteSocket, error) {
	return s.Of("/").FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (s *Server) SocketsJoin(rooms ...Room) { s.Of("/").SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (s *Server) SocketsLeave(rooms ...Room) { s.Of("/").SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace.
func (s *Server) DisconnectSockets(close bool) { s.Of("/").DisconnectSockets(close) }

// ServerSideEmit sends an event to the main namespace of the other nodes.
func (s *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return s.Of("/").ServerSideEmit(ctx, event, args...)
}

func (s *Server) onEngineConnection(es *engine.Socket) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		// Opened while the server closes: closeSockets did not see it.
		es.Close()
		return
	}
	c := newConn(s, es)
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.obs.opened(es.ID(), es.Transport())
	if c.v3 {
		// As upstream: a socket.io 2.x client is in the main namespace
		// without asking.
		c.connect("/", nil)
	}
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close disconnects every socket at once (reason "server shutting down"),
// closes every connection and waits for the handlers under way to return.
// No handler starts after Close returns. It is idempotent.
func (s *Server) Close() error {
	s.closeSockets()
	err := s.eng.Close()
	s.stop()
	s.pool.Wait()
	s.closeAdapters()
	return err
}

// closeAdapters closes the adapter of every namespace, once (upstream's
// io.close() does so too): a cluster adapter ends its subscriptions.
func (s *Server) closeAdapters() {
	s.mu.Lock()
	if s.adaptersClosed {
		s.mu.Unlock()
		return
	}
	s.adaptersClosed = true
	var nsps []*Namespace
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	nsps = append(nsps, s.parents...)
	s.mu.Unlock()
	for _, n := range nsps {
		if err := n.adapter.Close(); err != nil {
			s.log.Debug("sio: closing an adapter failed", "nsp", n.name, "err", err)
		}
	}
}

// Shutdown disconnects every socket (reason "server shutting down"),
// answers pending long-polls and closes WebSockets after what is queued,
// then waits for the handlers under way to return, until ctx ends (it then
// returns ctx.Err(); the handlers still running finish on their own).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeSockets()
	err := s.eng.Shutdown(ctx)
	s.stop()
	done := make(chan struct{})
	go func() { s.pool.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	s.closeAdapters()
	return err
}

// stop forbids new goroutines; what runs goes on until it returns.
func (s *Server) stop() {
	s.pool.Stop()
	s.cancel()
}

// maxIdleWorkers bounds the goroutines kept parked for the next handler
// run (a few KiB of stack each).
const maxIdleWorkers = 256

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
