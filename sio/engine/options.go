package engine

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gosio/socketio/sio/eio"
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

	// Cookie, when set, makes the handshake response (polling or
	// WebSocket) set a cookie holding the session id, for sticky sessions
	// behind a load balancer (upstream's cookie option; off by default).
	Cookie *CookieOptions
	// HTTPCompression configures the compression of polling responses;
	// nil means the defaults (a threshold of 1024 bytes). Upstream's
	// httpCompression, on by default.
	HTTPCompression *HTTPCompressionOptions
	// DisableHTTPCompression turns off the compression of polling
	// responses (upstream's httpCompression: false).
	DisableHTTPCompression bool
	// PerMessageDeflate turns on the WebSocket permessage-deflate
	// extension, without context takeover, for the clients that offer it
	// (upstream's perMessageDeflate; off by default).
	PerMessageDeflate bool
	// PerMessageDeflateThreshold is the smallest WebSocket message that is
	// compressed when PerMessageDeflate is on, in bytes (default 1024).
	PerMessageDeflateThreshold int
	// OnInitialHeaders, when set, may change the headers of the response
	// to a handshake (the first request of a session, polling or
	// WebSocket) before they are written. Upstream's "initial_headers" event.
	OnInitialHeaders func(h http.Header, r *http.Request)
	// OnHeaders, when set, may change the headers of every polling
	// response and of every WebSocket handshake or upgrade response before
	// they are written (after OnInitialHeaders). Upstream's "headers" event.
	// Refused requests (see OnConnectionError) do not go through it.
	OnHeaders func(h http.Header, r *http.Request)
	// OnConnectionError, when set, is called for every request the server
	// refuses with an Engine.IO error code, before the error answer is
	// written. Upstream's "connection_error" event.
	OnConnectionError func(ConnectionError)
	// AllowEIO3 accepts the clients of Engine.IO protocol revision 3
	// (engine.io-client 3.x, the transport of socket.io-client 2.x), which
	// upstream's allowEIO3 does (default false). Like upstream, a request
	// whose EIO parameter is not 4 is then taken for revision 3. JSONP
	// polling (the "j" parameter) is not supported.
	AllowEIO3 bool
}

// CookieOptions configure the sticky-session cookie, with the names and
// defaults of upstream's cookie option.
type CookieOptions struct {
	// Name of the cookie (default "io").
	Name string
	// Path of the cookie (default "/").
	Path string
	// Domain of the cookie (default none: the host of the request).
	Domain string
	// MaxAge, when positive, is the lifetime of the cookie in seconds
	// (default none: a session cookie).
	MaxAge int
	// DisableHTTPOnly leaves out the HttpOnly attribute, which is set by
	// default (upstream's httpOnly: false).
	DisableHTTPOnly bool
	// SameSite is the SameSite attribute; the zero value means Lax, as
	// upstream. http.SameSiteDefaultMode leaves the attribute out.
	SameSite http.SameSite
	// Secure sets the Secure attribute.
	Secure bool
}

// HTTPCompressionOptions configure the compression of polling responses.
type HTTPCompressionOptions struct {
	// Threshold is the smallest response body that is compressed, in
	// bytes (default 1024; negative compresses every response).
	Threshold int
}

// ConnectionError describes a request the server refused, as upstream's
// "connection_error" event does.
type ConnectionError struct {
	// Request is the refused request.
	Request *http.Request
	// Code is the Engine.IO error code of the answer.
	Code eio.ErrorCode
	// Message is the standard message of Code ("Transport unknown", ...).
	Message string
	// Context gives the details upstream gives, such as "transport",
	// "sid", "method", "protocol", "message" or "name" (for instance
	// "TRANSPORT_MISMATCH", "TRANSPORT_HANDSHAKE_ERROR", "INVALID_ORIGIN").
	Context map[string]any
}

// CORSOptions are the cross-origin settings, with the names and defaults of
// the `cors` options the official server takes.
//
// To allow credentials (cookies, HTTP authentication) from other origins,
// list those origins in Origin, or decide with OriginFunc, and set
// Credentials: an allowed origin is then echoed in
// Access-Control-Allow-Origin with Access-Control-Allow-Credentials. Any
// origin ("*", or no list) with Credentials answers "*", as upstream does,
// which browsers refuse for credentialed requests (NewServer logs a
// warning): echoing any origin with credentials would let every site make
// requests with the user's cookies.
type CORSOptions struct {
	// Origin lists the allowed origins (default "*": any). An origin in
	// the list is echoed back; "*" answers any other with "*".
	Origin []string
	// OriginFunc, when set, decides instead of Origin: it returns whether
	// origin is allowed, which is then echoed back.
	OriginFunc func(origin string, r *http.Request) bool
	// Methods advertised on preflight (default GET,HEAD,PUT,PATCH,POST,DELETE).
	Methods []string
	// AllowedHeaders advertised on preflight (default: those the request asks for).
	AllowedHeaders []string
	// ExposedHeaders lists the response headers the browser may read.
	ExposedHeaders []string
	// Credentials sets Access-Control-Allow-Credentials: true. Browsers
	// send credentials only to an origin allowed by name (see above).
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
		c.Transports = []string{eio.TransportPolling, eio.TransportWebSocket}
	}
	if c.MaxQueuedBytes == 0 {
		c.MaxQueuedBytes = 64 << 20
	}
	if c.Cookie != nil {
		ck := *c.Cookie
		if ck.Name == "" {
			ck.Name = "io"
		}
		if ck.Path == "" {
			ck.Path = "/"
		}
		if ck.SameSite == 0 {
			ck.SameSite = http.SameSiteLaxMode
		}
		c.Cookie = &ck
	}
	if c.DisableHTTPCompression {
		c.HTTPCompression = nil
	} else {
		hc := HTTPCompressionOptions{Threshold: 1024}
		if c.HTTPCompression != nil {
			hc = *c.HTTPCompression
			if hc.Threshold == 0 {
				hc.Threshold = 1024
			}
		}
		c.HTTPCompression = &hc
	}
	if c.PerMessageDeflateThreshold <= 0 {
		c.PerMessageDeflateThreshold = 1024
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
