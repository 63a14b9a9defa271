// Package admin is the server side of the official Socket.IO Admin UI
// (@socket.io/admin-ui 0.5): Instrument adds to a server the admin
// namespace that the UI, hosted at https://admin.socket.io or served from
// the ui/dist folder of the npm package, connects to. The UI then shows the
// servers, namespaces, clients, sockets (with their handshake, rooms and
// transport), rooms and events, and can make sockets join and leave rooms,
// disconnect them and emit to them, unless the instrumentation is read-only.
//
// It speaks the same events as upstream's instrument(io, options), with
// the same options: basic authentication with a bcrypt-hashed password and
// sessions kept in a Store, a production mode that sends only aggregates,
// read-only mode, the admin namespace's name and the server id. Everything
// goes through the namespaces' adapters as upstream's does, so with a
// cluster adapter the UI connected to any node sees every node: each node
// broadcasts its statistics and events to the admin namespace, the list of
// sockets comes from FetchSockets and the UI's actions from SocketsJoin,
// SocketsLeave and DisconnectSockets.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/server"
)

// Modes of Options.Mode.
const (
	// ModeDevelopment sends every event: sockets connecting and
	// disconnecting, rooms joined and left, the events received and sent.
	ModeDevelopment = "development"
	// ModeProduction sends only the statistics every two seconds
	// (connections, disconnections, bytes and packets per second, sockets
	// per namespace), which costs little on a busy server.
	ModeProduction = "production"
)

// BasicAuth is the login of the admin UI.
type BasicAuth struct {
	Username string
	// PasswordHash is the bcrypt hash of the password ("$2a$…", "$2b$…"
	// or "$2y$…"), e.g. from golang.org/x/crypto/bcrypt or from
	// bcryptjs as upstream's documentation shows.
	PasswordHash string
}

// Options configures Instrument. Unlike upstream, where omitting auth is
// an error and auth: false turns it off, Auth nil is an error unless
// NoAuth is set.
type Options struct {
	// Auth is the login the UI must give.
	Auth *BasicAuth
	// NoAuth lets anyone who reaches the server use the admin UI (and so,
	// unless ReadOnly, disconnect sockets). Use with care.
	NoAuth bool
	// Mode is ModeDevelopment (the default) or ModeProduction.
	Mode string
	// ReadOnly hides the UI's actions (join, leave, disconnect, emit) and
	// ignores them.
	ReadOnly bool
	// NamespaceName is the admin namespace (default "/admin").
	NamespaceName string
	// ServerID names this server in the UI (default: the host name). Give
	// each node of a cluster its own.
	ServerID string
	// Store keeps the UI's sessions (default: a new MemoryStore).
	Store Store
	// Logger receives debug logs; nil means the server's logger.
	Logger *slog.Logger
}

// Feature names of the "config" event.
const (
	featEmit        = "EMIT"
	featJoin        = "JOIN"
	featLeave       = "LEAVE"
	featDisconnect  = "DISCONNECT"
	featMJoin       = "MJOIN"
	featMLeave      = "MLEAVE"
	featMDisconnect = "MDISCONNECT"
	featAggregated  = "AGGREGATED_EVENTS"
	featAllEvents   = "ALL_EVENTS"
)

// statsInterval is how often server_stats is sent (upstream's).
const statsInterval = 2 * time.Second

// fetchTimeout bounds the FetchSockets of all_sockets on a cluster.
const fetchTimeout = 5 * time.Second

// ErrInvalidCredentials refuses a connection to the admin namespace; the UI
// shows its message and asks for the login again.
var ErrInvalidCredentials = errors.New("invalid credentials")

// Admin is the instrumentation of a server. Close stops it.
type Admin struct {
	srv      *server.Server
	nsp      *server.Namespace
	opts     Options
	hash     []byte
	log      *slog.Logger
	dev      bool
	features []string
	base     baseStats
	start    time.Time
	events   *eventBuffer

	mu      sync.Mutex
	nsps    map[string]*server.Namespace
	polling map[string]struct{}                    // connections on polling
	byConn  map[string]map[*server.Socket]struct{} // sockets by connection, for transport updates
	closed  bool

	// sessions to announce to admin sockets that logged in with the
	// password, from the middleware to the connection handler
	pending sync.Map // *server.Socket -> session id

	stop chan struct{}
	done chan struct{}
}

type baseStats struct {
	ServerID string `json:"serverId"`
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
}

// Instrument sets up the admin namespace on srv and starts sending
// statistics. Call it before serving, so that it sees every socket.
func Instrument(srv *server.Server, opts *Options) (*Admin, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	a := &Admin{
		srv:     srv,
		opts:    o,
		start:   time.Now(),
		events:  newEventBuffer(),
		nsps:    make(map[string]*server.Namespace),
		polling: make(map[string]struct{}),
		byConn:  make(map[string]map[*server.Socket]struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	switch {
	case o.Auth != nil:
		if _, err := bcrypt.Cost([]byte(o.Auth.PasswordHash)); err != nil {
			return nil, fmt.Errorf("admin: the password must be a valid bcrypt hash: %w", err)
		}
		a.hash = []byte(o.Auth.PasswordHash)
	case !o.NoAuth:
		return nil, errors.New("admin: Auth must be set, or NoAuth to turn authentication off")
	}
	switch o.Mode {
	case "", ModeDevelopment:
		a.dev = true
	case ModeProduction:
	default:
		return nil, fmt.Errorf("admin: unknown mode %q", o.Mode)
	}
	if a.opts.NamespaceName == "" {
		a.opts.NamespaceName = "/admin"
	}
	if a.opts.Store == nil {
		a.opts.Store = NewMemoryStore()
	}
	a.log = o.Logger
	if a.log == nil {
		a.log = srv.Logger()
	}
	host, _ := os.Hostname()
	a.base = baseStats{ServerID: o.ServerID, Hostname: host, PID: os.Getpid()}
	if a.base.ServerID == "" {
		a.base.ServerID = host
	}
	if !o.ReadOnly {
		// Our server has upstream's v4 API, so every action is there.
		a.features = []string{featEmit, featJoin, featLeave, featDisconnect, featMJoin, featMLeave, featMDisconnect}
	}
	a.features = append(a.features, featAggregated)
	if a.dev {
		a.features = append(a.features, featAllEvents)
	}

	a.nsp = srv.Of(a.opts.NamespaceName)
	if a.hash != nil {
		a.nsp.Use(a.authenticate)
	}
	// Every namespace, the admin one included, as upstream; in development
	// mode each gets the verbose listeners.
	srv.OnNamespace(a.addNamespace)
	a.nsp.OnConnection(a.onAdminConnection)
	srv.Observe(&server.ConnObserver{
		Opened:   a.connOpened,
		Upgraded: a.connUpgraded,
		Closed:   a.connClosed,
		Received: func(n int) {
			a.events.push("packetsIn", "", 1)
			a.events.push("bytesIn", "", n)
		},
		Sent: func(n int) {
			a.events.push("packetsOut", "", 1)
			a.events.push("bytesOut", "", n)
		},
	})
	go a.statsLoop()
	return a, nil
}

// Close stops sending statistics and events. The admin namespace stays,
// but its actions are ignored from then on.
func (a *Admin) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	close(a.stop)
	<-a.done
	return nil
}

func (a *Admin) isClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// Namespace returns the admin namespace.
func (a *Admin) Namespace() *server.Namespace { return a.nsp }

// authenticate is the admin namespace's middleware: a known session id,
// or the username and password.
func (a *Admin) authenticate(s *server.Socket) error {
	var auth map[string]any
	_ = s.Handshake().DecodeAuth(&auth)
	str := func(k string) string { v, _ := auth[k].(string); return v }
	ctx := s.Context()
	if id := str("sessionId"); id != "" {
		ok, err := a.opts.Store.SessionExists(ctx, id)
		if err != nil {
			a.log.Debug("admin: session store failed", "err", err)
		}
		if ok {
			return nil
		}
	}
	user, pass := str("username"), str("password")
	// The username comparison takes the same time whatever matches; the
	// bcrypt comparison runs anyway, so that a wrong username is not
	// faster to find out than a wrong password.
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.opts.Auth.Username)) == 1
	passOK := bcrypt.CompareHashAndPassword(a.hash, []byte(pass)) == nil
	if !userOK || !passOK {
		return ErrInvalidCredentials
	}
	id := randomID()
	if err := a.opts.Store.SaveSession(ctx, id); err != nil {
		a.log.Debug("admin: saving a session failed", "err", err)
	}
	// Upstream emits "session" from the middleware; the client delivers it
	// after CONNECT anyway, so we send it first thing once connected.
	a.pending.Store(s, id)
	return nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// onAdminConnection greets a socket of the admin UI: its session, the
// config, and in development mode every socket; then it serves its actions.
func (a *Admin) onAdminConnection(s *server.Socket) {
	if id, ok := a.pending.LoadAndDelete(s); ok {
		_ = s.Emit("session", id)
	}
	a.registerActions(s)
	_ = s.Emit("config", map[string]any{"supportedFeatures": a.features})
	if a.dev {
		_ = s.Emit("all_sockets", a.allSockets(s.Context()))
	}
}

// namespace returns a namespace known to the server, or nil: the UI's
// actions never create one.
func (a *Admin) namespace(name string) *server.Namespace {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nsps[name]
}

func (a *Admin) registerActions(s *server.Socket) {
	has := func(f string) bool { return slices.Contains(a.features, f) }
	// target is the namespace's sockets, or those in room filter.
	target := func(args sio.Args, nspIdx, filterIdx int) *server.BroadcastOperator {
		if a.isClosed() {
			return nil
		}
		n := a.namespace(argString(args, nspIdx))
		if n == nil {
			return nil
		}
		if f := argString(args, filterIdx); f != "" {
			return n.To(f)
		}
		return n.To()
	}
	if has(featEmit) {
		s.On("emit", func(e *sio.Event) {
			// emit(nsp, filter, event, ...args)
			op := target(e.Args, 0, 1)
			ev := argString(e.Args, 2)
			if op == nil || ev == "" {
				return
			}
			if err := op.Emit(ev, e.Args[3:].AsAny()...); err != nil {
				a.log.Debug("admin: emit failed", "event", ev, "err", err)
			}
		})
	}
	if has(featJoin) {
		s.On("join", func(e *sio.Event) {
			// join(nsp, room, filter)
			if op, room := target(e.Args, 0, 2), argString(e.Args, 1); op != nil && room != "" {
				op.SocketsJoin(room)
			}
		})
	}
	if has(featLeave) {
		s.On("leave", func(e *sio.Event) {
			if op, room := target(e.Args, 0, 2), argString(e.Args, 1); op != nil && room != "" {
				op.SocketsLeave(room)
			}
		})
	}
	if has(featDisconnect) {
		s.On("_disconnect", func(e *sio.Event) {
			// _disconnect(nsp, close, filter)
			var closeConn bool
			if len(e.Args) > 1 {
				_ = e.Args[1:2].Decode(&closeConn)
			}
			if op := target(e.Args, 0, 2); op != nil {
				op.DisconnectSockets(closeConn)
			}
		})
	}
}

// argString returns argument i when it is a string, else "".
func argString(args sio.Args, i int) string {
	if i >= len(args) {
		return ""
	}
	var v string
	if json.Unmarshal(args.Raw(i), &v) != nil {
		return ""
	}
	return v
}

// addNamespace is the OnNamespace handler.
func (a *Admin) addNamespace(n *server.Namespace) {
	a.mu.Lock()
	a.nsps[n.Name()] = n
	a.mu.Unlock()
	if !a.dev {
		return
	}
	n.OnConnection(func(s *server.Socket) { a.onSocket(n, s) })
	name := n.Name()
	n.OnSocketData(func(s *server.Socket) {
		data, _, _ := splitData(s.Data())
		a.emit("socket_updated", map[string]any{"id": s.ID(), "nsp": name, "data": data})
	})
	n.OnRoomEvent(func(e server.AdapterEvent) {
		switch e.Kind {
		case "join-room":
			a.emit("room_joined", name, e.Room, e.ID, now())
		case "leave-room":
			a.emit("room_left", name, e.Room, e.ID, now())
		}
	})
}

// onSocket reports a socket of n and what happens to it (development mode).
func (a *Admin) onSocket(n *server.Namespace, s *server.Socket) {
	name := n.Name()
	a.mu.Lock()
	set := a.byConn[s.ConnID()]
	if set == nil {
		set = make(map[*server.Socket]struct{})
		a.byConn[s.ConnID()] = set
	}
	set[s] = struct{}{}
	a.mu.Unlock()
	a.emit("socket_connected", a.serializeLocal(name, s), now())
	if n != a.nsp {
		s.OnAny(func(e *sio.Event) {
			a.emit("event_received", name, s.ID(), eventArgs(e), now())
		})
		s.OnAnyOutgoing(func(e *sio.Event) {
			a.emit("event_sent", name, s.ID(), eventArgs(e), now())
		})
	}
	s.OnDisconnect(func(reason sio.Reason) {
		a.mu.Lock()
		if set := a.byConn[s.ConnID()]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(a.byConn, s.ConnID())
			}
		}
		a.mu.Unlock()
		a.emit("socket_disconnected", name, s.ID(), string(reason), now())
	})
}

// eventArgs is [name, ...args], as the UI wants them.
func eventArgs(e *sio.Event) []any {
	return append([]any{e.Name}, e.Args.AsAny()...)
}

// emit sends an event to the admin UI on every node.
func (a *Admin) emit(event string, args ...any) {
	if a.isClosed() {
		return
	}
	if err := a.nsp.Emit(event, args...); err != nil {
		a.log.Debug("admin: emit failed", "event", event, "err", err)
	}
}

// now is the timestamp of an event, as a JavaScript Date is sent: an
// ISO 8601 string in UTC with milliseconds.
func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func (a *Admin) connOpened(id, transport string) {
	a.events.push("rawConnection", "", 1)
	if transport == "polling" {
		a.mu.Lock()
		a.polling[id] = struct{}{}
		a.mu.Unlock()
	}
}

func (a *Admin) connUpgraded(id, transport string) {
	a.mu.Lock()
	delete(a.polling, id)
	var socks []*server.Socket
	for s := range a.byConn[id] {
		socks = append(socks, s)
	}
	a.mu.Unlock()
	for _, s := range socks {
		a.emit("socket_updated", map[string]any{"id": s.ID(), "nsp": s.Namespace().Name(), "transport": transport})
	}
}

func (a *Admin) connClosed(id string, reason sio.Reason) {
	a.events.push("rawDisconnection", string(reason), 1)
	a.mu.Lock()
	delete(a.polling, id)
	a.mu.Unlock()
}

// serverStats is the payload of server_stats.
type serverStats struct {
	baseStats
	Uptime              float64           `json:"uptime"`
	ClientsCount        int               `json:"clientsCount"`
	PollingClientsCount int               `json:"pollingClientsCount"`
	AggregatedEvents    []aggregatedEvent `json:"aggregatedEvents"`
	Namespaces          []namespaceStats  `json:"namespaces"`
}

type namespaceStats struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

func (a *Admin) stats() serverStats {
	a.mu.Lock()
	polling := len(a.polling)
	nsps := make([]*server.Namespace, 0, len(a.nsps))
	for _, n := range a.nsps {
		nsps = append(nsps, n)
	}
	a.mu.Unlock()
	slices.SortFunc(nsps, func(x, y *server.Namespace) int { return strings.Compare(x.Name(), y.Name()) })
	st := serverStats{
		baseStats:           a.base,
		Uptime:              time.Since(a.start).Seconds(),
		ClientsCount:        a.srv.Engine().ClientsCount(),
		PollingClientsCount: polling,
		AggregatedEvents:    a.events.take(),
		Namespaces:          make([]namespaceStats, 0, len(nsps)),
	}
	for _, n := range nsps {
		st.Namespaces = append(st.Namespaces, namespaceStats{Name: n.Name(), SocketsCount: n.SocketsCount()})
	}
	return st
}

// statsLoop sends server_stats now and every two seconds until Close.
func (a *Admin) statsLoop() {
	defer close(a.done)
	t := time.NewTicker(statsInterval)
	defer t.Stop()
	for {
		a.emit("server_stats", a.stats())
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
	}
}

// serializedSocket is a socket as the UI shows it.
type serializedSocket struct {
	ID        string          `json:"id"`
	ClientID  string          `json:"clientId,omitempty"`
	Transport string          `json:"transport,omitempty"`
	Nsp       string          `json:"nsp"`
	Data      json.RawMessage `json:"data"`
	Handshake json.RawMessage `json:"handshake"`
	Rooms     []string        `json:"rooms"`
}

// clientIDLength is how much of the connection id the UI shows (upstream's).
const clientIDLength = 12

func (a *Admin) serializeLocal(nsp string, s *server.Socket) serializedSocket {
	out := a.serialize(nsp, s.ID(), s.Handshake(), s.Rooms(), s.Data())
	out.ClientID = s.ConnID()
	if len(out.ClientID) > clientIDLength {
		out.ClientID = out.ClientID[:clientIDLength]
	}
	out.Transport = s.Transport()
	return out
}

func (a *Admin) serialize(nsp, id string, hs *server.Handshake, rooms []server.Room, data any) serializedSocket {
	out := serializedSocket{ID: id, Nsp: nsp, Rooms: rooms, Data: json.RawMessage("{}"), Handshake: json.RawMessage("{}")}
	if out.Rooms == nil {
		out.Rooms = []string{}
	}
	out.Data, out.ClientID, out.Transport = splitData(data)
	if hs != nil {
		out.Handshake = serializeHandshake(hs)
	}
	return out
}

// splitData returns the socket's data as JSON, without the "_admin" entry
// that upstream's instrumentation keeps there (a Node.js node of the
// cluster sends it), and the client id and transport that entry holds.
func splitData(data any) (json.RawMessage, string, string) {
	if data == nil {
		return json.RawMessage("{}"), "", ""
	}
	b, err := json.Marshal(data)
	if err != nil {
		return json.RawMessage("{}"), "", ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return b, "", "" // not an object: shown as it is
	}
	raw, ok := obj["_admin"]
	if !ok {
		return b, "", ""
	}
	var adm struct {
		ClientID  string `json:"clientId"`
		Transport string `json:"transport"`
	}
	_ = json.Unmarshal(raw, &adm)
	delete(obj, "_admin")
	b, _ = json.Marshal(obj)
	return b, adm.ClientID, adm.Transport
}

// serializeHandshake keeps what upstream shows of a handshake (not the
// auth payload), with the address a proxy reports when there is one.
func serializeHandshake(hs *server.Handshake) json.RawMessage {
	b, err := json.Marshal(hs)
	if err != nil {
		return json.RawMessage("{}")
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return json.RawMessage("{}")
	}
	delete(m, "auth")
	addr := hs.Headers.Get("Cf-Connecting-Ip")
	if addr == "" {
		addr = hs.Headers.Get("X-Forwarded-For")
	}
	if addr != "" {
		m["address"], _ = json.Marshal(addr)
	}
	out, _ := json.Marshal(m)
	return out
}

// allSockets returns every socket of every namespace, on every node.
func (a *Admin) allSockets(ctx context.Context) []serializedSocket {
	a.mu.Lock()
	nsps := make([]*server.Namespace, 0, len(a.nsps))
	for _, n := range a.nsps {
		nsps = append(nsps, n)
	}
	a.mu.Unlock()
	slices.SortFunc(nsps, func(x, y *server.Namespace) int { return strings.Compare(x.Name(), y.Name()) })
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	out := []serializedSocket{}
	for _, n := range nsps {
		socks, err := n.FetchSockets(ctx)
		if err != nil {
			a.log.Debug("admin: fetching sockets failed", "nsp", n.Name(), "err", err)
		}
		for _, rs := range socks {
			if s := n.Socket(rs.ID()); s != nil {
				out = append(out, a.serializeLocal(n.Name(), s))
				continue
			}
			out = append(out, a.serialize(n.Name(), rs.ID(), rs.Handshake(), rs.Rooms(), rs.Data()))
		}
	}
	return out
}
