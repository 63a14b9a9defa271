package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/conformance"
)

// waitTimeout bounds every wait; it is only reached when a test fails.
const waitTimeout = 5 * time.Second

// TestHTTPServerTimeouts runs the server cmd/server builds, with its
// timeouts shortened below the conformance configuration's ping interval
// (300 ms): an idle keep-alive connection is closed, while a long-poll and
// a WebSocket outlive ReadTimeout and WriteTimeout.
func TestHTTPServerTimeouts(t *testing.T) {
	assert.NotZero(t, defaultTimeouts.readHeader)
	assert.NotZero(t, defaultTimeouts.read)
	assert.NotZero(t, defaultTimeouts.idle)

	c := conformance.New(nil, nil)
	hs := newHTTPServer(c.Handler(), httpTimeouts{
		readHeader: 100 * time.Millisecond,
		read:       100 * time.Millisecond,
		write:      100 * time.Millisecond,
		idle:       100 * time.Millisecond,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		c.Close()
		_ = hs.Close()
	})
	addr := ln.Addr().String()

	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	br := bufio.NewReader(conn)
	get := func(query string) (int, string) {
		t.Helper()
		_, err := io.WriteString(conn, "GET /engine.io/?EIO=4&transport=polling"+query+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		require.NoError(t, err)
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	status, body := get("")
	require.Equal(t, http.StatusOK, status, body)
	sid := body[strings.Index(body, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	// Held until the ping (300 ms), past ReadTimeout and WriteTimeout.
	status, body = get("&sid=" + sid)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "2", body)

	// Then idle: the server closes the connection.
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the idle connection is closed")

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/engine.io/?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	defer ws.CloseNow()
	_, open, err := ws.Read(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(open), "0{"), string(open))
	for range 2 {
		_, ping, err := ws.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, "2", string(ping))
		require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte("3")))
	}
	require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte("4echo")))
	_, echo, err := ws.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "4echo", string(echo))
}
