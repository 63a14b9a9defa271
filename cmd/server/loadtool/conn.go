package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/parser"
)

// handler receives every Engine.IO packet of a connection but the pings,
// which the connection answers itself. It runs on the connection's reader
// goroutine; data is only valid during the call.
type handler func(p eio.Packet)

// conn is one Engine.IO session joined to the main Socket.IO namespace.
type conn interface {
	// Send sends one Engine.IO text packet (type digit included). It is
	// safe for concurrent use.
	Send(ctx context.Context, pkt []byte) error
	// Close closes the session; the reader goroutine ends soon after.
	Close()
}

// dialer opens connections, spreading them over several loopback source
// addresses so that N connections do not exhaust the ephemeral ports of
// a single address pair.
type dialer struct {
	base      *url.URL // http://host:port/socket.io/
	transport string
	clients   []*http.Client // one per source address
}

// newDialer returns a dialer for the server at rawURL, with nsrc source
// addresses 127.0.0.1, 127.0.0.2, ... (1 means the default route).
func newDialer(rawURL, path, transport string, nsrc int) (*dialer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = path
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	host, _, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", rawURL, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("url %q: only loopback addresses may be loaded", rawURL)
	}
	d := &dialer{base: u, transport: transport}
	for i := range max(nsrc, 1) {
		nd := &net.Dialer{Timeout: 10 * time.Second}
		if nsrc > 1 {
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(i/250), byte(1+i%250))}
		}
		tr := &http.Transport{
			DialContext:         nd.DialContext,
			MaxIdleConnsPerHost: 1 << 16,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
			WriteBufferSize:     4096,
			ReadBufferSize:      4096,
		}
		d.clients = append(d.clients, &http.Client{Transport: tr})
	}
	return d, nil
}

// url returns the Engine.IO URL, with the session id when sid is set.
func (d *dialer) url(scheme, sid string) string {
	u := *d.base
	if scheme != "" {
		u.Scheme = scheme
	}
	q := url.Values{"EIO": {"4"}, "transport": {d.transport}}
	if sid != "" {
		q.Set("sid", sid)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// dial opens connection number i, joins the main namespace, and starts its
// reader goroutine, which calls h for every packet until the connection
// ends; done is called when the reader goroutine returns.
func (d *dialer) dial(ctx context.Context, i int, h handler, done func()) (conn, error) {
	hc := d.clients[i%len(d.clients)]
	if d.transport == "polling" {
		return dialPolling(ctx, d, hc, h, done)
	}
	return dialWS(ctx, d, hc, h, done)
}

// wsConn is a session over WebSocket only (no polling first).
type wsConn struct {
	ws  *websocket.Conn
	buf bytes.Buffer // reader goroutine only
}

func dialWS(ctx context.Context, d *dialer, hc *http.Client, h handler, done func()) (*wsConn, error) {
	scheme := "ws"
	if d.base.Scheme == "https" {
		scheme = "wss"
	}
	ws, _, err := websocket.Dial(ctx, d.url(scheme, ""), &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(16 << 20)
	c := &wsConn{ws: ws}
	fail := func(err error) (*wsConn, error) {
		ws.CloseNow()
		return nil, err
	}
	p, err := c.read(ctx)
	if err != nil {
		return fail(err)
	}
	if p.Type != eio.Open {
		return fail(fmt.Errorf("first packet is %v, not open", p.Type))
	}
	if err := c.Send(ctx, []byte("40")); err != nil {
		return fail(err)
	}
	for {
		p, err := c.read(ctx)
		if err != nil {
			return fail(err)
		}
		if err := c.handleCtrl(ctx, p); err != nil {
			return fail(err)
		}
		if p.Type != eio.Message {
			continue
		}
		if len(p.Data) >= 1 && p.Data[0] == '0'+byte(parser.Connect) {
			break
		}
		return fail(fmt.Errorf("namespace connection refused: %q", p.Data))
	}
	go func() {
		defer done()
		for {
			p, err := c.read(context.Background())
			if err != nil {
				return
			}
			if p.Type == eio.Ping {
				_ = c.Send(context.Background(), []byte("3"))
				continue
			}
			h(p)
		}
	}()
	return c, nil
}

// read returns the next packet, valid until the next read.
func (c *wsConn) read(ctx context.Context) (eio.Packet, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return eio.Packet{}, err
	}
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(r); err != nil {
		return eio.Packet{}, err
	}
	return eio.DecodeFrame(c.buf.Bytes(), typ == websocket.MessageBinary)
}

// handleCtrl answers a ping met during the handshake and fails on close.
func (c *wsConn) handleCtrl(ctx context.Context, p eio.Packet) error {
	switch p.Type {
	case eio.Ping:
		return c.Send(ctx, []byte("3"))
	case eio.Close:
		return errors.New("closed by the server")
	}
	return nil
}

// Send implements conn.
func (c *wsConn) Send(ctx context.Context, pkt []byte) error {
	return c.ws.Write(ctx, websocket.MessageText, pkt)
}

// Close implements conn.
func (c *wsConn) Close() { _ = c.ws.CloseNow() }

// pollConn is a session over HTTP long-polling (no upgrade). A poller
// goroutine keeps one GET pending; a writer goroutine sends what is queued
// in one POST at a time, as the protocol requires.
type pollConn struct {
	d   *dialer
	hc  *http.Client
	sid string

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	out     [][]byte
	wake    chan struct{} // capacity 1
	pending []eio.Packet  // poller only
}

func dialPolling(ctx context.Context, d *dialer, hc *http.Client, h handler, done func()) (*pollConn, error) {
	cctx, cancel := context.WithCancel(context.Background())
	c := &pollConn{d: d, hc: hc, ctx: cctx, cancel: cancel, wake: make(chan struct{}, 1)}
	fail := func(err error) (*pollConn, error) {
		cancel()
		return nil, err
	}
	pkts, err := c.get(ctx, "")
	if err != nil {
		return fail(err)
	}
	if len(pkts) == 0 || pkts[0].Type != eio.Open {
		return fail(errors.New("no open packet"))
	}
	hs, err := eio.ParseHandshake(pkts[0].Data)
	if err != nil {
		return fail(err)
	}
	c.sid = hs.SID
	if err := c.post(ctx, []byte("40")); err != nil {
		return fail(err)
	}
	joined := false
	for !joined {
		pkts, err := c.get(ctx, c.sid)
		if err != nil {
			return fail(err)
		}
		for _, p := range pkts {
			switch {
			case p.Type == eio.Ping:
				if err := c.post(ctx, []byte("3")); err != nil {
					return fail(err)
				}
			case p.Type == eio.Close:
				return fail(errors.New("closed by the server"))
			case p.Type == eio.Message && len(p.Data) > 0 && p.Data[0] == '0'+byte(parser.Connect):
				joined = true
			case p.Type == eio.Message:
				return fail(fmt.Errorf("namespace connection refused: %q", p.Data))
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.writeLoop() }()
	go func() {
		defer wg.Done()
		defer cancel()
		for {
			pkts, err := c.get(cctx, c.sid)
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.Type {
				case eio.Ping:
					_ = c.Send(cctx, []byte("3"))
				case eio.Close:
					return
				default:
					h(p)
				}
			}
		}
	}()
	go func() { wg.Wait(); done() }()
	return c, nil
}

// get sends one GET and returns its packets, valid until the next get.
func (c *pollConn) get(ctx context.Context, sid string) ([]eio.Packet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.d.url("", sid), nil)
	if err != nil {
		return nil, err
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s: %s", res.Status, body)
	}
	c.pending, err = eio.DecodePayload(c.pending[:0], body, eio.Limits{})
	return c.pending, err
}

// post sends one POST with payload.
func (c *pollConn) post(ctx context.Context, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.d.url("", c.sid), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: %s", res.Status)
	}
	return nil
}

// writeLoop posts the queued packets, batched, until the session ends.
func (c *pollConn) writeLoop() {
	var payload []byte
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		}
		c.mu.Lock()
		out := c.out
		c.out = nil
		c.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		payload = payload[:0]
		for i, p := range out {
			if i > 0 {
				payload = append(payload, eio.RecordSeparator)
			}
			payload = append(payload, p...)
		}
		if err := c.post(c.ctx, payload); err != nil {
			c.cancel()
			return
		}
	}
}

// Send implements conn: pkt is copied and queued for the writer.
func (c *pollConn) Send(ctx context.Context, pkt []byte) error {
	if c.ctx.Err() != nil {
		return net.ErrClosed
	}
	c.mu.Lock()
	c.out = append(c.out, bytes.Clone(pkt))
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// Close implements conn.
func (c *pollConn) Close() {
	c.cancel()
}
