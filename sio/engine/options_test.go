//go:build !js

package engine

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio/eio"
)

func TestCookieOffByDefault(t *testing.T) {
	h := newHarness(t, nil)
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	require.Equal(t, http.StatusOK, res.status)
	assert.Empty(t, res.header.Values("Set-Cookie"))
	_, wres, err := h.dialRaw()
	require.NoError(t, err)
	assert.Empty(t, wres.Header.Values("Set-Cookie"))
	h.nextConn()
	h.nextConn()
}

func TestCookieDefaults(t *testing.T) {
	h := newHarness(t, &Options{Cookie: &CookieOptions{}})
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	require.Equal(t, http.StatusOK, res.status)
	sid := h.nextConn().ID()
	assert.Equal(t, []string{"io=" + sid + "; Path=/; HttpOnly; SameSite=Lax"}, res.header.Values("Set-Cookie"))

	// Only the handshake sets it: not the next GET, nor a POST, nor the upgrade.
	require.NoError(t, h.srv.Socket(sid).SendMessage([]byte("x"), false))
	assert.Empty(t, h.poll(sid).header.Values("Set-Cookie"))
	assert.Empty(t, h.post(sid, "4hi").header.Values("Set-Cookie"))
	_, ures, err := h.dialRaw("sid", sid)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, ures.StatusCode)
	assert.Empty(t, ures.Header.Values("Set-Cookie"))

	// A WebSocket handshake sets it on the 101 response.
	c, wres, err := h.dialRaw()
	require.NoError(t, err)
	wsSID := h.nextConn().ID()
	assert.Equal(t, []string{"io=" + wsSID + "; Path=/; HttpOnly; SameSite=Lax"}, wres.Header.Values("Set-Cookie"))
	assert.Contains(t, readWSText(t, c), `"sid":"`+wsSID+`"`)
}

func TestCookieOptions(t *testing.T) {
	h := newHarness(t, &Options{Cookie: &CookieOptions{
		Name:            "sticky",
		Path:            "/app",
		Domain:          "example.com",
		MaxAge:          3600,
		DisableHTTPOnly: true,
		SameSite:        http.SameSiteStrictMode,
		Secure:          true,
	}})
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	sid := h.nextConn().ID()
	require.Len(t, res.header.Values("Set-Cookie"), 1)
	ck := res.header.Get("Set-Cookie")
	assert.Equal(t, "sticky="+sid+"; Path=/app; Domain=example.com; Max-Age=3600; Secure; SameSite=Strict", ck)
	assert.NotContains(t, ck, "HttpOnly")
}

func TestHeaderHooks(t *testing.T) {
	var mu sync.Mutex
	var initial, every []string // "METHOD transport sid" of each call
	record := func(list *[]string, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		*list = append(*list, r.Method+" "+q.Get("transport")+" "+q.Get("sid"))
		mu.Unlock()
	}
	h := newHarness(t, &Options{
		Cookie: &CookieOptions{},
		OnInitialHeaders: func(hd http.Header, r *http.Request) {
			assert.NotEmpty(t, hd.Get("Set-Cookie"), "the cookie is set before the hook")
			hd.Set("X-Initial", "yes")
			record(&initial, r)
		},
		OnHeaders: func(hd http.Header, r *http.Request) {
			hd.Set("X-Every", "yes")
			hd.Set("Cache-Control", "private") // may override the defaults
			record(&every, r)
		},
	})
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "yes", res.header.Get("X-Initial"))
	assert.Equal(t, "yes", res.header.Get("X-Every"))
	assert.Equal(t, "private", res.header.Get("Cache-Control"))
	sid := h.nextConn().ID()

	post := h.post(sid, "4hi")
	assert.Equal(t, "ok", post.body)
	assert.Empty(t, post.header.Get("X-Initial"))
	assert.Equal(t, "yes", post.header.Get("X-Every"))

	require.NoError(t, h.srv.Socket(sid).SendMessage([]byte("x"), false))
	get := h.poll(sid)
	assert.Equal(t, "4x", get.body)
	assert.Empty(t, get.header.Get("X-Initial"))
	assert.Equal(t, "yes", get.header.Get("X-Every"))

	// Refused requests do not go through the hooks.
	bad := h.poll("nope")
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Empty(t, bad.header.Get("X-Every"))

	// WebSocket: the upgrade response gets OnHeaders only, a WebSocket
	// handshake both.
	_, ures, err := h.dialRaw("sid", sid)
	require.NoError(t, err)
	assert.Empty(t, ures.Header.Get("X-Initial"))
	assert.Equal(t, "yes", ures.Header.Get("X-Every"))
	_, wres, err := h.dialRaw()
	require.NoError(t, err)
	assert.Equal(t, "yes", wres.Header.Get("X-Initial"))
	assert.Equal(t, "yes", wres.Header.Get("X-Every"))
	wsSID := h.nextConn().ID()

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"GET polling ", "GET websocket "}, initial)
	assert.Equal(t, []string{
		"GET polling ", "POST polling " + sid, "GET polling " + sid,
		"GET websocket " + sid, "GET websocket ",
	}, every)
	assert.NotEqual(t, sid, wsSID)
}

// pollRaw sends a GET with an Accept-Encoding header; the body is
// returned as sent (the client does not decompress it).
func (h *harness) pollRaw(sid, acceptEncoding string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.query("transport", "polling", "sid", sid), nil)
	require.NoError(h.t, err)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	tr := h.ts.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	h.t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	res, err := (&http.Client{Transport: tr}).Do(req.WithContext(ctx))
	require.NoError(h.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

func decompress(t *testing.T, encoding, body string) string {
	t.Helper()
	var r io.Reader
	var err error
	switch encoding {
	case "gzip":
		r, err = gzip.NewReader(strings.NewReader(body))
	case "deflate":
		r, err = zlib.NewReader(strings.NewReader(body))
	default:
		t.Fatalf("unexpected encoding %q", encoding)
	}
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

func TestHTTPCompression(t *testing.T) {
	big := strings.Repeat("abcdefgh", 200) // 1600 bytes
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()
	for _, tc := range []struct {
		accept, want string
	}{
		{"gzip", "gzip"},
		{"deflate", "deflate"},
		{"gzip, deflate, br", "gzip"},
		{"deflate, gzip", "deflate"},
		{"gzip;q=0.5, deflate", "deflate"},
		{"*", "gzip"},
		{"br, *;q=0.1", "gzip"},
		{"gzip;q=0, *", "deflate"},
		{"identity", ""},
		{"", ""},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			require.NoError(t, sess.SendMessage([]byte(big), false))
			res := h.pollRaw(sid, tc.accept)
			require.Equal(t, http.StatusOK, res.status)
			assert.Equal(t, tc.want, res.header.Get("Content-Encoding"))
			assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
			assert.Equal(t, len(res.body), atoi(t, res.header.Get("Content-Length")))
			body := res.body
			if tc.want != "" {
				assert.Less(t, len(body), len(big))
				body = decompress(t, tc.want, body)
			}
			assert.Equal(t, "4"+big, body)
		})
	}
	// Under the threshold (1024 by default), nothing is compressed.
	require.NoError(t, sess.SendMessage([]byte(big[:1000]), false))
	res := h.pollRaw(sid, "gzip")
	assert.Empty(t, res.header.Get("Content-Encoding"))
	assert.Equal(t, "4"+big[:1000], res.body)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func TestHTTPCompressionOptions(t *testing.T) {
	t.Run("threshold", func(t *testing.T) {
		h := newHarness(t, &Options{HTTPCompression: &HTTPCompressionOptions{Threshold: 10}})
		sid, _ := h.handshake()
		sess := h.nextConn()
		require.NoError(t, sess.SendMessage([]byte("0123456789"), false))
		res := h.pollRaw(sid, "gzip")
		assert.Equal(t, "gzip", res.header.Get("Content-Encoding"))
		assert.Equal(t, "40123456789", decompress(t, "gzip", res.body))
		require.NoError(t, sess.SendMessage([]byte("12345678"), false))
		res = h.pollRaw(sid, "gzip")
		assert.Empty(t, res.header.Get("Content-Encoding"), "9 bytes, under the threshold")
		assert.Equal(t, "412345678", res.body)
	})
	t.Run("POST answers", func(t *testing.T) {
		h := newHarness(t, &Options{HTTPCompression: &HTTPCompressionOptions{Threshold: -1}})
		sid, _ := h.handshake()
		h.nextConn()
		req, err := http.NewRequest(http.MethodPost, h.query("transport", "polling", "sid", sid), strings.NewReader("4hi"))
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", "gzip")
		post := h.send(req)
		assert.Equal(t, "ok", post.body)
		assert.Empty(t, post.header.Get("Content-Encoding"))
		assert.Equal(t, "hi", h.nextMsg().data)
		// With a negative threshold, even a one-byte payload is compressed.
		require.NoError(t, h.srv.Socket(sid).SendMessage(nil, false))
		res := h.pollRaw(sid, "deflate")
		assert.Equal(t, "deflate", res.header.Get("Content-Encoding"))
		assert.Equal(t, "4", decompress(t, "deflate", res.body))
	})
	t.Run("disabled", func(t *testing.T) {
		h := newHarness(t, &Options{DisableHTTPCompression: true})
		assert.Nil(t, h.srv.Options().HTTPCompression)
		sid, _ := h.handshake()
		sess := h.nextConn()
		big := strings.Repeat("x", 5000)
		require.NoError(t, sess.SendMessage([]byte(big), false))
		res := h.pollRaw(sid, "gzip, deflate")
		assert.Empty(t, res.header.Get("Content-Encoding"))
		assert.Equal(t, "4"+big, res.body)
	})
	t.Run("defaults", func(t *testing.T) {
		srv := NewServer(nil)
		defer srv.Close()
		require.NotNil(t, srv.Options().HTTPCompression)
		assert.Equal(t, 1024, srv.Options().HTTPCompression.Threshold)
		assert.Equal(t, 1024, srv.Options().PerMessageDeflateThreshold)
		assert.False(t, srv.Options().PerMessageDeflate)
		assert.Nil(t, srv.Options().Cookie)
	})
}

func TestCompressorsReuse(t *testing.T) {
	var c compressors
	for range 3 {
		for _, enc := range []string{"gzip", "deflate"} {
			z, err := c.compress(enc, []byte("hello hello hello"))
			require.NoError(t, err)
			assert.Equal(t, "hello hello hello", decompress(t, enc, string(z)))
		}
	}
	_, err := c.compress("br", []byte("x"))
	assert.Error(t, err)
}

func TestPerMessageDeflate(t *testing.T) {
	dial := func(t *testing.T, h *harness) (*websocket.Conn, *http.Response) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c, res, err := websocket.Dial(ctx, h.wsURL(), &websocket.DialOptions{
			HTTPClient:      h.ts.Client(),
			CompressionMode: websocket.CompressionNoContextTakeover,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.CloseNow() })
		return c, res
	}
	t.Run("off by default", func(t *testing.T) {
		h := newHarness(t, nil)
		_, res := dial(t, h)
		assert.Empty(t, res.Header.Get("Sec-WebSocket-Extensions"))
		h.nextConn()
	})
	t.Run("on", func(t *testing.T) {
		h := newHarness(t, &Options{PerMessageDeflate: true, PerMessageDeflateThreshold: 100})
		c, res := dial(t, h)
		ext := res.Header.Get("Sec-WebSocket-Extensions")
		assert.Contains(t, ext, "permessage-deflate")
		assert.Contains(t, ext, "server_no_context_takeover")
		sess := h.nextConn()
		assert.True(t, strings.HasPrefix(readWSText(t, c), "0{"))
		big := strings.Repeat("compress me ", 500)
		require.NoError(t, sess.SendMessage([]byte(big), false))
		assert.Equal(t, "4"+big, readWSText(t, c))
		writeWS(t, c, "4"+big)
		assert.Equal(t, big, h.nextMsg().data)
	})
}

func TestConnectionError(t *testing.T) {
	errs := make(chan ConnectionError, 100)
	h := newHarness(t, &Options{
		OnConnectionError: func(e ConnectionError) { errs <- e },
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return assert.AnError
			}
			return nil
		},
	})
	sid, _ := h.handshake()
	_, wsSID := h.wsHandshake()
	h.nextConn()
	h.nextConn()
	for _, tc := range []struct {
		name   string
		method string
		url    string
		header []string
		code   eio.ErrorCode
		ctx    map[string]any
	}{
		{"unknown transport", "GET", h.query("transport", "flash"), nil, eio.CodeUnknownTransport, map[string]any{"transport": "flash"}},
		{"unknown sid", "POST", h.query("transport", "polling", "sid", "nope"), nil, eio.CodeUnknownSID, map[string]any{"sid": "nope"}},
		{"bad handshake method", "POST", h.query("transport", "polling"), nil, eio.CodeBadHandshakeMethod, map[string]any{"method": "POST"}},
		{"websocket without upgrade", "GET", h.query("transport", "websocket"), nil, eio.CodeBadRequest, map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"}},
		{"upgrade without websocket", "GET", h.query("transport", "websocket", "sid", sid), nil, eio.CodeBadRequest, map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"}},
		{"transport mismatch", "GET", h.query("transport", "polling", "sid", wsSID), nil, eio.CodeBadRequest, map[string]any{"name": "TRANSPORT_MISMATCH", "transport": "polling", "previousTransport": "websocket"}},
		{"forbidden", "GET", h.query("transport", "polling", "deny", "1"), nil, eio.CodeForbidden, map[string]any{"message": assert.AnError.Error()}},
		{"unsupported protocol", "GET", h.query("transport", "polling", "EIO", "3"), nil, eio.CodeUnsupportedProtocolVersion, map[string]any{"protocol": 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do(tc.method, tc.url, "", tc.header...)
			assert.NotEqual(t, http.StatusOK, res.status)
			e := testutil.Recv(t, errs)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.code.Message(), e.Message)
			assert.Equal(t, tc.ctx, e.Context)
			require.NotNil(t, e.Request)
			assert.Equal(t, tc.method, e.Request.Method)
			msg := tc.code.Message()
			if m, ok := tc.ctx["message"].(string); ok {
				msg = m
			}
			assert.Equal(t, errBody(int(tc.code), msg), res.body, "the answer is unchanged")
		})
	}
	t.Run("websocket", func(t *testing.T) {
		_, res, err := h.dialRaw("EIO", "3")
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		e := testutil.Recv(t, errs)
		assert.Equal(t, eio.CodeUnsupportedProtocolVersion, e.Code)
		assert.Equal(t, "websocket", e.Request.URL.Query().Get("transport"))
	})
	// Accepted requests are not reported.
	require.NoError(t, h.srv.Socket(sid).SendMessage([]byte("x"), false))
	assert.Equal(t, "4x", h.poll(sid).body)
	select {
	case e := <-errs:
		t.Fatalf("unexpected connection error: %+v", e)
	default:
	}
}

func TestConnectionErrorDisallowedUpgrade(t *testing.T) {
	errs := make(chan ConnectionError, 1)
	h := newHarness(t, &Options{DisallowUpgrades: true, OnConnectionError: func(e ConnectionError) { errs <- e }})
	sid, _ := h.handshake()
	h.nextConn()
	_, res, err := h.dialRaw("sid", sid)
	require.Error(t, err)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	e := testutil.Recv(t, errs)
	assert.Equal(t, eio.CodeBadRequest, e.Code)
	assert.Equal(t, "TRANSPORT_MISMATCH", e.Context["name"])
}

func TestGenerateID(t *testing.T) {
	var mu sync.Mutex
	n := 0
	errs := make(chan ConnectionError, 10)
	h := newHarness(t, &Options{
		GenerateID: func(r *http.Request) string {
			if id := r.URL.Query().Get("want"); id != "" {
				return id
			}
			mu.Lock()
			defer mu.Unlock()
			n++
			return "custom-" + string(rune('0'+n))
		},
		OnConnectionError: func(e ConnectionError) { errs <- e },
	})
	// Polling: the id is in the open packet and routes the session's requests.
	sid, hs := h.handshake()
	assert.Equal(t, "custom-1", sid)
	assert.Equal(t, "custom-1", hs["sid"])
	sess := h.nextConn()
	assert.Equal(t, "custom-1", sess.ID())
	assert.Same(t, sess, h.srv.Socket("custom-1"))
	assert.Equal(t, "ok", h.post("custom-1", "4hello").body)
	assert.Equal(t, msgEvent{"custom-1", "hello", false}, h.nextMsg())
	require.NoError(t, sess.SendMessage([]byte("back"), false))
	assert.Equal(t, "4back", h.poll("custom-1").body)

	// WebSocket handshake and upgrade.
	c, wsSID := h.wsHandshake()
	assert.Equal(t, "custom-2", wsSID)
	h.nextConn()
	writeWS(t, c, "4over ws")
	assert.Equal(t, msgEvent{"custom-2", "over ws", false}, h.nextMsg())
	uc := h.upgrade("custom-1")
	writeWS(t, uc, "4upgraded")
	assert.Equal(t, msgEvent{"custom-1", "upgraded", false}, h.nextMsg())

	// A taken id refuses the handshake.
	res := h.do(http.MethodGet, h.query("transport", "polling", "want", "custom-1"), "")
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, errBody(3, "Bad request"), res.body)
	e := testutil.Recv(t, errs)
	assert.Equal(t, "ID_GENERATION_ERROR", e.Context["name"])
	err, _ := e.Context["error"].(error)
	assert.ErrorIs(t, err, errDuplicateID)
	_, _, err = h.dialRaw("want", "custom-2")
	require.NoError(t, err, "the WebSocket is accepted, then closed")
	e = testutil.Recv(t, errs)
	assert.Equal(t, "ID_GENERATION_ERROR", e.Context["name"])
	assert.Equal(t, 2, h.srv.ClientsCount())
}

func TestConnectionErrorInvalidOrigin(t *testing.T) {
	var got []ConnectionError
	srv := NewServer(&Options{OnConnectionError: func(e ConnectionError) { got = append(got, e) }})
	defer srv.Close()
	req := httptest.NewRequest(http.MethodGet, "/engine.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "http://a\x01b")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	require.Len(t, got, 1)
	assert.Equal(t, eio.CodeBadRequest, got[0].Code)
	assert.Equal(t, map[string]any{"name": "INVALID_ORIGIN", "origin": "http://a\x01b"}, got[0].Context)
	assert.Same(t, req, got[0].Request)
}

func TestNegotiateEncoding(t *testing.T) {
	for header, want := range map[string]string{
		"":                           "",
		"gzip":                       "gzip",
		"GZIP":                       "gzip",
		"x-gzip":                     "gzip",
		"deflate":                    "deflate",
		"br":                         "",
		"br, deflate;q=0.2":          "deflate",
		"gzip;q=0.2, deflate;q=0.3":  "deflate",
		"gzip;q=0.3, deflate;q=0.3":  "gzip",
		"deflate;q=0.3, gzip;q=0.3":  "deflate",
		"*;q=0.9, deflate;q=0.9":     "deflate",
		"gzip;q=0, deflate;q=0":      "",
		"*;q=0":                      "",
		"gzip;q=bad":                 "",
		"identity;q=1, gzip ; q=0.5": "gzip",
	} {
		assert.Equal(t, want, negotiateEncoding(header), "Accept-Encoding: %q", header)
	}
}

func TestCookieOnRecorder(t *testing.T) {
	// OnInitialHeaders sees the request of the handshake.
	var got *http.Request
	srv := NewServer(&Options{
		Cookie:           &CookieOptions{SameSite: http.SameSiteDefaultMode},
		OnInitialHeaders: func(_ http.Header, r *http.Request) { got = r },
	})
	defer srv.Close()
	req := httptest.NewRequest(http.MethodGet, "/engine.io/?EIO=4&transport=polling", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Same(t, req, got)
	ck := rec.Header().Get("Set-Cookie")
	assert.True(t, strings.HasPrefix(ck, "io="), ck)
	assert.NotContains(t, ck, "SameSite", "SameSiteDefaultMode leaves the attribute out")
	assert.True(t, bytes.HasPrefix(rec.Body.Bytes(), []byte(`0{"sid":"`)))
}

func TestOptionsCopies(t *testing.T) {
	in := &Options{Cookie: &CookieOptions{Name: "sticky"}, HTTPCompression: &HTTPCompressionOptions{}}
	srv := NewServer(in)
	defer srv.Close()
	// The caller's options are left as they were; defaults are filled in
	// the server's copy.
	assert.Equal(t, CookieOptions{Name: "sticky"}, *in.Cookie)
	assert.Zero(t, in.HTTPCompression.Threshold)
	o := srv.Options()
	assert.Equal(t, CookieOptions{Name: "sticky", Path: "/", SameSite: http.SameSiteLaxMode}, *o.Cookie)
	assert.Equal(t, 1024, o.HTTPCompression.Threshold)
	// What Options returns does not alias the server's options.
	o.Cookie.Name = "changed"
	o.HTTPCompression.Threshold = 1
	assert.Equal(t, "sticky", srv.Options().Cookie.Name)
	assert.Equal(t, 1024, srv.Options().HTTPCompression.Threshold)
}
