// Package engine is an Engine.IO v4 server: HTTP long-polling, WebSocket,
// the upgrade between them and heartbeats, as the official `engine.io`
// package speaks them. It is the base of the Socket.IO server in package
// server, and usable on its own: sessions that send and receive messages.
//
// A Server is an http.Handler; mount it where clients expect it (usually
// "/engine.io/" or, under Socket.IO, "/socket.io/").
//
// # Panics in handlers
//
// Node crashes when a handler throws; we do better. A panic in a session's
// OnMessage, OnUpgrade or in the server's OnConnection handler is
// recovered where the handler is called, logged at Error level through
// Options.Logger with its stack ("engine: handler panicked"), and closes
// that session alone, at once, with reason "transport error" and a
// *PanicError (OnClose gets both; a panic in OnConnection makes the
// handshake fail). The read path goes on serving the other sessions it
// serves. A panic in OnClose is logged, and the release of the session
// completes.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/internal/fifo"
)

// ErrServerClosed is returned by operations on a closed Server.
var ErrServerClosed = errors.New("engine: server closed")

// Server is an Engine.IO server. Create it with NewServer.
type Server struct {
	opts         Options
	log          *slog.Logger
	onConnection func(*Socket)
	compress     compressors

	mu       sync.Mutex
	sessions map[string]*Socket
	closed   bool
	wg       sync.WaitGroup // every goroutine the server starts
	live     sync.WaitGroup // every registered session until its OnClose returned
	// closedByClient holds the sessions their clients closed over polling
	// a moment ago, for the GET that races the close (see closed.go).
	closedByClient closedSessions

	// ctx ends when the server closes; every session context derives from it.
	ctx    context.Context
	cancel context.CancelFunc

	// What the WebSockets share: buffers, pollers (see wsio).
	ws *wsStack

	// WebSocket sessions with something to write, served by up to
	// GOMAXPROCS flusher goroutines (see flushLoop).
	flushMu      sync.Mutex
	flushQueue   fifo.Queue[*Socket]
	flushWorkers int
}

// NewServer returns a server configured by opts (nil means all defaults).
func NewServer(opts *Options) *Server {
	o := opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:     o,
		log:      o.Logger,
		sessions: make(map[string]*Socket),
		ctx:      ctx,
		cancel:   cancel,
	}
	s.initWebSocket()
	warnCORS(o.CORS, s.log)
	return s
}

// OnConnection sets the function called for every new session, before any
// of its messages is delivered. It must be set before the server serves
// requests. Set the socket's OnMessage and OnClose handlers from it.
func (s *Server) OnConnection(fn func(*Socket)) { s.onConnection = fn }

// Options returns the options in force, defaults filled in. Cookie and
// HTTPCompression are copies.
func (s *Server) Options() Options {
	o := s.opts
	if o.Cookie != nil {
		c := *o.Cookie
		o.Cookie = &c
	}
	if o.HTTPCompression != nil {
		c := *o.HTTPCompression
		o.HTTPCompression = &c
	}
	return o
}

// ClientsCount returns the number of open sessions.
func (s *Server) ClientsCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Socket returns the open session with id sid, or nil.
func (s *Server) Socket(sid string) *Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sid]
}

// ServeHTTP handles the Engine.IO requests: handshakes, long-polling GETs
// and POSTs, and WebSocket connections and upgrades.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if applyCORS(s.opts.CORS, w, r) {
		return
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	if !s.opts.allows(transport) {
		s.refuse(w, r, http.StatusBadRequest, eio.CodeUnknownTransport, map[string]any{"transport": transport})
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !validHeaderValue(origin) {
		s.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{"name": "INVALID_ORIGIN", "origin": origin})
		return
	}
	isWS := isWebSocketRequest(r)
	if sid := q.Get("sid"); sid != "" {
		sess := s.Socket(sid)
		if sess == nil {
			if transport == eio.TransportPolling && r.Method == http.MethodGet && s.answerClosed(w, r, sid) {
				return
			}
			s.refuse(w, r, http.StatusBadRequest, eio.CodeUnknownSID, map[string]any{"sid": sid})
			return
		}
		if transport == eio.TransportWebSocket {
			if !isWS {
				s.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"})
				return
			}
			sess.serveUpgrade(w, r)
			return
		}
		if prev := sess.transportName(); prev != eio.TransportPolling {
			s.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{
				"name": "TRANSPORT_MISMATCH", "transport": transport, "previousTransport": prev,
			})
			return
		}
		switch r.Method {
		case http.MethodGet:
			sess.servePoll(w, r)
		case http.MethodPost:
			sess.serveData(w, r)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
		return
	}
	// A handshake.
	if r.Method != http.MethodGet {
		s.refuse(w, r, http.StatusBadRequest, eio.CodeBadHandshakeMethod, map[string]any{"method": r.Method})
		return
	}
	if transport == eio.TransportWebSocket && !isWS {
		s.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"})
		return
	}
	if s.opts.AllowRequest != nil {
		if err := s.opts.AllowRequest(r); err != nil {
			s.refuse(w, r, http.StatusForbidden, eio.CodeForbidden, map[string]any{"message": err.Error()})
			return
		}
	}
	if requestProtocol(q) == protocol3 {
		if !s.opts.AllowEIO3 {
			s.refuse(w, r, http.StatusBadRequest, eio.CodeUnsupportedProtocolVersion, map[string]any{"protocol": protocol3})
			return
		}
		if q.Has("j") {
			// JSONP polling, which only protocol 3 clients use, is not supported.
			s.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{"name": "JSONP_UNSUPPORTED"})
			return
		}
	}
	if s.isClosed() {
		s.refuse(w, r, http.StatusServiceUnavailable, eio.CodeBadRequest, map[string]any{"name": "SERVER_CLOSED", "message": "Server closed"})
		return
	}
	id := s.newID(r)
	if transport == eio.TransportWebSocket {
		s.handshakeWebSocket(w, r, id)
		return
	}
	sess, err := s.newSession(id, r, eio.TransportPolling, nil)
	if err != nil {
		s.log.Debug("engine: handshake failed", "err", err)
		if errors.Is(err, errDuplicateID) {
			s.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{"name": "ID_GENERATION_ERROR", "error": err})
			return
		}
		// Closed by the connection handler, or the server closed meanwhile:
		// not a refused request.
		s.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		return
	}
	sess.servePoll(w, r)
}

// newID returns the id of a new session: Options.GenerateID's, or a random one.
func (s *Server) newID(r *http.Request) string {
	if s.opts.GenerateID != nil {
		return s.opts.GenerateID(r)
	}
	return generateID()
}

// abort answers a refused request with the official error body.
func (s *Server) abort(w http.ResponseWriter, r *http.Request, status int, code eio.ErrorCode, msg string) {
	s.log.Debug("engine: request refused", "code", int(code), "url", r.URL.String(), "message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(code.AppendJSON(nil, msg))
}

// newSession registers session id, queues its open packet, starts its
// heartbeat and calls the connection handler. It fails when the server is
// closed, the id is taken, or the session was closed by the time the
// handler returned.
func (s *Server) newSession(id string, r *http.Request, transport string, ws wsConn) (*Socket, error) {
	sess := newSocket(s, id, r, transport, ws)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrServerClosed
	}
	if _, dup := s.sessions[id]; dup || id == "" {
		s.mu.Unlock()
		return nil, fmt.Errorf("engine: session id %q unusable: %w", id, errDuplicateID)
	}
	s.sessions[id] = sess
	s.live.Add(1)
	s.mu.Unlock()

	upgrades := []string{}
	if transport == eio.TransportPolling && !s.opts.DisallowUpgrades && s.opts.allows(eio.TransportWebSocket) {
		upgrades = append(upgrades, eio.TransportWebSocket)
	}
	hs := eio.Handshake{
		SID:          id,
		Upgrades:     upgrades,
		PingInterval: s.opts.PingInterval.Milliseconds(),
		PingTimeout:  s.opts.PingTimeout.Milliseconds(),
		MaxPayload:   s.opts.MaxHTTPBufferSize,
	}
	open := append([]byte{'0'}, hs.AppendJSON(nil)...)
	sess.mu.Lock()
	overflow := sess.enqueueLocked(Frame{Data: open})
	sess.mu.Unlock()
	if overflow {
		sess.closeWith(sio.ReasonTransportError, ErrQueueFull, false)
	}
	sess.startHeartbeat()
	s.log.Debug("engine: session opened", "sid", id, "transport", transport)
	if s.onConnection != nil {
		s.callOnConnection(sess)
	}
	if !sess.connected() {
		return nil, ErrClosed
	}
	return sess, nil
}

var errDuplicateID = errors.New("duplicate or empty session id")

// isClosed reports whether Close or Shutdown was called.
func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// remove unregisters sess. With byClient (its client closed it over
// polling), a GET racing the close is answered for a moment (see
// answerClosed); both happen at once, so that a GET finds one or the other.
func (s *Server) remove(sess *Socket, byClient bool) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
		if byClient && !s.closed {
			s.closedByClient.add(sess.id, closedSession{codec: sess.codec}, time.Now())
		}
	}
	s.mu.Unlock()
}

// answerClosed answers a GET of session sid, which its client has just
// closed over polling, with a noop, as the GET would have been answered
// had it come a moment earlier. It reports false, having written nothing,
// for any other session.
func (s *Server) answerClosed(w http.ResponseWriter, r *http.Request, sid string) bool {
	s.mu.Lock()
	cs, ok := s.closedByClient.take(sid, time.Now())
	s.mu.Unlock()
	if !ok {
		return false
	}
	gone := &Socket{srv: s, id: sid, codec: cs.codec}
	gone.writePayload(w, r, nil)
	return true
}

// Close closes every session at once (reason "forced server close"; a
// graceful close under way ends at once too) and refuses new ones. It
// waits until every session's OnClose has returned and the server's
// goroutines have ended, so it must not be called from an OnClose or
// OnConnection handler. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.closedByClient.reset()
	list := make([]*Socket, 0, len(s.sessions))
	for _, sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()
	for _, sess := range list {
		sess.closeWith(sio.ReasonForcedServerClose, nil, false)
	}
	// Sessions closed by other goroutines may still be in OnClose.
	s.live.Wait()
	s.cancel()
	s.wg.Wait()
	return nil
}

// Shutdown closes every session gracefully: queued packets are flushed
// (a pending long-poll is answered with them and a close packet; a
// WebSocket is closed after them). It waits for the sessions to end until
// ctx ends, then closes what is left at once, as Close does, and returns
// ctx's error. Like Close, it must not be called from a handler.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	list := make([]*Socket, 0, len(s.sessions))
	for _, sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()
	for _, sess := range list {
		sess.Close()
	}
	var err error
wait:
	for _, sess := range list {
		select {
		case <-sess.done:
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		}
	}
	_ = s.Close()
	return err
}

// generateID returns 20 URL-safe characters from 15 random bytes, like
// the official base64id.
func generateID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

func isWebSocketRequest(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// validHeaderValue reports whether v has no control characters, as
// upstream's checkInvalidHeaderChar.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// goOwned runs fn on a goroutine the server waits for in Close, unless the
// server is closed, when it reports false.
func (s *Server) goOwned(fn func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}
