//go:build !js

package wsio

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Config is what a Stack needs of its owner.
type Config struct {
	// MaxMessage is the largest message read, in bytes.
	MaxMessage int64
	// DeflateThreshold is the smallest message compressed by LibConn.
	DeflateThreshold int
	Log              *slog.Logger
	// Ctx ends when the owner closes: the pollers stop then.
	Ctx context.Context
	// Go runs fn on a goroutine the owner waits for, and reports false
	// (without running it) once the owner is closed.
	Go func(fn func()) bool
	// WG counts the goroutines that finish a close handshake; the owner
	// waits for it.
	WG *sync.WaitGroup
}

// Stack holds what the connections of one engine share: the buffer pools
// and the pollers.
type Stack struct {
	cfg Config
	// The buffers writers gather a batch in, and readers read into (see
	// corkConn).
	corkBufs, readBufs sync.Pool

	// NoPoller has every connection read by a goroutine of its own (tests).
	// Set before the first Accept.
	NoPoller bool

	mu sync.Mutex
	pollerSet
}

// NewStack returns a stack for an owner described by cfg.
func NewStack(cfg Config) *Stack {
	st := &Stack{cfg: cfg}
	st.corkBufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	st.readBufs.New = func() any { return new([wsReadChunk]byte) }
	return st
}

// PeerClosed reports whether a read error (given to Handler.Failed) means
// the peer ended the connection, with a close frame or not, rather than a
// failure (a message over the size limit, a protocol violation).
func PeerClosed(err error) bool {
	var ce websocket.CloseError
	var oe *wsCloseError
	return errors.As(err, &ce) || errors.As(err, &oe) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// AcceptLibrary completes the opening handshake with coder/websocket and
// permessage-deflate (no context takeover).
func (st *Stack) AcceptLibrary(w http.ResponseWriter, r *http.Request) (*LibConn, error) {
	opts := &websocket.AcceptOptions{
		// Origins are checked by CORS and AllowRequest, as upstream does.
		InsecureSkipVerify:   true,
		CompressionMode:      websocket.CompressionNoContextTakeover,
		CompressionThreshold: st.cfg.DeflateThreshold,
	}
	cw := &corkWriter{ResponseWriter: w, pool: &st.corkBufs, rpool: &st.readBufs}
	c, err := websocket.Accept(cw, r, opts)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(st.cfg.MaxMessage)
	lc := &LibConn{c: c, cc: cw.conn, st: st}
	clearDeadlines(lc.cc)
	return lc, nil
}

// clearDeadlines clears the deadlines of a hijacked connection. net/http
// clears those of its ReadTimeout and WriteTimeout when it hands the
// connection over, but documents that it "may have read or write deadlines
// already set": left, they would end a WebSocket that lives longer.
func clearDeadlines(c net.Conn) { _ = c.SetDeadline(time.Time{}) }
