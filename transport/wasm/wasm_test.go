//go:build js && wasm

// These tests need a browser and the endpoints of e2e/wasm_transport_test.go
// (TestWASMTransport), which compiles them with GOOS=js GOARCH=wasm go test
// -c and runs them in headless Chromium on the same origin as the
// endpoints, with SIO_WASM_E2E=1. Elsewhere (under Node, say) they skip.
package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/transport/wasm"
)

// origin returns the http origin of the test endpoints, or skips.
func origin(t *testing.T) string {
	t.Helper()
	if os.Getenv("SIO_WASM_E2E") == "" {
		t.Skip("needs the browser and endpoints of e2e TestWASMTransport")
	}
	return js.Global().Get("location").Get("origin").String()
}

func wsOrigin(t *testing.T) string {
	return "ws" + strings.TrimPrefix(origin(t), "http")
}

func get(t *testing.T, tr client.Transport, path string) ([]byte, error) {
	t.Helper()
	return tr.Do(t.Context(), &client.Request{Method: "GET", URL: origin(t) + path})
}

func TestDoGet(t *testing.T) {
	body, err := get(t, wasm.New(nil), "/t/ok")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))
}

func TestDoPost(t *testing.T) {
	payload := []byte("4hello\x1e4wörld\x1ebAAEC")
	body, err := wasm.New(nil).Do(t.Context(), &client.Request{
		Method: "POST",
		URL:    origin(t) + "/t/echo",
		Header: map[string][]string{"X-Test": {"a", "b"}},
		Body:   payload,
	})
	require.NoError(t, err)
	assert.Equal(t, "POST|text/plain;charset=UTF-8|a, b|"+string(payload), string(body))
}

func TestDoLargeBody(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	body, err := wasm.New(nil).Do(t.Context(), &client.Request{Method: "POST", URL: origin(t) + "/t/echo", Body: payload})
	require.NoError(t, err)
	want := append([]byte("POST|text/plain;charset=UTF-8||"), payload...)
	assert.True(t, bytes.Equal(want, body), "echo of 1 MiB differs (got %d bytes)", len(body))
}

func TestDoHTTPError(t *testing.T) {
	_, err := get(t, wasm.New(nil), "/t/error")
	var herr *eio.HTTPError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, 400, herr.Status)
	assert.Equal(t, eio.ErrorCode(1), herr.Code)
	assert.Equal(t, "Session ID unknown", herr.Message)

	_, err = get(t, wasm.New(nil), "/t/plain-error")
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, 503, herr.Status)
	assert.Equal(t, eio.ErrorCode(-1), herr.Code)
	assert.Equal(t, "down", herr.Message)
}

func TestDoNetworkError(t *testing.T) {
	origin(t)
	_, err := wasm.New(nil).Do(t.Context(), &client.Request{Method: "GET", URL: "http://127.0.0.1:1/"})
	require.Error(t, err)
	var herr *eio.HTTPError
	assert.False(t, errors.As(err, &herr), "a network error is not an HTTP error: %v", err)
	var jerr js.Error
	assert.True(t, errors.As(err, &jerr), "want the browser's TypeError: %v", err)
}

func TestDoCancel(t *testing.T) {
	tr := wasm.New(nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := tr.Do(ctx, &client.Request{Method: "GET", URL: origin(t) + "/t/hang"})
		done <- err
	}()
	// Wait until the server holds the request, then abort it.
	_, err := get(t, tr, "/t/hang-started")
	require.NoError(t, err)
	cancel()
	err = <-done
	assert.ErrorIs(t, err, context.Canceled)
	// The server saw the request end.
	_, err = get(t, tr, "/t/hang-aborted")
	require.NoError(t, err)
}

func TestDoCanceledBefore(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := wasm.New(nil).Do(ctx, &client.Request{Method: "GET", URL: origin(t) + "/t/ok"})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCredentials(t *testing.T) {
	_, err := get(t, wasm.New(nil), "/t/set-cookie")
	require.NoError(t, err)
	body, err := get(t, wasm.New(nil), "/t/cookie")
	require.NoError(t, err)
	assert.Equal(t, "sio=42", string(body), "same-origin sends the cookie")
	body, err = get(t, wasm.New(&wasm.Options{Credentials: "omit"}), "/t/cookie")
	require.NoError(t, err)
	assert.Empty(t, string(body), "omit sends no cookie")
}

func dial(t *testing.T) client.WebSocket {
	t.Helper()
	ws, err := wasm.New(nil).DialWebSocket(t.Context(), wsOrigin(t)+"/t/ws", nil)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	return ws
}

func TestWebSocketEcho(t *testing.T) {
	ws := dial(t)
	ctx := t.Context()
	require.NoError(t, ws.Write(ctx, false, []byte("4héllo")))
	require.NoError(t, ws.Write(ctx, true, []byte{0, 1, 2, 0xff}))
	binary, data, err := ws.Read(ctx)
	require.NoError(t, err)
	assert.False(t, binary)
	assert.Equal(t, "4héllo", string(data))
	binary, data, err = ws.Read(ctx)
	require.NoError(t, err)
	assert.True(t, binary)
	assert.Equal(t, []byte{0, 1, 2, 0xff}, data)
}

func TestWebSocketQueuesInOrder(t *testing.T) {
	ws := dial(t)
	ctx := t.Context()
	const n = 500
	require.NoError(t, ws.Write(ctx, false, fmt.Appendf(nil, "burst %d", n)))
	// The server sends everything at once; the reader is slower.
	for i := range n {
		binary, data, err := ws.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, i%2 == 1, binary)
		require.Equal(t, fmt.Sprint("m", i), string(data))
	}
}

func TestWebSocketPeerClose(t *testing.T) {
	ws := dial(t)
	ctx := t.Context()
	require.NoError(t, ws.Write(ctx, false, []byte("close-me")))
	// The message sent before the close is still delivered.
	_, data, err := ws.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "goodbye", string(data))
	_, _, err = ws.Read(ctx)
	require.ErrorIs(t, err, wasm.ErrClosed)
	assert.Contains(t, err.Error(), "4000")
	assert.Contains(t, err.Error(), "bye")
	assert.ErrorIs(t, ws.Write(ctx, false, []byte("x")), wasm.ErrClosed)
}

func TestWebSocketCloseUnblocksRead(t *testing.T) {
	ws := dial(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := ws.Read(t.Context())
		done <- err
	}()
	require.NoError(t, ws.Close())
	assert.ErrorIs(t, <-done, wasm.ErrClosed)
	require.NoError(t, ws.Close(), "Close is idempotent")
	assert.ErrorIs(t, ws.Write(t.Context(), false, []byte("x")), wasm.ErrClosed)
}

func TestWebSocketReadContext(t *testing.T) {
	ws := dial(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := ws.Read(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	// The connection survives a cancelled Read.
	require.NoError(t, ws.Write(t.Context(), false, []byte("still")))
	_, data, err := ws.Read(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "still", string(data))
}

func TestWebSocketHandshakeFailure(t *testing.T) {
	_, err := wasm.New(nil).DialWebSocket(t.Context(), wsOrigin(t)+"/t/not-a-websocket", nil)
	assert.ErrorIs(t, err, wasm.ErrHandshake)
}

func TestWebSocketBadURL(t *testing.T) {
	origin(t)
	_, err := wasm.New(nil).DialWebSocket(t.Context(), "ftp://example.com/", nil)
	var jerr js.Error
	assert.ErrorAs(t, err, &jerr, "the constructor's SyntaxError")
}

func TestWebSocketDialCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := wasm.New(nil).DialWebSocket(ctx, wsOrigin(t)+"/t/ws", nil)
	assert.ErrorIs(t, err, context.Canceled)
}
