package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/gosio/socketio/sio/parser"
)

// Transport names, as used in Options.Transports and returned by
// Manager.TransportName.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Defaults, the official client's.
const (
	DefaultPath                 = "/socket.io/"
	DefaultTimeout              = 20 * time.Second
	DefaultReconnectionDelay    = time.Second
	DefaultReconnectionDelayMax = 5 * time.Second
	DefaultRandomizationFactor  = 0.5
	DefaultMaxBufferedPackets   = 1000
)

// SocketOptions configures one namespace socket (the options of the
// official client's Socket). The zero value is the official default.
type SocketOptions struct {
	// Auth is sent in the CONNECT packet of every (re)connection, as the
	// server's socket.handshake.auth. It must marshal to a JSON object; nil
	// sends none. Ignored when AuthFunc is set.
	Auth any
	// AuthFunc, when set, is called before every (re)connection of the
	// socket, on a goroutine of its own, and its result is sent as Auth. ctx
	// is cancelled when the attempt is abandoned. An error aborts the
	// connection like a server refusal (OnConnectError, no reconnection).
	AuthFunc func(ctx context.Context) (any, error)
	// AckTimeout is the default timeout of acknowledgements (Emitter.Timeout
	// overrides it); zero means none.
	AckTimeout time.Duration
	// Retries is the number of times an emit is re-sent when its
	// acknowledgement does not arrive (within AckTimeout) — the official
	// at-least-once delivery: with Retries > 0 every non-volatile emit
	// requests an acknowledgement and is queued, one emit in flight at a time
	// in order, until acknowledged or Retries+1 tries failed. Zero disables
	// the queue.
	Retries int
}

// Options configures a Manager (and, through the embedded SocketOptions, the
// socket New, Dial and Registry.Socket create, and the default of
// Manager.Socket). The zero value of every field
// is the official client's default; only Transport is required.
type Options struct {
	SocketOptions

	// Auth is SocketOptions.Auth, here so that a composite literal can set
	// it (client.Options{Auth: ...}); when both are set, SocketOptions.Auth
	// wins.
	Auth any
	// AuthFunc is SocketOptions.AuthFunc, here for the same reason; when
	// both are set, SocketOptions.AuthFunc wins.
	AuthFunc func(ctx context.Context) (any, error)

	// Transport does the I/O: native.New(nil) for native programs,
	// transport/wasm in the browser. Required.
	Transport Transport
	// Path is the server's Engine.IO path, "/socket.io/" by default. A
	// trailing slash is added when missing.
	Path string
	// Query holds additional query parameters of every request
	// (socket.handshake.query on the server). The query of the URL passed to
	// NewManager is added to it. A url.Values can be assigned to it.
	Query map[string][]string
	// ExtraHeaders are added to every HTTP request and WebSocket handshake
	// (where the platform allows: browsers ignore them for WebSocket). An
	// http.Header can be assigned to it.
	ExtraHeaders map[string][]string
	// Transports lists the transports to use, in order of preference:
	// by default polling then an upgrade to websocket. With only
	// TransportWebSocket there is no HTTP request at all.
	Transports []string
	// DisableUpgrade keeps the first transport instead of upgrading to
	// WebSocket.
	DisableUpgrade bool
	// RememberUpgrade starts with WebSocket when the previous connection of
	// the same Manager was upgraded to (or opened with) WebSocket.
	RememberUpgrade bool
	// TryAllTransports moves on to the next transport of Transports when
	// opening the connection with one fails.
	TryAllTransports bool
	// Timeout bounds each attempt at opening the Engine.IO connection
	// (20 s by default; negative means none).
	Timeout time.Duration
	// DisableReconnection turns automatic reconnection off.
	DisableReconnection bool
	// ReconnectionAttempts bounds the consecutive reconnection attempts;
	// zero means unlimited.
	ReconnectionAttempts int
	// ReconnectionDelay is the delay before the first reconnection attempt
	// (1 s by default); it doubles at every attempt, up to
	// ReconnectionDelayMax.
	ReconnectionDelay time.Duration
	// ReconnectionDelayMax caps the reconnection delay (5 s by default).
	ReconnectionDelayMax time.Duration
	// RandomizationFactor moves each delay randomly by up to this fraction
	// (0.5 by default; negative means no randomization).
	RandomizationFactor float64
	// MaxBufferedPackets bounds, per socket, the emits waiting for the
	// connection (and the retry queue): 1000 by default, negative means
	// unbounded. See ErrBufferFull.
	MaxBufferedPackets int
	// ForceNew makes Registry.Socket create a new Manager instead of reusing
	// the one of the same host (the official forceNew, or multiplex: false).
	ForceNew bool
	// Logger receives debug and error logs; nil means none. A *slog.Logger
	// satisfies it (slog.Default(), for instance).
	Logger Logger
	// Parser is the format of packets on the wire (default parser.JSON(),
	// the official default); it must be the server's (for
	// socket.io-msgpack-parser, see package sio/parser/msgpack).
	Parser parser.Parser
}

// Logger receives the client's logs: a message and alternating key/value
// pairs, as [log/slog.Logger] takes them (a *slog.Logger satisfies it). The
// package does not import log/slog, which keeps WebAssembly builds small.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

// nopLogger discards everything.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}

// config is Options resolved: defaults applied and the URL parsed.
type config struct {
	tr               Transport
	scheme           string // http or https
	host             string // host[:port]
	path             string
	query            map[string][]string
	header           map[string][]string
	transports       []string
	upgrade          bool
	rememberUpgrade  bool
	tryAllTransports bool
	timeout          time.Duration // <= 0: none
	reconnection     bool
	attempts         int // <= 0: unlimited
	delay, delayMax  time.Duration
	jitter           float64
	maxBuffered      int // < 0: unbounded
	log              Logger
	rand             func() float64
	parser           parser.Parser
	sock             SocketOptions // the default of Manager.Socket
}

// parsedURL is a server URL split as the official client's lookup does.
type parsedURL struct {
	scheme, host, nsp string
	query             map[string][]string
}

func parseServerURL(raw string) (parsedURL, error) {
	scheme, host, path, query, err := splitServerURL(raw)
	if err != nil {
		return parsedURL{}, err
	}
	var p parsedURL
	switch scheme {
	case "http", "ws":
		p.scheme = "http"
	case "https", "wss":
		p.scheme = "https"
	default:
		return parsedURL{}, errors.New("client: unsupported URL scheme " + strconv.Quote(scheme) + " in " + strconv.Quote(raw))
	}
	if host == "" {
		return parsedURL{}, errors.New("client: no host in URL " + strconv.Quote(raw))
	}
	p.host = host
	p.nsp = path
	if p.nsp == "" {
		p.nsp = "/"
	}
	p.query = query
	return p, nil
}

// id identifies the server a URL points to, for Registry: scheme, host and
// port (explicit or default).
func (p parsedURL) id() string {
	if hasPort(p.host) {
		return p.scheme + "://" + p.host
	}
	if p.scheme == "https" {
		return p.scheme + "://" + p.host + ":443"
	}
	return p.scheme + "://" + p.host + ":80"
}

func newConfig(p parsedURL, o *Options) (*config, error) {
	if o == nil || o.Transport == nil {
		return nil, ErrNoTransport
	}
	c := &config{
		tr:               o.Transport,
		scheme:           p.scheme,
		host:             p.host,
		path:             o.Path,
		query:            map[string][]string{},
		header:           o.ExtraHeaders,
		transports:       o.Transports,
		upgrade:          !o.DisableUpgrade,
		rememberUpgrade:  o.RememberUpgrade,
		tryAllTransports: o.TryAllTransports,
		timeout:          o.Timeout,
		reconnection:     !o.DisableReconnection,
		attempts:         o.ReconnectionAttempts,
		delay:            o.ReconnectionDelay,
		delayMax:         o.ReconnectionDelayMax,
		jitter:           o.RandomizationFactor,
		maxBuffered:      o.MaxBufferedPackets,
		log:              o.Logger,
		rand:             rand.Float64,
		parser:           o.Parser,
		sock:             *o.socketOptions(),
	}
	if c.parser == nil {
		c.parser = parser.JSON()
	}
	if c.path == "" {
		c.path = DefaultPath
	}
	if !strings.HasPrefix(c.path, "/") {
		c.path = "/" + c.path
	}
	if !strings.HasSuffix(c.path, "/") {
		c.path += "/"
	}
	for k, v := range p.query {
		c.query[k] = v
	}
	for k, v := range o.Query {
		c.query[k] = v
	}
	if len(c.transports) == 0 {
		c.transports = []string{TransportPolling, TransportWebSocket}
	}
	for _, t := range c.transports {
		if t != TransportPolling && t != TransportWebSocket {
			return nil, errors.New("client: unknown transport " + strconv.Quote(t))
		}
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.delay <= 0 {
		c.delay = DefaultReconnectionDelay
	}
	if c.delayMax <= 0 {
		c.delayMax = DefaultReconnectionDelayMax
	}
	switch {
	case c.jitter == 0:
		c.jitter = DefaultRandomizationFactor
	case c.jitter < 0:
		c.jitter = 0
	}
	if c.maxBuffered == 0 {
		c.maxBuffered = DefaultMaxBufferedPackets
	}
	if c.log == nil {
		c.log = nopLogger{}
	}
	return c, nil
}

// asciiLower lowers the ASCII letters of s (URL schemes are ASCII; this
// avoids the Unicode tables of strings.ToLower).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// socketOptions returns the options of the socket New, Dial and
// Registry.Socket create.
func (o *Options) socketOptions() *SocketOptions {
	so := o.SocketOptions
	if so.Auth == nil {
		so.Auth = o.Auth
	}
	if so.AuthFunc == nil {
		so.AuthFunc = o.AuthFunc
	}
	return &so
}
