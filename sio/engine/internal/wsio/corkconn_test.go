//go:build !js

package wsio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/wsframe"
)

// countConn records each Write.
type countConn struct {
	net.Conn
	writes [][]byte
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func newTestCorkConn() (*corkConn, *countConn) {
	under := &countConn{}
	pool := &sync.Pool{New: func() any { b := make([]byte, 0, 16); return &b }}
	return &corkConn{Conn: under, pool: pool}, under
}

func TestCorkConnGathersWrites(t *testing.T) {
	c, under := newTestCorkConn()
	_, err := c.Write([]byte("a"))
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("a")}, under.writes, "not corked: straight through")

	c.cork()
	for _, s := range []string{"b", "cd", "e"} {
		n, err := c.Write([]byte(s))
		require.NoError(t, err)
		assert.Equal(t, len(s), n)
	}
	assert.Len(t, under.writes, 1, "nothing written while corked")
	require.NoError(t, c.uncork())
	assert.Equal(t, [][]byte{[]byte("a"), []byte("bcde")}, under.writes, "one write for the batch")
	assert.Nil(t, c.buf, "buffer released")

	require.NoError(t, c.uncork(), "uncorking with nothing gathered writes nothing")
	assert.Len(t, under.writes, 2)
}

func TestCorkConnWritesPastTheLimit(t *testing.T) {
	c, under := newTestCorkConn()
	c.cork()
	big := bytes.Repeat([]byte("x"), corkLimit)
	_, err := c.Write([]byte("head"))
	require.NoError(t, err)
	_, err = c.Write(big)
	require.NoError(t, err)
	require.Len(t, under.writes, 1, "the limit forces a write")
	_, err = c.Write([]byte("tail"))
	require.NoError(t, err)
	require.NoError(t, c.uncork())
	require.Len(t, under.writes, 2)
	assert.Equal(t, append([]byte("head"), big...), under.writes[0])
	assert.Equal(t, []byte("tail"), under.writes[1])
}

func TestCorkConnKeepsOrderAcrossDirectWrites(t *testing.T) {
	c, under := newTestCorkConn()
	c.cork()
	_, _ = c.Write([]byte("1"))
	_, _ = c.Write([]byte("2")) // e.g. a pong written by the reader meanwhile
	require.NoError(t, c.uncork())
	_, _ = c.Write([]byte("3"))
	assert.Equal(t, [][]byte{[]byte("12"), []byte("3")}, under.writes)
}

func TestCorkConnReadsWithoutIdleBuffer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	nc, err := ln.Accept()
	require.NoError(t, err)
	rpool := &sync.Pool{New: func() any { return new([wsReadChunk]byte) }}
	c := &corkConn{Conn: nc, rpool: rpool, raw: newRawConn(nc)}
	defer c.Close()
	if c.raw == nil {
		t.Skip("no descriptor reads on this platform")
	}

	_, err = client.Write([]byte("hello, world"))
	require.NoError(t, err)
	p := make([]byte, 5)
	var got []byte
	for len(got) < len("hello, world") {
		n, err := c.Read(p)
		require.NoError(t, err)
		got = append(got, p[:n]...)
	}
	assert.Equal(t, "hello, world", string(got))
	assert.Nil(t, c.rbuf, "the buffer goes back once consumed")

	// A read larger than a chunk goes straight to the connection.
	big := bytes.Repeat([]byte("y"), wsReadChunk+10)
	go func() { _, _ = client.Write(big) }()
	got = got[:0]
	for len(got) < len(big) {
		q := make([]byte, wsReadChunk)
		n, err := c.Read(q)
		require.NoError(t, err)
		got = append(got, q[:n]...)
	}
	assert.Equal(t, big, got)

	require.NoError(t, client.Close())
	_, err = c.Read(p)
	assert.ErrorIs(t, err, io.EOF)

	c.Close()
	_, err = c.Read(p)
	assert.ErrorIs(t, err, net.ErrClosed)
}

// chunkReader returns its data in reads of at most step bytes, then err.
type chunkReader struct {
	data []byte
	step int
	err  error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := min(len(p), r.step, len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func TestReadMessage(t *testing.T) {
	pool := &sync.Pool{New: func() any { return new([wsReadChunk]byte) }}
	for _, size := range []int{0, 1, 100, wsReadChunk - 1, wsReadChunk, wsReadChunk + 1, 3*wsReadChunk + 7} {
		msg := bytes.Repeat([]byte("abcdefg"), size/7+1)[:size]
		got, err := readMessage(&chunkReader{data: bytes.Clone(msg), step: 1000, err: io.EOF}, pool)
		require.NoError(t, err, "size %d", size)
		assert.Equal(t, msg, got, "size %d", size)
		if size <= 100 {
			assert.Less(t, cap(got), 512, "size %d: a small message gets a small buffer", size)
		}
	}
	boom := errors.New("boom")
	for _, size := range []int{10, wsReadChunk + 10} {
		_, err := readMessage(&chunkReader{data: make([]byte, size), step: 1000, err: boom}, pool)
		assert.ErrorIs(t, err, boom, "size %d", size)
	}
}

// fakeRaw is a rawConn whose non-blocking writes go to a countConn.
type fakeRaw struct{ under *countConn }

func (f fakeRaw) readPooled(*sync.Pool) (pooledRead, error) { return pooledRead{}, io.EOF }
func (f fakeRaw) tryWrite(b []byte) (int, error)            { return f.under.Write(b) }
func (f fakeRaw) readNow([]byte) (int, error)               { return 0, io.EOF }
func (f fakeRaw) shut()                                     {}

// TestCorkConnCloseFrameGoesOut checks a close frame is written by the
// time writeFrame returns, after what was gathered, even while the
// writer gathers a batch: the connection is closed right after it.
func TestCorkConnCloseFrameGoesOut(t *testing.T) {
	closeFrame := wsframe.AppendHeader(nil, opClose, 2)
	closeFrame = append(closeFrame, 0x03, 0xe8)
	text := append(wsframe.AppendHeader(nil, opText, 2), "4a"...)

	c, under := newTestCorkConn()
	c.cork()
	require.NoError(t, c.writeFrame(opText, nil, []byte("4a")))
	c.writeClose(closeNormal)
	assert.Equal(t, [][]byte{append(bytes.Clone(text), closeFrame...)}, under.writes, "written by writeClose, in one write")
	assert.ErrorIs(t, c.writeFrame(opText, nil, []byte("4b")), net.ErrClosed, "nothing after the close frame")
	require.NoError(t, c.uncork())
	assert.Len(t, under.writes, 1)

	c, under = newTestCorkConn()
	c.raw = fakeRaw{under}
	c.corkAll()
	require.NoError(t, c.writeFrame(opText, nil, []byte("4a")))
	written := make(chan []byte)
	go func() {
		c.writeClose(closeNormal)
		c.mu.Lock()
		written <- bytes.Join(under.writes, nil)
		c.mu.Unlock()
	}()
	pending, err := c.tryUncork()
	require.NoError(t, err)
	require.False(t, pending)
	assert.Equal(t, append(bytes.Clone(text), closeFrame...), testutil.Recv(t, written))
}
