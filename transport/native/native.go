//go:build !js

// Package native is the client.Transport of native (non-browser) programs:
// HTTP long-polling with net/http and WebSocket with github.com/coder/websocket.
//
// It does only I/O; the Engine.IO and Socket.IO logic lives in package
// client. Cookies set by the server (for instance by a load balancer for
// sticky sessions) are kept in a cookie jar and sent back with every
// request, WebSocket handshake included.
package native

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"

	"github.com/coder/websocket"

	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/eio"
)

// Options configures a Transport. The zero value is ready to use.
type Options struct {
	// HTTPClient performs the polling requests and the WebSocket handshakes.
	// Configure TLS (RootCAs, client certificates), proxies and dial
	// timeouts through its Transport. It must not set an overall Timeout
	// shorter than the server's ping interval, as long-polling requests stay
	// open that long. Nil means a client with http.DefaultTransport. It is
	// copied: the copy gets the cookie jar described by Jar.
	HTTPClient *http.Client
	// Header holds headers added to every request (polling and WebSocket
	// handshake), before the client's own extra headers.
	Header http.Header
	// Jar keeps cookies across requests. Nil means the HTTPClient's jar, or
	// a fresh in-memory jar when the HTTPClient has none.
	Jar http.CookieJar
}

// Transport implements client.Transport. It is safe for concurrent use.
type Transport struct {
	hc     *http.Client
	header http.Header
}

var _ client.Transport = (*Transport)(nil)

// New returns a Transport configured by opts (nil means defaults).
func New(opts *Options) *Transport {
	var o Options
	if opts != nil {
		o = *opts
	}
	hc := new(http.Client)
	if o.HTTPClient != nil {
		*hc = *o.HTTPClient
	}
	switch {
	case o.Jar != nil:
		hc.Jar = o.Jar
	case hc.Jar == nil:
		// cookiejar.New only fails for invalid options; nil options are valid.
		jar, _ := cookiejar.New(nil)
		hc.Jar = jar
	}
	return &Transport{hc: hc, header: o.Header.Clone()}
}

// Do performs one long-polling request. A response other than 200 OK yields
// an *eio.HTTPError.
func (t *Transport) Do(ctx context.Context, r *client.Request) ([]byte, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	t.addHeaders(req.Header, r.Header)
	if r.Body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("native: reading response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, eio.ParseHTTPError(resp.StatusCode, data)
	}
	return data, nil
}

// DialWebSocket opens a WebSocket. Messages of any size are accepted. A
// handshake answered with an HTTP error yields an *eio.HTTPError.
func (t *Transport) DialWebSocket(ctx context.Context, url string, header map[string][]string) (client.WebSocket, error) {
	h := make(http.Header)
	t.addHeaders(h, header)
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: t.hc, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != 0 {
			var data []byte
			if resp.Body != nil {
				data, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
			}
			return nil, fmt.Errorf("native: websocket: %w", eio.ParseHTTPError(resp.StatusCode, data))
		}
		return nil, fmt.Errorf("native: websocket: %w", err)
	}
	c.SetReadLimit(-1)
	return &wsConn{c: c}, nil
}

// addHeaders copies the transport's headers then extra into dst.
func (t *Transport) addHeaders(dst http.Header, extra map[string][]string) {
	for k, vs := range t.header {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
	for k, vs := range extra {
		dst.Del(k)
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

// wsConn adapts a *websocket.Conn to client.WebSocket.
type wsConn struct{ c *websocket.Conn }

func (w *wsConn) Read(ctx context.Context) (bool, []byte, error) {
	typ, data, err := w.c.Read(ctx)
	if err != nil {
		return false, nil, err
	}
	return typ == websocket.MessageBinary, data, nil
}

func (w *wsConn) Write(ctx context.Context, binary bool, data []byte) error {
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	return w.c.Write(ctx, typ, data)
}

func (w *wsConn) Close() error {
	err := w.c.Close(websocket.StatusNormalClosure, "")
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
