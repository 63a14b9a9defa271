//go:build unix && !js

package wsio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// fdConn reads and writes a descriptor. Its functions are made once, so
// that a read or a write allocates nothing. Reads are by one goroutine at a
// time, writes too.
//
// The poller's reads and the writes that must not wait (readNow, tryWrite)
// are system calls on the descriptor itself, without the net package's
// locks and poller bookkeeping, which cost cache misses on objects of
// their own with many connections. guard keeps the descriptor open during
// them: they hold it shared, and the connection is closed (shut) only once
// closed is set under it, so that its number, which the system may give to
// a new connection, is never read or written after.
type fdConn struct {
	rc syscall.RawConn
	fd int

	guard  sync.RWMutex
	closed bool

	rfn  func(fd uintptr) bool
	pool *sync.Pool
	out  pooledRead
	err  error
}

// rawStore is where initRawConn puts a connection's fdConn.
type rawStore = fdConn

// newRawConn returns a rawConn for a connection with a descriptor (a
// TCP or Unix socket), nil for any other (TLS, for one).
func newRawConn(c net.Conn) rawConn { return initRawConn(new(fdConn), c) }

// initRawConn is newRawConn in r, which the caller allocates along with
// what uses it.
func initRawConn(r *fdConn, c net.Conn) rawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	*r = fdConn{rc: rc, fd: -1}
	if err := rc.Control(func(fd uintptr) { r.fd = int(fd) }); err != nil {
		return nil
	}
	r.rfn = r.read
	return r
}

// readNow reads what the socket holds, without waiting: EAGAIN when it
// holds nothing.
func (r *fdConn) readNow(b []byte) (int, error) {
	r.guard.RLock()
	defer r.guard.RUnlock()
	if r.closed {
		return 0, net.ErrClosed
	}
	for {
		n, err := syscall.Read(r.fd, b)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// shut marks the descriptor closed, once no readNow or tryWrite is under
// way; the net.Conn is closed after.
func (r *fdConn) shut() {
	r.guard.Lock()
	r.closed = true
	r.guard.Unlock()
}

func (r *fdConn) readPooled(pool *sync.Pool) (pooledRead, error) {
	r.pool = pool
	err := r.rc.Read(r.rfn)
	out, rerr := r.out, r.err
	r.out, r.err, r.pool = pooledRead{}, nil, nil
	if err != nil {
		return pooledRead{}, err
	}
	return out, rerr
}

// read is called by the poller with the descriptor, again after a wait
// when it returns false.
func (r *fdConn) read(fd uintptr) bool {
	buf := r.pool.Get().(*[wsReadChunk]byte)
	for {
		n, err := syscall.Read(int(fd), buf[:])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			r.pool.Put(buf)
			return false // wait until readable
		case err != nil:
			r.pool.Put(buf)
			r.err = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
		case n == 0:
			r.pool.Put(buf)
			r.err = io.EOF
		default:
			r.out = pooledRead{buf: buf, n: n}
		}
		return true
	}
}

// tryWrite writes what the socket takes now, and never waits.
func (r *fdConn) tryWrite(b []byte) (int, error) {
	r.guard.RLock()
	defer r.guard.RUnlock()
	if r.closed {
		return 0, net.ErrClosed
	}
	wn := 0
	for wn < len(b) {
		n, err := syscall.Write(r.fd, b[wn:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return wn, nil
		case err != nil:
			return wn, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}
		}
		wn += n
	}
	return wn, nil
}
