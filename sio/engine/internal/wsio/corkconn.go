//go:build !js

package wsio

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
	// wsReadChunk is the size of the buffers a connection reads into; it
	// holds one only while read data waits to be consumed.
	wsReadChunk = 4096
)

// corkConn is the connection under a WebSocket. Every message is written
// to it (by writeFrame, or by coder/websocket's flush with
// permessage-deflate); while corked, those writes are gathered in memory
// and go out in one write when uncorked, so the session's writer sends a
// whole batch of messages with one system call instead of one each. Writes
// made while not corked (a probe answer, a pong, a close frame) go straight
// out. The mutex keeps the order: no write passes a gathered one.
//
// For coder/websocket, it also reads without holding a buffer while idle
// (see Read).
type corkConn struct {
	net.Conn
	pool *sync.Pool

	mu     sync.Mutex
	corked bool
	gather bool // corked by corkAll: no write before tryUncork
	// ungathered is signalled when a gathering by corkAll ends (L is mu,
	// set by the first to wait).
	ungathered sync.Cond
	buf        *[]byte // from pool while corked
	// closeSent is set once a close frame is written (engine's own
	// WebSocket protocol, see wsproto.go): nothing is written after it.
	closeSent bool

	// The read side, used by one reader at a time.
	raw      rawConn    // nil: plain reads, and no tryUncork
	rpool    *sync.Pool // of *[wsReadChunk]byte
	rbuf     *[wsReadChunk]byte
	roff, rn int // rbuf[roff:rn] is read and not yet consumed
}

// Read reads into a pooled buffer that the connection keeps only while
// what it holds is not all consumed: an idle connection waits for data
// holding no buffer, where a bufio.Reader would hold its 4 KiB forever.
// The reader above it (coder/websocket's) gets a tiny bufio.Reader. The
// system calls are those of a plain read: one read, and when it would
// block, a wait in the poller and another read.
func (c *corkConn) Read(p []byte) (int, error) {
	if c.rbuf == nil {
		if c.raw == nil || len(p) >= wsReadChunk {
			return c.Conn.Read(p)
		}
		n, err := c.raw.readPooled(c.rpool)
		if err != nil {
			return 0, err
		}
		c.rbuf, c.roff, c.rn = n.buf, 0, n.n
	}
	n := copy(p, c.rbuf[c.roff:c.rn])
	c.roff += n
	if c.roff == c.rn {
		c.rpool.Put(c.rbuf)
		c.rbuf = nil
	}
	return n, nil
}

// pooledRead is a read into a buffer from a pool.
type pooledRead struct {
	buf *[wsReadChunk]byte
	n   int // > 0
}

// rawConn reads and writes a connection's descriptor (see
// rawconn_unix.go).
type rawConn interface {
	// readPooled reads into a pooled buffer taken only once data is there.
	readPooled(pool *sync.Pool) (pooledRead, error)
	// tryWrite writes what the socket takes without waiting, and says how
	// much that was.
	tryWrite(b []byte) (int, error)
	// readNow reads what the socket holds, without waiting (EAGAIN when
	// nothing).
	readNow(b []byte) (int, error)
	// shut ends readNow and tryWrite, before the connection is closed.
	shut()
}

// Close closes the connection, once its descriptor's reads and writes
// that bypass the net package are over (see fdConn).
func (c *corkConn) Close() error {
	if c.raw != nil {
		c.raw.shut()
	}
	return c.Conn.Close()
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		// What tryUncork left goes first.
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		c.releaseLocked()
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= corkLimit && !c.gather {
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

// corkAll starts gathering writes, all of them whatever their size, for
// tryUncork: a goroutine that must not block writes nothing before that.
func (c *corkConn) corkAll() {
	c.mu.Lock()
	c.corked, c.gather = true, true
	c.mu.Unlock()
}

// uncork writes what was gathered, in one write, and stops gathering. An
// error is the connection's: what was gathered is lost with it.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked, c.gather = false, false
	c.ungathered.Broadcast()
	err := c.flushLocked()
	c.releaseLocked()
	return err
}

// startCork starts a batch: corkAll with now, else cork.
func (c *corkConn) startCork(now bool) {
	if now {
		c.corkAll()
	} else {
		c.cork()
	}
}

// endCork ends a batch: tryUncork with now, else uncork.
func (c *corkConn) endCork(now bool) (pending bool, err error) {
	if now {
		return c.tryUncork()
	}
	return false, c.uncork()
}

// tryUncork stops gathering and writes what was gathered as far as the
// socket takes it without waiting: nothing, without a descriptor. What is
// left (pending) is written before anything else, by the next write or
// uncork, which the caller must see to.
func (c *corkConn) tryUncork() (pending bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked, c.gather = false, false
	c.ungathered.Broadcast()
	if c.buf == nil || len(*c.buf) == 0 {
		c.releaseLocked()
		return false, nil
	}
	if c.raw == nil {
		return true, nil
	}
	n, err := c.raw.tryWrite(*c.buf)
	if err != nil || n == len(*c.buf) {
		c.releaseLocked()
		return false, err
	}
	*c.buf = (*c.buf)[:copy(*c.buf, (*c.buf)[n:])]
	return true, nil
}

// releaseLocked gives the gathering buffer back.
func (c *corkConn) releaseLocked() {
	if c.buf != nil {
		if cap(*c.buf) <= corkKeep {
			*c.buf = (*c.buf)[:0]
			c.pool.Put(c.buf)
		}
		c.buf = nil
	}
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
	pool, rpool *sync.Pool
	conn        *corkConn // set by Hijack
}

func (w *corkWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *corkWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	c, err := newCorkConn(nc, brw.Reader, w.pool, w.rpool)
	if err != nil {
		return nil, nil, err
	}
	w.conn = c
	r := brw.Reader // net/http's, 4 KiB
	if c.raw != nil {
		r = bufio.NewReaderSize(c, 16)
	}
	return c, bufio.NewReadWriter(r, bufio.NewWriterSize(c, wsWriteBuffer)), nil
}
