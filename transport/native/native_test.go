//go:build !js

package native_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/transport/native"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// server answers /poll (echoing the request), /error (an Engine.IO error),
// /slow (never) and /ws (a WebSocket echo); it sets a cookie on /poll and
// reports the cookie received on every request.
func server(t *testing.T) (*httptest.Server, *atomic.Value) {
	var cookie atomic.Value
	cookie.Store("")
	mux := http.NewServeMux()
	mux.HandleFunc("/poll", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("io"); err == nil {
			cookie.Store(c.Value)
		}
		http.SetCookie(w, &http.Cookie{Name: "io", Value: "sticky"})
		body, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, r.Method+" "+r.Header.Get("X-A")+" "+r.Header.Get("X-B")+" "+r.Header.Get("Content-Type")+" "+string(body))
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"code":1,"message":"Session ID unknown"}`)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("io"); err == nil {
			cookie.Store(c.Value + " ws " + r.Header.Get("X-A"))
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(-1)
		for {
			typ, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, data); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &cookie
}

func TestDo(t *testing.T) {
	srv, cookie := server(t)
	tr := native.New(&native.Options{Header: http.Header{"X-A": {"transport"}, "X-B": {"transport"}}})
	ctx := t.Context()

	body, err := tr.Do(ctx, &client.Request{Method: "GET", URL: srv.URL + "/poll", Header: map[string][]string{"X-B": {"request"}}})
	require.NoError(t, err)
	assert.Equal(t, "GET transport request  ", string(body))

	body, err = tr.Do(ctx, &client.Request{Method: "POST", URL: srv.URL + "/poll", Body: []byte("4hello")})
	require.NoError(t, err)
	assert.Equal(t, "POST transport transport text/plain;charset=UTF-8 4hello", string(body))
	assert.Equal(t, "sticky", cookie.Load(), "the cookie of the first response came back")

	_, err = tr.Do(ctx, &client.Request{Method: "GET", URL: srv.URL + "/error"})
	var he *eio.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusBadRequest, he.Status)
	assert.Equal(t, eio.CodeUnknownSID, he.Code)

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = tr.Do(cctx, &client.Request{Method: "GET", URL: srv.URL + "/slow"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

type countingRT struct{ n atomic.Int32 }

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestHTTPClientAndJar(t *testing.T) {
	srv, _ := server(t)
	rt := &countingRT{}
	hc := &http.Client{Transport: rt}
	tr := native.New(&native.Options{HTTPClient: hc})
	_, err := tr.Do(t.Context(), &client.Request{Method: "GET", URL: srv.URL + "/poll"})
	require.NoError(t, err)
	assert.Equal(t, int32(1), rt.n.Load())
	assert.Nil(t, hc.Jar, "the caller's client is not modified")

	jar := &recordingJar{}
	tr = native.New(&native.Options{Jar: jar})
	_, err = tr.Do(t.Context(), &client.Request{Method: "GET", URL: srv.URL + "/poll"})
	require.NoError(t, err)
	assert.Equal(t, int32(1), jar.set.Load())
}

type recordingJar struct{ set atomic.Int32 }

func (j *recordingJar) SetCookies(*url.URL, []*http.Cookie) { j.set.Add(1) }
func (j *recordingJar) Cookies(*url.URL) []*http.Cookie     { return nil }

func TestWebSocket(t *testing.T) {
	srv, cookie := server(t)
	tr := native.New(&native.Options{Header: http.Header{"X-A": {"a"}}})
	ctx := t.Context()
	// A polling request first, so that the jar holds the cookie.
	_, err := tr.Do(ctx, &client.Request{Method: "GET", URL: srv.URL + "/poll"})
	require.NoError(t, err)

	ws, err := tr.DialWebSocket(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	require.NoError(t, err)
	defer ws.Close()
	assert.Equal(t, "sticky ws a", cookie.Load(), "cookie and header sent with the handshake")

	require.NoError(t, ws.Write(ctx, false, []byte("4text")))
	binary, data, err := ws.Read(ctx)
	require.NoError(t, err)
	assert.False(t, binary)
	assert.Equal(t, "4text", string(data))

	big := make([]byte, 2<<20) // beyond coder/websocket's default read limit
	big[len(big)-1] = 7
	require.NoError(t, ws.Write(ctx, true, big))
	binary, data, err = ws.Read(ctx)
	require.NoError(t, err)
	assert.True(t, binary)
	assert.Equal(t, big, data)

	require.NoError(t, ws.Close())
	_, _, err = ws.Read(ctx)
	assert.Error(t, err)

	_, err = tr.DialWebSocket(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/error", nil)
	var he *eio.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, eio.CodeUnknownSID, he.Code)

	_, err = tr.DialWebSocket(ctx, "ws://127.0.0.1:1/", nil)
	assert.Error(t, err)
	assert.False(t, errors.As(err, &he))
}
