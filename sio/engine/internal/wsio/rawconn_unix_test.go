//go:build unix && !js

package wsio

import (
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	c2 := <-accepted
	require.NotNil(t, c2)
	t.Cleanup(func() {
		_ = c1.Close()
		_ = c2.Close()
	})
	return c1, c2
}

// TestFdConnRawReadsAndWrites checks the reads and writes on the
// descriptor itself: they move the bytes, readNow says EAGAIN when nothing
// is there, and after Close both fail with net.ErrClosed, even while
// another goroutine keeps writing (run with -race).
func TestFdConnRawReadsAndWrites(t *testing.T) {
	a, b := tcpPair(t)
	ca := &corkConn{Conn: a, raw: newRawConn(a)}
	cb := &corkConn{Conn: b, raw: newRawConn(b)}
	require.NotNil(t, ca.raw)
	require.NotNil(t, cb.raw)

	buf := make([]byte, 64)
	_, err := cb.raw.readNow(buf)
	assert.Equal(t, syscall.EAGAIN, err)

	n, err := ca.raw.tryWrite([]byte("hello"))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	got := 0
	deadline := time.Now().Add(5 * time.Second)
	for got < 5 {
		n, err := cb.raw.readNow(buf[got:])
		if err == syscall.EAGAIN {
			require.True(t, time.Now().Before(deadline), "the bytes never arrived")
			continue // in flight on the loopback
		}
		require.NoError(t, err)
		got += n
	}
	assert.Equal(t, "hello", string(buf[:5]))

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, err := ca.raw.tryWrite([]byte("x")); err != nil {
				assert.ErrorIs(t, err, net.ErrClosed)
				return
			}
		}
	}()
	require.NoError(t, ca.Close())
	wg.Wait()
	_, err = ca.raw.readNow(buf)
	assert.ErrorIs(t, err, net.ErrClosed)
}
