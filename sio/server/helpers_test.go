//go:build !js

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/parser"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor bounds every wait of the tests: nothing legitimately takes this
// long, so reaching it is a failure, never a synchronisation.
const waitFor = 5 * time.Second

// testServer is a Server behind an httptest server, closed at the end of
// the test.
type testServer struct {
	*Server
	hs *httptest.Server
}

func newTestServer(t *testing.T, opts *Options) *testServer {
	t.Helper()
	srv := New(opts)
	hs := httptest.NewServer(srv)
	ts := &testServer{Server: srv, hs: hs}
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return ts
}

// endpoint returns the Engine.IO URL for transport, with extra query parameters.
func (ts *testServer) endpoint(transport string, q url.Values) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("EIO", "4")
	v.Set("transport", transport)
	path := ts.opts.Path
	return ts.hs.URL + path + "?" + v.Encode()
}

// frame is one Engine.IO packet received by a test client.
type frame = eio.Packet

// tclient speaks the wire: raw Engine.IO over HTTP long-polling or
// WebSocket, Socket.IO packets built and parsed with sio/parser. Pings are
// answered automatically and not reported.
type tclient struct {
	t         *testing.T
	ts        *testServer
	transport string
	sid       string
	hs        eio.Handshake

	ws    *websocket.Conn // websocket transport
	httpc *http.Client    // its own connections, closed with the client

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   []frame
	wake    chan struct{} // capacity 1
	done    chan struct{} // closed when the reader ends
	noPong  bool
	closeMu sync.Mutex
	manual  bool // manualPoll: done is closed by close

	dec    parser.Decoder // test goroutine only
	syncID int            // test goroutine only
}

// dialOptions are the optional settings of dial.
type dialOptions struct {
	query  url.Values
	header http.Header
	// manualPoll (polling only): no GET is sent but by poll.
	manualPoll bool
}

// dial opens an Engine.IO session ("polling" or "websocket") and starts
// reading it. The client is closed at the end of the test.
func dial(t *testing.T, ts *testServer, transport string, o *dialOptions) *tclient {
	t.Helper()
	if o == nil {
		o = &dialOptions{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &tclient{
		t:         t,
		ts:        ts,
		transport: transport,
		ctx:       ctx,
		cancel:    cancel,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		httpc:     &http.Client{Transport: &http.Transport{}},
	}
	u := ts.endpoint(transport, o.query)
	var open []byte
	switch transport {
	case "websocket":
		dctx, dcancel := context.WithTimeout(ctx, waitFor)
		ws, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: o.header, HTTPClient: c.httpc})
		dcancel()
		if err != nil {
			cancel()
			t.Fatalf("dial websocket: %v", err)
		}
		ws.SetReadLimit(1 << 24)
		c.ws = ws
		rctx, rcancel := context.WithTimeout(ctx, waitFor)
		_, data, err := ws.Read(rctx)
		rcancel()
		if err != nil {
			cancel()
			_ = ws.CloseNow()
			t.Fatalf("read open packet: %v", err)
		}
		open = data
	case "polling":
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		for k, vs := range o.header {
			req.Header[k] = vs
		}
		resp, err := c.httpc.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("polling handshake: %v", err)
		}
		open, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			cancel()
			t.Fatalf("polling handshake: %s: %s", resp.Status, open)
		}
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	if len(open) == 0 || open[0] != '0' {
		cancel()
		t.Fatalf("expected an open packet, got %q", open)
	}
	hs, err := eio.ParseHandshake(open[1:])
	if err != nil {
		cancel()
		t.Fatalf("handshake: %v", err)
	}
	c.hs, c.sid = hs, hs.SID
	if o.manualPoll {
		c.manual = true
	} else {
		go c.read()
	}
	t.Cleanup(c.close)
	return c
}

// poll sends one long-polling GET and queues what it returns.
func (c *tclient) poll() {
	c.t.Helper()
	if err := c.pollOnce(); err != nil {
		c.t.Fatalf("poll: %v", err)
	}
}

func (c *tclient) pollOnce() error {
	u := c.ts.endpoint("polling", url.Values{"sid": {c.sid}})
	req, _ := http.NewRequestWithContext(c.ctx, http.MethodGet, u, nil)
	resp, err := c.httpc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET: %s: %s", resp.Status, body)
	}
	pkts, err := eio.DecodePayload(nil, body, eio.Limits{})
	if err != nil {
		return err
	}
	for _, p := range pkts {
		c.push(p)
	}
	return nil
}

// push queues a received frame, answering pings.
func (c *tclient) push(p frame) {
	if !p.Binary && p.Type == eio.Ping {
		c.mu.Lock()
		noPong := c.noPong
		c.mu.Unlock()
		if !noPong {
			_ = c.writeFrames(frame{Type: eio.Pong, Data: p.Data})
		}
		return
	}
	p.Data = bytes.Clone(p.Data)
	c.mu.Lock()
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// read is the reader goroutine; it ends when the session or the client closes.
func (c *tclient) read() {
	defer close(c.done)
	if c.ws != nil {
		for {
			typ, data, err := c.ws.Read(c.ctx)
			if err != nil {
				return
			}
			p, err := eio.DecodeFrame(data, typ == websocket.MessageBinary)
			if err != nil {
				return
			}
			c.push(p)
		}
	}
	u := c.ts.endpoint("polling", url.Values{"sid": {c.sid}})
	for {
		req, _ := http.NewRequestWithContext(c.ctx, http.MethodGet, u, nil)
		resp, err := c.httpc.Do(req)
		if err != nil {
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return
		}
		pkts, err := eio.DecodePayload(nil, body, eio.Limits{})
		if err != nil {
			return
		}
		closed := false
		for _, p := range pkts {
			if !p.Binary && p.Type == eio.Close {
				closed = true
			}
			c.push(p)
		}
		if closed {
			return
		}
	}
}

// writeFrames sends Engine.IO packets.
func (c *tclient) writeFrames(pkts ...frame) error {
	if c.ws != nil {
		for _, p := range pkts {
			typ := websocket.MessageText
			if p.Binary {
				typ = websocket.MessageBinary
			}
			ctx, cancel := context.WithTimeout(c.ctx, waitFor)
			err := c.ws.Write(ctx, typ, eio.AppendFrame(nil, p))
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	}
	u := c.ts.endpoint("polling", url.Values{"sid": {c.sid}})
	req, _ := http.NewRequestWithContext(c.ctx, http.MethodPost, u, bytes.NewReader(eio.AppendPayload(nil, pkts...)))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: %s: %s", resp.Status, body)
	}
	return nil
}

// sendRaw sends text Engine.IO frames, such as "40" or `42["hello"]`.
func (c *tclient) sendRaw(frames ...string) {
	c.t.Helper()
	pkts := make([]frame, len(frames))
	for i, f := range frames {
		p, err := eio.DecodeFrame([]byte(f), false)
		if err != nil {
			c.t.Fatalf("bad frame %q: %v", f, err)
		}
		pkts[i] = p
	}
	if err := c.writeFrames(pkts...); err != nil {
		c.t.Fatalf("send %q: %v", frames, err)
	}
}

// send sends a Socket.IO packet and its attachments.
func (c *tclient) send(p *parser.Packet) {
	c.t.Helper()
	pkts := []frame{{Type: eio.Message, Data: parser.AppendPacket(nil, p)}}
	for _, a := range p.Attachments {
		pkts = append(pkts, frame{Type: eio.Message, Data: a, Binary: true})
	}
	if err := c.writeFrames(pkts...); err != nil {
		c.t.Fatalf("send %s: %v", p.Type, err)
	}
}

// emit sends an event to nsp; with ackID >= 0 the event asks for an ack.
func (c *tclient) emit(nsp string, ackID int, event string, args ...any) {
	c.t.Helper()
	data, atts, err := parser.AppendEvent(nil, event, args)
	if err != nil {
		c.t.Fatal(err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = parser.BinaryEvent
	}
	if ackID >= 0 {
		p.ID, p.HasID = uint64(ackID), true
	}
	c.send(p)
}

// ack sends an acknowledgement.
func (c *tclient) ack(nsp string, id uint64, args ...any) {
	c.t.Helper()
	data, atts, err := parser.AppendArgs(nil, args)
	if err != nil {
		c.t.Fatal(err)
	}
	p := &parser.Packet{Type: parser.Ack, Namespace: nsp, ID: id, HasID: true, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = parser.BinaryAck
	}
	c.send(p)
}

// tryFrame returns the next received frame, or ok=false when the session
// ended (nothing more can come) or d elapsed.
func (c *tclient) tryFrame(d time.Duration) (f frame, ok bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			f = c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return f, true
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-c.done:
			c.mu.Lock()
			n := len(c.queue)
			c.mu.Unlock()
			if n == 0 {
				return frame{}, false
			}
		case <-timer.C:
			return frame{}, false
		}
	}
}

// nextFrame returns the next frame, failing the test when none comes.
func (c *tclient) nextFrame() frame {
	c.t.Helper()
	f, ok := c.tryFrame(waitFor)
	if !ok {
		c.t.Fatalf("%s client: no frame received", c.transport)
	}
	return f
}

// nextText returns the next frame as text ("4" then the Socket.IO packet
// for a message), failing on a binary frame.
func (c *tclient) nextText() string {
	c.t.Helper()
	f := c.nextFrame()
	if f.Binary {
		c.t.Fatalf("expected a text frame, got binary %x", f.Data)
	}
	return string(eio.AppendFrame(nil, f))
}

// nextPacket returns the next complete Socket.IO packet.
func (c *tclient) nextPacket() *parser.Packet {
	c.t.Helper()
	for {
		f := c.nextFrame()
		if !f.Binary && f.Type != eio.Message {
			c.t.Fatalf("expected a message, got Engine.IO %s %q", f.Type, f.Data)
		}
		var (
			p   *parser.Packet
			err error
		)
		if f.Binary {
			p, err = c.dec.Binary(f.Data)
		} else {
			p, err = c.dec.Text(f.Data)
		}
		if err != nil {
			c.t.Fatalf("decode %q: %v", f.Data, err)
		}
		if p != nil {
			return p
		}
	}
}

// expectEvent reads the next packet, which must be the event name of nsp.
func (c *tclient) expectEvent(nsp, name string) (*parser.Packet, sio.Args) {
	c.t.Helper()
	p := c.nextPacket()
	if p.Type != parser.Event && p.Type != parser.BinaryEvent {
		c.t.Fatalf("expected event %q on %s, got %s %s %s", name, nsp, p.Type, p.Namespace, p.Data)
	}
	n, args, err := p.Event()
	if err != nil {
		c.t.Fatal(err)
	}
	if p.Namespace != nsp || n != name {
		c.t.Fatalf("expected event %q on %s, got %q on %s: %s", name, nsp, n, p.Namespace, p.Data)
	}
	return p, args
}

// expectAck reads the next packet, which must be the ack id of nsp.
func (c *tclient) expectAck(nsp string, id uint64) sio.Args {
	c.t.Helper()
	p := c.nextPacket()
	if (p.Type != parser.Ack && p.Type != parser.BinaryAck) || p.ID != id || p.Namespace != nsp {
		c.t.Fatalf("expected ack %d on %s, got %s %s id=%d %s", id, nsp, p.Type, p.Namespace, p.ID, p.Data)
	}
	args, err := p.Args()
	if err != nil {
		c.t.Fatal(err)
	}
	return args
}

// connect joins nsp with the auth payload (raw JSON, "" for none) and
// returns the socket id the server sent.
func (c *tclient) connect(nsp, auth string) string {
	c.t.Helper()
	c.sendConnect(nsp, auth)
	return c.expectConnect(nsp)
}

// sendConnect sends a CONNECT packet.
func (c *tclient) sendConnect(nsp, auth string) {
	c.t.Helper()
	c.send(&parser.Packet{Type: parser.Connect, Namespace: nsp, Data: []byte(auth)})
}

// expectConnect reads a CONNECT packet of nsp and returns the sid in it.
func (c *tclient) expectConnect(nsp string) string {
	c.t.Helper()
	sid, _ := c.expectConnectData(nsp)
	return sid
}

// connectData is the payload of a CONNECT packet sent by the server.
type connectData struct {
	SID string `json:"sid"`
	PID string `json:"pid"`
}

func (c *tclient) expectConnectData(nsp string) (string, connectData) {
	c.t.Helper()
	p := c.nextPacket()
	if p.Type != parser.Connect || p.Namespace != nsp {
		c.t.Fatalf("expected CONNECT on %s, got %s %s %s", nsp, p.Type, p.Namespace, p.Data)
	}
	var d connectData
	if err := json.Unmarshal(p.Data, &d); err != nil || d.SID == "" {
		c.t.Fatalf("bad CONNECT payload %s: %v", p.Data, err)
	}
	return d.SID, d
}

// expectClosed waits until the server ends the session, skipping what
// arrives meanwhile, and returns the frames it skipped.
func (c *tclient) expectClosed() []frame {
	c.t.Helper()
	var skipped []frame
	deadline := time.Now().Add(waitFor)
	for {
		f, ok := c.tryFrame(time.Until(deadline))
		if !ok {
			select {
			case <-c.done:
				return skipped
			default:
				c.t.Fatalf("%s client: session still open; got %d frames", c.transport, len(skipped))
			}
		}
		if !f.Binary && f.Type == eio.Close && c.ws == nil {
			// Polling: the close packet ends the session.
			<-c.done
			return append(skipped, f)
		}
		skipped = append(skipped, f)
	}
}

// cut drops the transport without any close handshake: the WebSocket's TCP
// connection is closed, or, for polling, the client stops polling.
func (c *tclient) cut() {
	if c.ws != nil {
		_ = c.ws.CloseNow()
	}
	c.cancel()
	<-c.done
}

// setNoPong stops answering pings.
func (c *tclient) setNoPong() {
	c.mu.Lock()
	c.noPong = true
	c.mu.Unlock()
}

// close ends the session from the client side and waits for the reader.
func (c *tclient) close() {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	defer c.httpc.CloseIdleConnections()
	if c.manual {
		select {
		case <-c.done:
		default:
			_ = c.writeFrames(frame{Type: eio.Close})
			c.cancel()
			close(c.done)
		}
		return
	}
	select {
	case <-c.done:
		c.cancel()
		if c.ws != nil {
			_ = c.ws.CloseNow()
		}
		return
	default:
	}
	if c.ws != nil {
		_ = c.ws.CloseNow()
	} else {
		_ = c.writeFrames(frame{Type: eio.Close})
	}
	c.cancel()
	<-c.done
}

// sync makes a round trip on nsp with the "sync" event every test server
// handles by acknowledging: every packet the server wrote to this client
// before it handled the event arrives before the ack. It returns the
// packets received before the ack.
func (c *tclient) sync(nsp string) []*parser.Packet {
	c.t.Helper()
	c.syncID++
	id := c.syncID + 1_000_000
	c.emit(nsp, id, "sync")
	var before []*parser.Packet
	for {
		p := c.nextPacket()
		if (p.Type == parser.Ack || p.Type == parser.BinaryAck) && p.ID == uint64(id) && p.Namespace == nsp {
			return before
		}
		before = append(before, p)
	}
}

// syncNone is sync asserting nothing arrived before the ack.
func (c *tclient) syncNone(nsp string) {
	c.t.Helper()
	if got := c.sync(nsp); len(got) > 0 {
		c.t.Fatalf("unexpected packets: %s", describe(got))
	}
}

func describe(ps []*parser.Packet) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "[%s %s %s] ", p.Type, p.Namespace, p.Data)
	}
	return b.String()
}

// withSync adds the "sync" handler the test clients' sync needs.
func withSync(s *Socket) {
	s.On("sync", func(e *sio.Event) { _ = e.Ack() })
}

var errTest = errors.New("test error")
