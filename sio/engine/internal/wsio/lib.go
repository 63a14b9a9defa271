//go:build !js

package wsio

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/coder/websocket"
)

// LibConn is a WebSocket spoken by coder/websocket (permessage-deflate),
// read by a goroutine of its own. Its writes go to a corkConn, which
// gathers a batch.
type LibConn struct {
	c  *websocket.Conn
	cc *corkConn // under c
	st *Stack
}

// Read reads the next data message and passes it to deliver. Cancelling
// ctx ends the read by closing the connection.
func (l *LibConn) Read(ctx context.Context, deliver func(data []byte, binary bool) error) error {
	typ, r, err := l.c.Reader(ctx)
	if err != nil {
		return err
	}
	data, err := readMessage(r, &l.st.readBufs)
	if err != nil {
		return err
	}
	return deliver(data, typ == websocket.MessageBinary)
}

// Serve reads the connection on a goroutine until it fails, and reports
// false when the owner is closing (no goroutine may start).
func (l *LibConn) Serve(h Handler) bool {
	return l.st.cfg.Go(func() {
		for {
			if err := l.Read(context.Background(), h.Message); err != nil {
				h.Failed(err)
				return
			}
		}
	})
}

// Buffered reports false: coder/websocket keeps its buffer to itself.
func (l *LibConn) Buffered() bool { return false }

// BeginBatch starts a batch; see OwnConn.BeginBatch.
func (l *LibConn) BeginBatch(now bool) { l.cc.startCork(now) }

// EndBatch ends a batch; see OwnConn.EndBatch.
func (l *LibConn) EndBatch(now bool) (pending bool, err error) { return l.cc.endCork(now) }

// WriteMessage writes a data message: pre then data.
func (l *LibConn) WriteMessage(binary bool, pre, data []byte) error {
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	if len(pre) > 0 {
		data = append(append(make([]byte, 0, len(pre)+len(data)), pre...), data...)
	}
	// No cancellable context: closing the connection unblocks a write,
	// and a cancellable one costs allocations per write.
	return l.c.Write(context.Background(), typ, data)
}

// WritePong does nothing: coder/websocket answers pings itself.
func (l *LibConn) WritePong([]byte) error { return nil }

// Close closes the connection with a normal close frame, in the background.
func (l *LibConn) Close() {
	l.st.cfg.WG.Add(1)
	go func() {
		defer l.st.cfg.WG.Done()
		_ = l.c.Close(websocket.StatusNormalClosure, "")
	}()
}

// CloseNow closes the connection at once.
func (l *LibConn) CloseNow() { _ = l.c.CloseNow() }

// readMessage reads the message r to its end, into a pooled chunk, and
// returns a copy of exactly its size: a small message costs one small
// allocation, where io.ReadAll starts at 512 bytes. A message larger than
// a chunk is read on with io.ReadAll.
func readMessage(r io.Reader, pool *sync.Pool) ([]byte, error) {
	buf := pool.Get().(*[wsReadChunk]byte)
	defer pool.Put(buf)
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return bytes.Clone(buf[:n:n]), nil
		}
		if err != nil {
			return nil, err
		}
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	out := make([]byte, n+len(rest))
	copy(out, buf[:n])
	copy(out[n:], rest)
	return out, nil
}
