package engine

import (
	"log/slog"
	"net/http"
	"time"
)

// Options configures a Server. The zero value of every field means the
// official engine.io default, given in each field's comment.
type Options struct {
	// PingInterval is how often the server pings each client (default 25s).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong before it
	// closes the session with reason "ping timeout" (default 20s).
	PingTimeout time.Duration
	// UpgradeTimeout is how long an upgrade to WebSocket may take (default 10s).
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest message or polling payload a client
	// may send, in bytes (default 1e6). Larger POST bodies get 413; a larger
	// WebSocket message closes the connection.
	MaxHTTPBufferSize int64
	// Transports lists the transports clients may use, among "polling" and
	// "websocket" (default both).
	Transports []string
	// DisallowUpgrades turns off upgrades from polling to WebSocket
	// (upgrades are allowed by default, as upstream's allowUpgrades).
	DisallowUpgrades bool
	// CORS enables cross-origin requests; nil (the default) sends no CORS headers.
	CORS *CORSOptions
	// AllowRequest, when set, is asked about every handshake. A non-nil
	// error refuses it with 403 and {"code":4,"message":err.Error()}.
	AllowRequest func(r *http.Request) error
	// GenerateID returns the id of a new session (default: 15 random bytes, URL-safe base64).
	GenerateID func(r *http.Request) string
	// MaxQueuedBytes bounds what may wait for a slow client to read; a
	// session whose queue grows past it is closed with "transport error"
	// (default 64 MiB; negative means unbounded).
	MaxQueuedBytes int
	// Logger receives debug and error logs; nil means silent.
	Logger *slog.Logger
}

// CORSOptions are the cross-origin settings, with the names and defaults of
// the `cors` options the official server takes.
type CORSOptions struct {
	// Origin lists the allowed origins; "*" allows any (default "*").
	Origin []string
	// OriginFunc, when set, decides instead of Origin: it returns whether
	// origin is allowed.
	OriginFunc func(origin string, r *http.Request) bool
	// Methods advertised on preflight (default GET,HEAD,PUT,PATCH,POST,DELETE).
	Methods []string
	// AllowedHeaders advertised on preflight (default: those the request asks for).
	AllowedHeaders []string
	// ExposedHeaders lists the response headers the browser may read.
	ExposedHeaders []string
	// Credentials sets Access-Control-Allow-Credentials: true.
	Credentials bool
	// MaxAge, when positive, sets Access-Control-Max-Age in seconds.
	MaxAge int
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.MaxHTTPBufferSize <= 0 {
		c.MaxHTTPBufferSize = 1e6
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{"polling", "websocket"}
	}
	if c.MaxQueuedBytes == 0 {
		c.MaxQueuedBytes = 64 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (o *Options) allows(transport string) bool {
	for _, t := range o.Transports {
		if t == transport {
			return true
		}
	}
	return false
}
