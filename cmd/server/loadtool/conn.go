package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/internal/wsframe"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/parser"
)

// handler receives every Engine.IO packet of a connection but the pings,
// which the connection answers itself. It runs on the connection's reader
// (its goroutine, or the poller's); data is only valid during the call.
type handler func(p eio.Packet)

// conn is one Engine.IO session joined to the main Socket.IO namespace.
type conn interface {
	// Send sends one Engine.IO text packet (type digit included). It is
	// safe for concurrent use.
	Send(ctx context.Context, pkt []byte) error
	// Close closes the session; its reader stops soon after.
	Close()
}

// dialer opens connections, spreading them over several loopback source
// addresses so that N connections do not exhaust the ephemeral ports of
// a single address pair.
type dialer struct {
	base      *url.URL // http://host:port/socket.io/
	transport string
	clients   []*http.Client // one per source address (polling)
	// netDialers are the same per source address (WebSocket).
	netDialers []*net.Dialer
	// pollers read the joined WebSocket sessions (Linux), unless noPoller:
	// then each has a reader goroutine. The dialers of one run (one per
	// node of a cluster) share them.
	pollers  *pollers
	noPoller bool
	// msgpack speaks socket.io-msgpack-parser's format (see wire.go).
	msgpack bool
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
	d := &dialer{base: u, transport: transport, pollers: &pollers{}}
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
		d.netDialers = append(d.netDialers, nd)
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
// reader (a goroutine, or the poller: see takeOver), which calls h for
// every packet until the connection ends; done is called when the reader
// is done with it.
func (d *dialer) dial(ctx context.Context, i int, h handler, done func()) (conn, error) {
	if d.msgpack {
		next := h
		h = func(p eio.Packet) { next(fromMsgpack(p)) }
	}
	hc := d.clients[i%len(d.clients)]
	if d.transport == "polling" {
		return dialPolling(ctx, d, hc, h, done)
	}
	return dialWS(ctx, d, i, h, done)
}

// wsConn is a session over WebSocket only (no polling first). It speaks
// the protocol itself, leanly (a buffered reader, one write per message),
// so that the load tool spends little CPU per message and what it measures
// is the server.
type wsConn struct {
	nc  net.Conn
	br  *bufio.Reader
	msg []byte // the message being read; reader goroutine only

	wmu     sync.Mutex
	wbuf    []byte
	key     uint32 // masking key, changed for every frame
	msgpack bool   // see dialer.msgpack
}

func dialWS(ctx context.Context, d *dialer, i int, h handler, done func()) (conn, error) {
	c, err := d.handshakeWS(ctx, i)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (conn, error) {
		_ = c.nc.Close()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetDeadline(dl)
	}
	p, err := c.read()
	if err != nil {
		return fail(err)
	}
	if p.Type != eio.Open {
		return fail(fmt.Errorf("first packet is %v, not open", p.Type))
	}
	c.msgpack = d.msgpack
	if err := c.Send(ctx, []byte("40")); err != nil {
		return fail(err)
	}
	for {
		p, err := c.read()
		if err != nil {
			return fail(err)
		}
		if d.msgpack {
			p = fromMsgpack(p)
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
	_ = c.nc.SetDeadline(time.Time{})
	if !d.noPoller {
		if r, ok := d.takeOver(c, h, done); ok {
			return r, nil
		}
	}
	go func() {
		defer done()
		for {
			p, err := c.read()
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

// handshakeWS opens the TCP connection and runs the opening handshake.
func (d *dialer) handshakeWS(ctx context.Context, i int) (*wsConn, error) {
	nc, err := d.netDialers[i%len(d.netDialers)].DialContext(ctx, "tcp", d.base.Host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	u := d.url("", "")
	req := "GET " + u[strings.Index(u, d.base.Path):] + " HTTP/1.1\r\nHost: " + d.base.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	c := &wsConn{nc: nc, br: bufio.NewReaderSize(nc, 4096), key: binary.LittleEndian.Uint32(k[:])}
	if _, err := io.WriteString(nc, req); err != nil {
		_ = nc.Close()
		return nil, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Accept") != wsframe.AcceptKey(key) {
		_ = nc.Close()
		return nil, fmt.Errorf("websocket handshake refused: %s", res.Status)
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

// read returns the next packet, valid until the next read. Pings are
// answered; a close frame ends the connection.
func (c *wsConn) read() (eio.Packet, error) {
	c.msg = c.msg[:0]
	var msgOp byte // the first frame's: text or binary
	for {
		var h [wsframe.MaxHeaderLen]byte
		if _, err := io.ReadFull(c.br, h[:2]); err != nil {
			return eio.Packet{}, err
		}
		if h[1]&0x80 != 0 {
			return eio.Packet{}, errors.New("masked server frame")
		}
		hl := wsframe.HeaderLen(h[1])
		if _, err := io.ReadFull(c.br, h[2:hl]); err != nil {
			return eio.Packet{}, err
		}
		hd := wsframe.ParseHeader(h[:hl])
		if hd.Len > 1<<30 {
			return eio.Packet{}, errors.New("frame too large")
		}
		fin, op, n := hd.Fin, hd.Op, int(hd.Len)
		start := len(c.msg)
		c.msg = append(c.msg, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, c.msg[start:]); err != nil {
			return eio.Packet{}, err
		}
		switch op {
		case wsframe.OpClose:
			_ = c.nc.Close()
			return eio.Packet{}, io.EOF
		case wsframe.OpPing:
			_ = c.writeFrame(wsframe.OpPong, c.msg[start:])
			c.msg = c.msg[:start]
			continue
		case wsframe.OpPong:
			c.msg = c.msg[:start]
			continue
		}
		if op != 0 {
			msgOp = op
		}
		if !fin {
			continue
		}
		return eio.DecodeFrame(c.msg, msgOp == wsframe.OpBinary)
	}
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

// Send implements conn: one masked text frame, in one write.
func (c *wsConn) Send(_ context.Context, pkt []byte) error {
	if c.msgpack {
		if msg, ok := toMsgpack(pkt); ok {
			return c.writeFrame(wsframe.OpBinary, msg)
		}
	}
	return c.writeFrame(wsframe.OpText, pkt)
}

func (c *wsConn) writeFrame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendMaskedFrame(c.wbuf[:0], op, p, &c.key)
	_, err := c.nc.Write(c.wbuf)
	return err
}

// appendMaskedFrame appends a final client frame of opcode op with payload
// p to b, masked with the next key of *key.
func appendMaskedFrame(b []byte, op byte, p []byte, key *uint32) []byte {
	*key = *key*1664525 + 1013904223 // a fresh key per frame
	return wsframe.AppendMasked(b, op, p, *key)
}

// Close implements conn.
func (c *wsConn) Close() { _ = c.nc.Close() }

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
	if err := c.post(ctx, c.wire([]byte("40"))); err != nil {
		return fail(err)
	}
	joined := false
	for !joined {
		pkts, err := c.get(ctx, c.sid)
		if err != nil {
			return fail(err)
		}
		for _, p := range pkts {
			if d.msgpack {
				p = fromMsgpack(p)
			}
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
	c.out = append(c.out, bytes.Clone(c.wire(pkt)))
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
