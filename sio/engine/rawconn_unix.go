//go:build unix && !js

package engine

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
type fdConn struct {
	rc syscall.RawConn

	rfn  func(fd uintptr) bool
	pool *sync.Pool
	out  pooledRead
	err  error

	wfn  func(fd uintptr) bool
	wb   []byte
	wn   int
	werr error
}

// newRawConn returns a rawConn for a connection with a descriptor (a
// TCP or Unix socket), nil for any other (TLS, for one).
func newRawConn(c net.Conn) rawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &fdConn{rc: rc}
	r.rfn, r.wfn = r.read, r.write
	return r
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

func (r *fdConn) tryWrite(b []byte) (int, error) {
	r.wb = b
	err := r.rc.Write(r.wfn)
	n, werr := r.wn, r.werr
	r.wb, r.wn, r.werr = nil, 0, nil
	if err != nil {
		return 0, err
	}
	return n, werr
}

// write writes what the socket takes now, and never asks to wait.
func (r *fdConn) write(fd uintptr) bool {
	for r.wn < len(r.wb) {
		n, err := syscall.Write(int(fd), r.wb[r.wn:])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return true
		case err != nil:
			r.werr = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}
			return true
		}
		r.wn += n
	}
	return true
}
