//go:build linux

package engine

import (
	"encoding/binary"
	"net"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingListener keeps the connections it accepts, by the client's
// address.
type recordingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]net.Conn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns[c.RemoteAddr().String()] = c
		l.mu.Unlock()
	}
	return c, err
}

// unread returns how many received bytes the server has not read yet on
// its side of the connection whose client address is addr.
func (l *recordingListener) unread(t testing.TB, addr string) int {
	l.mu.Lock()
	c := l.conns[addr]
	l.mu.Unlock()
	require.NotNil(t, c)
	rc, err := c.(syscall.Conn).SyscallConn()
	require.NoError(t, err)
	var n int32
	var errno syscall.Errno
	require.NoError(t, rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}))
	require.Zero(t, errno)
	return int(n)
}

// TestAnnouncedFrameMemory has 300 clients each send the 14-byte header of
// a 999,000-byte frame and stall: the server must not allocate what is
// announced before it arrives (300 x 999,000 bytes would be 300 MB).
func TestAnnouncedFrameMemory(t *testing.T) {
	for _, rp := range readPaths {
		t.Run(rp.name, func(t *testing.T) {
			const clients = 300
			srv := NewServer(nil) // MaxHTTPBufferSize 1e6: the frame is allowed
			srv.ws.NoPoller = rp.noPoller
			opened := make(chan *Socket, clients)
			srv.OnConnection(func(s *Socket) { opened <- s })
			ts := httptest.NewUnstartedServer(srv)
			ln := &recordingListener{Listener: ts.Listener, conns: make(map[string]net.Conn)}
			ts.Listener = ln
			ts.Start()
			t.Cleanup(ts.Close)
			t.Cleanup(func() { require.NoError(t, srv.Close()) })

			conns := make([]*rawWS, clients)
			for i := range conns {
				conns[i], _ = dialRawWSAt(t, ts.Listener.Addr().String(), "/", "")
				testutil.Recv(t, opened)
			}
			_, m0 := usage()

			hdr := []byte{0x80 | opBinary, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
			binary.BigEndian.PutUint64(hdr[2:10], 999000)
			for _, w := range conns {
				_ = w.c.SetDeadline(time.Now().Add(waitTimeout))
				_, err := w.c.Write(hdr)
				require.NoError(t, err)
			}
			testutil.Eventually(t, "the server read every header", func() bool {
				for _, w := range conns {
					if ln.unread(t, w.c.LocalAddr().String()) > 0 {
						return false
					}
				}
				return true
			})
			_, m1 := usage()
			t.Logf("after %d stalled headers: %+d bytes of heap and stacks", clients, int64(m1)-int64(m0))
			assert.Less(t, int64(m1)-int64(m0), int64(16<<20),
				"heap and stacks after %d stalled headers: %d, before: %d", clients, m1, m0)
		})
	}
}
