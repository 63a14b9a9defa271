//go:build linux

package wsio

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
)

// A poller reads the WebSockets of many sessions (those the engine speaks
// itself, on a TCP or Unix connection): its goroutine waits on an epoll
// instance of its own, which Go's poller watches like any descriptor, and
// reads each connection that has data, parses its frames and delivers its
// packets. An idle WebSocket session then has no goroutine at all, and a
// message costs one read: a reader goroutine per connection reads a second
// time to learn that nothing is left, parks, and is scheduled again when
// data comes. The read is a system call on the descriptor itself (see
// fdConn.readNow). The connections stay in Go's poller too, for the writes
// that wait, deadlines and close.
//
// Packets are delivered on the poller's goroutine, as they would be on a
// reader goroutine: what the engine and the Socket.IO server do with them
// does not block (handlers run on their own goroutines).
type poller struct {
	st   *Stack
	epfd int
	file *os.File // epfd, watched by Go's poller
	rc   syscall.RawConn

	mu     sync.Mutex
	conns  connTable
	closed bool // the loop ended
	// stopping is set when the server closes: the poller stops once the
	// close handshakes under way are over.
	stopping bool

	// The poller's goroutine only.
	events [128]syscall.EpollEvent
	nev    int
	werr   error
	waitFn func(fd uintptr) bool
	buf    [64 << 10]byte
	again  []*OwnConn // read as far as fairness allows, to read again
}

// pollerSet holds the Stack's pollers, made on first use; Stack.mu.
type pollerSet struct {
	all        []*poller
	nextPoller int
	pollFailed bool
}

// epollET is EPOLLET as an event mask (syscall has it as a negative int).
const epollET = 1 << 31

// pollerRounds bounds the reads of one connection in a row, when each
// fills the buffer, before the others get their turn.
const pollerRounds = 8

// pollerYield is how many connections the poller reads before it lets the
// handlers of what it delivered run: often enough that a reply finds the
// connection's state still in the caches, seldom enough that replies come
// together (measured in docs/performance.md).
const pollerYield = 16

func newPoller(st *Stack) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	// A non-blocking descriptor given to os.NewFile is added to Go's poller.
	f := os.NewFile(uintptr(epfd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	p := &poller{st: st, epfd: epfd, file: f, rc: rc}
	p.waitFn = p.wait
	return p, nil
}

// pollerFor returns the poller to read w, or nil when w is read by a
// goroutine of its own: connections without a descriptor, and every
// connection when the pollers cannot be made.
func (s *Stack) pollerFor(w *OwnConn) *poller {
	if w.cc.raw == nil || s.NoPoller {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Ctx.Err() != nil || s.pollFailed {
		return nil
	}
	if s.all == nil {
		n := runtime.GOMAXPROCS(0)
		for range n {
			p, err := newPoller(s)
			if err != nil {
				s.cfg.Log.Warn("engine: no poller, websockets are read by goroutines", "err", err)
				for _, p := range s.all {
					_ = p.file.Close()
				}
				s.all, s.pollFailed = nil, true
				return nil
			}
			s.all = append(s.all, p)
		}
		for i, p := range s.all {
			if !s.cfg.Go(p.loop) {
				// The owner is closing: the loops started end with their
				// files, and no connection is given to them.
				for _, p := range s.all[i:] {
					_ = p.file.Close()
				}
				s.all, s.pollFailed = nil, true
				return nil
			}
			context.AfterFunc(s.cfg.Ctx, p.stop)
		}
	}
	p := s.all[s.nextPoller%len(s.all)]
	s.nextPoller++
	return p
}

// start delivers what w holds already (what followed the handshake or the
// upgrade packet), then has the poller read w for its handler. It reports
// false when the poller cannot take w, which must then be read by a
// goroutine.
func (p *poller) start(w *OwnConn) bool {
	if len(w.rest) > 0 {
		ok := p.deliver(w, w.rest)
		w.releaseChunk()
		if !ok {
			return true // failed, and handled
		}
	}
	fc, ok := w.cc.raw.(*fdConn)
	if !ok {
		return false
	}
	p.mu.Lock()
	if p.closed || p.stopping {
		p.mu.Unlock()
		return false
	}
	id := p.conns.add(w)
	w.pid = id
	w.poll.Store(p)
	p.mu.Unlock()
	var cerr error
	err := fc.rc.Control(func(fd uintptr) {
		// Edge-triggered: an event for every arrival of data, read until
		// a read returns less than asked (see read).
		ev := syscall.EpollEvent{
			Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET,
			Fd:     int32(uint32(id)),
			Pad:    int32(uint32(id >> 32)),
		}
		cerr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err == nil && cerr != nil {
		err = os.NewSyscallError("epoll_ctl", cerr)
	}
	if err != nil {
		p.remove(w)
		w.poll.Store(nil)
		if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
			return true // closed meanwhile: nothing to read
		}
		p.st.cfg.Log.Debug("engine: poller refused a connection", "err", err)
		return false
	}
	return true
}

// remove stops delivering w's events. The descriptor leaves the epoll
// instance when it is closed.
func (p *poller) remove(w *OwnConn) {
	p.mu.Lock()
	p.conns.remove(w.pid, w)
	done := p.stopping && p.conns.n == 0
	p.mu.Unlock()
	if done {
		_ = p.file.Close() // ends the loop
	}
}

// stop ends the poller once the server is closed: the connections in a
// close handshake are read until it completes (or times out), as a reader
// goroutine would; any other is closed now.
func (p *poller) stop() {
	p.mu.Lock()
	p.stopping = true
	var now []*OwnConn
	p.conns.each(func(w *OwnConn) {
		if !w.closing.Load() {
			now = append(now, w)
		}
	})
	empty := p.conns.n == 0
	p.mu.Unlock()
	for _, w := range now {
		w.CloseNow() // removes w, and ends the loop after the last
	}
	if empty {
		_ = p.file.Close()
	}
}

// wait collects the events ready, without waiting: Go's poller does the
// waiting, on the epoll descriptor.
func (p *poller) wait(fd uintptr) bool {
	for {
		p.nev, p.werr = syscall.EpollWait(int(fd), p.events[:], 0)
		if p.werr == syscall.EINTR {
			continue
		}
		return p.werr != nil || p.nev > 0 || len(p.again) > 0
	}
}

// loop reads the connections that have data, until the poller is closed;
// the connections left are closed then.
func (p *poller) loop() {
	var again []*OwnConn
	for {
		if err := p.rc.Read(p.waitFn); err != nil || p.werr != nil {
			if p.werr != nil {
				p.st.cfg.Log.Error("engine: poller failed", "err", p.werr)
			}
			break
		}
		for i, ev := range p.events[:p.nev] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			p.mu.Lock()
			w := p.conns.get(id)
			p.mu.Unlock()
			if w != nil {
				p.read(w)
			}
			if (i+1)%pollerYield == 0 && i+1 < p.nev {
				runtime.Gosched()
			}
		}
		// The handlers of what was delivered run every pollerYield
		// connections and before the next batch is read (when cores are
		// fewer than the goroutines that want one): the goroutines running
		// them stay few, and are reused, and what a handler and its reply
		// touch of a connection (the sockets' state, the kernel's socket) is
		// still in the CPU's caches from the read.
		runtime.Gosched()
		again, p.again = p.again, again[:0]
		for i, w := range again {
			p.mu.Lock()
			live := p.conns.get(w.pid) == w
			p.mu.Unlock()
			if live {
				p.read(w)
			}
			again[i] = nil
		}
	}
	_ = p.file.Close()
	p.mu.Lock()
	p.closed = true
	var conns []*OwnConn
	p.conns.each(func(w *OwnConn) { conns = append(conns, w) })
	p.conns = connTable{}
	p.mu.Unlock()
	for _, w := range conns {
		w.CloseNow()
	}
}

// read reads w until the socket has nothing more, or pollerRounds times.
func (p *poller) read(w *OwnConn) {
	raw := w.cc.raw
	for range pollerRounds {
		n, err := raw.readNow(p.buf[:])
		switch {
		case err == syscall.EAGAIN:
			return
		case err == net.ErrClosed:
			p.fail(w, err)
			return
		case err != nil:
			p.fail(w, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)})
			return
		case n == 0:
			p.fail(w, io.EOF)
			return
		}
		if !p.deliver(w, p.buf[:n]) {
			return
		}
		if n < len(p.buf) {
			// All that was there is read: data arriving since comes with
			// an event of its own (edge-triggered).
			return
		}
	}
	p.again = append(p.again, w)
}

// deliver parses b, the next bytes of w, and delivers its packets. It
// reports false when w failed.
func (p *poller) deliver(w *OwnConn, b []byte) bool {
	for len(b) > 0 {
		n, f, ok, err := w.p.next(b)
		b = b[n:]
		if err != nil {
			p.fail(w, err)
			return false
		}
		if !ok {
			continue
		}
		switch f.op {
		case opText, opBinary:
			if err := w.h.Message(f.data, f.op == opBinary); err != nil {
				p.fail(w, Violation(err))
				return false
			}
		case opPing:
			w.h.Ping(f.data)
		case opClose:
			p.fail(w, closeFrameError(f.data))
			return false
		}
	}
	return true
}

// fail ends w after a read error or a close frame: the rest, which
// writes, runs on a goroutine of its own.
func (p *poller) fail(w *OwnConn, err error) {
	p.remove(w)
	if !p.st.cfg.Go(func() { w.readFailed(err) }) {
		w.CloseNow()
	}
}

// connTable holds a poller's connections by the id epoll gives back with
// each event: the index of the connection's slot, and the slot's
// generation, so that a late event of a connection gone never reaches the
// one that took its slot. A slice indexed by slot costs one cache line per
// event where a map with as many entries costs several.
type connTable struct {
	slots []connSlot
	free  []uint32 // slots without a connection
	n     int      // connections
}

type connSlot struct {
	w   *OwnConn
	gen uint32
}

// add puts w in a slot and returns its id, never 0.
func (t *connTable) add(w *OwnConn) uint64 {
	var i uint32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		i = uint32(len(t.slots))
		t.slots = append(t.slots, connSlot{})
	}
	s := &t.slots[i]
	s.gen++
	if s.gen == 0 {
		s.gen = 1
	}
	s.w = w
	t.n++
	return uint64(i) | uint64(s.gen)<<32
}

// get returns the connection of id, or nil when it is gone.
func (t *connTable) get(id uint64) *OwnConn {
	i, gen := uint32(id), uint32(id>>32)
	if int(i) < len(t.slots) && t.slots[i].gen == gen {
		return t.slots[i].w
	}
	return nil
}

// remove frees the slot of id if w holds it.
func (t *connTable) remove(id uint64, w *OwnConn) {
	if w == nil || t.get(id) != w {
		return
	}
	i := uint32(id)
	t.slots[i].w = nil
	t.free = append(t.free, i)
	t.n--
}

func (t *connTable) each(fn func(*OwnConn)) {
	for _, s := range t.slots {
		if s.w != nil {
			fn(s.w)
		}
	}
}
