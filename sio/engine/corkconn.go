//go:build !js

package engine

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// corkLimit is how much a corked connection gathers before it writes
// anyway, and corkKeep the largest gathering buffer kept for reuse.
const (
	corkLimit = 64 << 10
	corkKeep  = 256 << 10
	// wsWriteBuffer is the size of the buffered writer coder/websocket
	// frames messages into. Frames go to the corkConn, which gathers them,
	// so it need not be large: a small one saves 3.5 KiB per connection
	// over the 4 KiB net/http gives a hijacked connection.
	wsWriteBuffer = 512
)

// corkConn is the connection under a WebSocket. coder/websocket flushes
// every message to the connection; while corked, those writes are gathered
// in memory and go out in one write when uncorked, so the session's writer
// sends a whole batch of messages with one system call instead of one each.
// Writes made while not corked (a probe answer, a pong, a close frame) go
// straight out. The mutex keeps the order: no write passes a gathered one.
type corkConn struct {
	net.Conn
	pool *sync.Pool

	mu     sync.Mutex
	corked bool
	buf    *[]byte // from pool while corked
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= corkLimit {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cork starts gathering writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was gathered, in one write, and stops gathering. An
// error is the connection's: what was gathered is lost with it.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	err := c.flushLocked()
	if c.buf != nil {
		if cap(*c.buf) <= corkKeep {
			*c.buf = (*c.buf)[:0]
			c.pool.Put(c.buf)
		}
		c.buf = nil
	}
	return err
}

func (c *corkConn) flushLocked() error {
	if c.buf == nil || len(*c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// corkWriter is the ResponseWriter handed to websocket.Accept: its Hijack
// puts a corkConn, with a small buffered writer, under the WebSocket.
type corkWriter struct {
	http.ResponseWriter
	pool *sync.Pool
	conn *corkConn // set by Hijack
}

func (w *corkWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *corkWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc, pool: w.pool}
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.conn, wsWriteBuffer)), nil
}
