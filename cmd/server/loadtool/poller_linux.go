//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosio/socketio/internal/wsframe"
	"github.com/gosio/socketio/sio/eio"
)

// wsPoller reads the WebSockets of a run on one goroutine, which waits in
// an epoll instance of its own (a blocking system call: its thread is the
// goroutine's while it waits, Go's scheduler hands the rest to another
// thread). The instance is not watched by Go's poller, so that a message
// the server writes wakes one epoll instance, not two nested ones. Each connection's
// descriptor is a duplicate taken out of Go's poller, read once per
// arrival of data (edge-triggered), and its handler runs right there. A
// message then costs the load tool one read and the reply's write, where a
// reader goroutine per connection reads twice (the second read finds
// nothing and parks the goroutine) and is scheduled once more, and the
// server's writes wake one epoll instance instead of two.
type wsPoller struct {
	epfd   int         // closed by the loop when it ends
	closed atomic.Bool // ends the loop within pollerTick

	mu    sync.Mutex
	conns map[int32]*rawWS // by descriptor; nil once closed

	// The poller's goroutine only.
	events [256]syscall.EpollEvent
	buf    [64 << 10]byte
}

// pollerTick bounds a wait, so that the loop sees the poller closed.
const pollerTick = 50 * time.Millisecond

// epollET is EPOLLET as an event mask (syscall has it as a negative int).
const epollET = 1 << 31

func newWSPoller() (*wsPoller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	p := &wsPoller{epfd: epfd, conns: make(map[int32]*rawWS)}
	go p.loop()
	return p, nil
}

// pollers are the dialer's, made on first use: one is enough for a load
// tool that has one core.
type pollers struct {
	once sync.Once
	p    *wsPoller
	err  error
}

func (ps *pollers) get() (*wsPoller, error) {
	ps.once.Do(func() { ps.p, ps.err = newWSPoller() })
	return ps.p, ps.err
}

// close ends the poller and closes its connections.
func (ps *pollers) close() {
	if ps.p != nil {
		ps.p.close()
	}
}

// takeOver moves the session c, joined already, to the poller: what c's
// reader holds is delivered first, then the poller reads a duplicate of
// its descriptor and c's net.Conn is closed (the socket stays open). It
// reports false, with c untouched, when the connection has no descriptor
// or the poller cannot be had.
func (d *dialer) takeOver(c *wsConn, h handler, done func()) (conn, bool) {
	p, err := d.pollers.get()
	if err != nil {
		return nil, false
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) {
		fd, derr = syscall.Dup(int(f))
		if derr == nil {
			syscall.CloseOnExec(fd)
			derr = syscall.SetNonblock(fd, true)
		}
	}); err != nil || derr != nil {
		if fd >= 0 {
			_ = syscall.Close(fd)
		}
		return nil, false
	}
	r := &rawWS{p: p, fd: fd, h: h, done: done, key: c.key, msgpack: c.msgpack}
	if n := c.br.Buffered(); n > 0 {
		b, _ := c.br.Peek(n)
		r.in = append(r.in, b...)
	}
	_ = c.nc.Close()
	if err := p.add(r); err != nil {
		r.Close()
		return r, true // closed: done was called
	}
	return r, true
}

func (p *wsPoller) add(r *rawWS) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return net.ErrClosed
	}
	p.conns[int32(r.fd)] = r
	// Registered under p.mu, so that the loop, which looks connections up
	// under it, delivers nothing before r.in is parsed.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(r.fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, r.fd, &ev); err != nil {
		delete(p.conns, int32(r.fd))
		return os.NewSyscallError("epoll_ctl", err)
	}
	if len(r.in) > 0 {
		// What the reader had buffered. What came since, and is in the
		// socket, gives an event at once (the registration checks).
		in := r.in
		r.in = nil
		if err := r.feed(in); err != nil {
			delete(p.conns, int32(r.fd))
			return err
		}
	}
	return nil
}

func (p *wsPoller) close() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, r := range conns {
		r.shut()
	}
	p.closed.Store(true)
}

// loop reads the connections that have data until the poller is closed.
func (p *wsPoller) loop() {
	defer syscall.Close(p.epfd)
	for !p.closed.Load() {
		n, err := syscall.EpollWait(p.epfd, p.events[:], int(pollerTick/time.Millisecond))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range p.events[:n] {
			p.mu.Lock()
			if r := p.conns[ev.Fd]; r != nil {
				// Under p.mu: Close, which takes it first, cannot close the
				// descriptor (and let it be reused) during the read.
				if err := p.read(r); err != nil {
					delete(p.conns, ev.Fd)
					p.mu.Unlock()
					r.shut()
					continue
				}
			}
			p.mu.Unlock()
		}
	}
}

// read reads r until the socket has nothing more, and handles what came.
func (p *wsPoller) read(r *rawWS) error {
	for {
		n, err := syscall.Read(r.fd, p.buf[:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return nil
		case err != nil:
			return err
		case n == 0:
			return io.EOF
		}
		if err := r.feed(p.buf[:n]); err != nil {
			return err
		}
		if n < len(p.buf) {
			return nil // all of it: more comes with an event of its own
		}
	}
}

// rawWS is a joined WebSocket session read by a wsPoller. Its handler
// runs on the poller's goroutine.
type rawWS struct {
	p    *wsPoller
	fd   int
	h    handler
	done func()

	// The poller's goroutine only.
	in    []byte // the start of a frame not all read yet
	msg   []byte // the fragments of a message not all read yet
	msgOp byte

	wmu     sync.Mutex
	wbuf    []byte
	key     uint32
	closed  bool
	once    sync.Once
	msgpack bool // see dialer.msgpack
}

// feed parses b, the next bytes of the connection, and handles its frames.
func (r *rawWS) feed(b []byte) error {
	if len(r.in) > 0 {
		r.in = append(r.in, b...)
		b = r.in
	}
frames:
	for len(b) >= 2 {
		if b[1]&0x80 != 0 {
			return errors.New("masked server frame")
		}
		hl := wsframe.HeaderLen(b[1])
		if len(b) < hl {
			break frames
		}
		hd := wsframe.ParseHeader(b[:hl])
		if hd.Len > 1<<30 {
			return errors.New("frame too large")
		}
		fin, op, n := hd.Fin, hd.Op, int(hd.Len)
		if len(b) < hl+n {
			break frames
		}
		payload := b[hl : hl+n]
		b = b[hl+n:]
		switch op {
		case wsframe.OpClose:
			return io.EOF
		case wsframe.OpPing:
			if err := r.writeFrame(wsframe.OpPong, payload); err != nil {
				return err
			}
			continue
		case wsframe.OpPong:
			continue
		}
		if op != 0 {
			r.msgOp = op
		}
		if !fin {
			r.msg = append(r.msg, payload...)
			continue
		}
		if len(r.msg) > 0 {
			payload = append(r.msg, payload...)
			r.msg = r.msg[:0]
		}
		pk, err := eio.DecodeFrame(payload, r.msgOp == wsframe.OpBinary)
		if err != nil {
			return fmt.Errorf("engine.io packet: %w", err)
		}
		if pk.Type == eio.Ping {
			if err := r.writeFrame(wsframe.OpText, []byte("3")); err != nil {
				return err
			}
			continue
		}
		r.h(pk)
	}
	r.in = append(r.in[:0], b...) // what is left of a frame (overlapping copy)
	return nil
}

// Send implements conn: one masked text frame, in one write.
func (r *rawWS) Send(_ context.Context, pkt []byte) error {
	if r.msgpack {
		if msg, ok := toMsgpack(pkt); ok {
			return r.writeFrame(wsframe.OpBinary, msg)
		}
	}
	return r.writeFrame(wsframe.OpText, pkt)
}

func (r *rawWS) writeFrame(op byte, p []byte) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.closed {
		return net.ErrClosed
	}
	r.wbuf = appendMaskedFrame(r.wbuf[:0], op, p, &r.key)
	b := r.wbuf
	for len(b) > 0 {
		n, err := syscall.Write(r.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			// The server is not reading: a load tool can afford to wait
			// without a poller of its writes.
			time.Sleep(100 * time.Microsecond)
			continue
		case err != nil:
			return err
		}
		b = b[n:]
	}
	return nil
}

// Close implements conn.
func (r *rawWS) Close() {
	r.p.mu.Lock()
	if r.p.conns != nil && r.p.conns[int32(r.fd)] == r {
		delete(r.p.conns, int32(r.fd))
	}
	r.p.mu.Unlock()
	r.shut()
}

// shut closes the descriptor, once it is out of the poller's table, and
// reports the end of the session.
func (r *rawWS) shut() {
	r.once.Do(func() {
		r.wmu.Lock()
		r.closed = true
		_ = syscall.Close(r.fd)
		r.wmu.Unlock()
		r.done()
	})
}
