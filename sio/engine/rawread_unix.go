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

type fdReader struct{ rc syscall.RawConn }

// newRawReader returns a rawReader for a connection with a descriptor (a
// TCP or Unix socket), nil for any other (TLS, for one).
func newRawReader(c net.Conn) rawReader {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return fdReader{rc}
}

func (r fdReader) readPooled(pool *sync.Pool) (pooledRead, error) {
	var (
		out  pooledRead
		rerr error
	)
	err := r.rc.Read(func(fd uintptr) bool {
		buf := pool.Get().(*[wsReadChunk]byte)
		for {
			n, err := syscall.Read(int(fd), buf[:])
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				pool.Put(buf)
				return false // wait until readable, then called again
			case err != nil:
				pool.Put(buf)
				rerr = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
			case n == 0:
				pool.Put(buf)
				rerr = io.EOF
			default:
				out = pooledRead{buf: buf, n: n}
			}
			return true
		}
	})
	if err != nil {
		return pooledRead{}, err
	}
	return out, rerr
}
