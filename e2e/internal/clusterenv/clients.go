package clusterenv

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/nodeenv"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/transport/native"
)

// Client kinds.
const (
	// JS is the official socket.io-client, in cluster-clients.js.
	JS = "js"
	// GoClient is this module's client, in the test process.
	GoClient = "go"
)

// ClientOptions configures a test client.
type ClientOptions struct {
	// Name labels the client in logs and failure messages.
	Name string
	// Transports: nil means polling then an upgrade to WebSocket;
	// {"polling"} or {"websocket"} keep to one.
	Transports []string
	// Silent clients do not answer events that ask for an acknowledgement;
	// the others answer with their socket id, as the contract says.
	Silent bool
	// LocalAddr is the source IP of the client's connections ("" for any),
	// for a proxy that hashes client addresses.
	LocalAddr string
	// Reconnect turns the client's automatic reconnection on (first try
	// after 100 ms, then up to 500 ms apart), for connection state
	// recovery tests; SID follows the socket's id after a reconnection.
	Reconnect bool
}

// Event is an event a client received.
type Event struct {
	// Name is the event's name.
	Name string
	// Args is the canonical JSON (Canon) of the array of its arguments,
	// binary values as {"$bin": "<hex>"}.
	Args string
	// Ack tells whether the sender asked for an acknowledgement.
	Ack bool
}

// Client is a connected test client of either kind. Every event it
// receives is logged; the test waits on the log.
type Client struct {
	// Name and Kind (JS or GoClient) of the client.
	Name, Kind string

	impl backend

	mu          sync.Mutex
	sid         string
	events      []Event
	disconnects []sio.Reason
	changed     chan struct{} // closed and replaced at every change of the log
}

// backend is what differs between the two kinds of clients.
type backend interface {
	call(ctx context.Context, event string, args []any) ([]json.RawMessage, error)
	emit(event string, args []any) error
	transport(ctx context.Context) (string, error)
	close()
}

func newClient(name, kind string) *Client {
	return &Client{Name: name, Kind: kind, changed: make(chan struct{})}
}

func (c *Client) String() string { return c.Name }

// SID returns the client's socket id.
func (c *Client) SID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sid
}

func (c *Client) setSID(sid string) {
	c.mu.Lock()
	c.sid = sid
	c.mu.Unlock()
}

func (c *Client) record(e Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *Client) recordDisconnect(reason sio.Reason) {
	c.mu.Lock()
	c.disconnects = append(c.disconnects, reason)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// Events returns the events received so far, oldest first.
func (c *Client) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events)
}

// Disconnects returns the reasons of the disconnections seen so far.
func (c *Client) Disconnects() []sio.Reason {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.disconnects)
}

// WaitFor waits until cond, given the events and disconnections so far,
// holds, or ctx ends.
func (c *Client) WaitFor(ctx context.Context, cond func(events []Event, disconnects []sio.Reason) bool) error {
	for {
		c.mu.Lock()
		ok := cond(c.events, c.disconnects)
		ch := c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("client %s: %w", c.Name, ctx.Err())
		}
	}
}

// WaitEvent waits for an event named name whose Args are args (canonical
// JSON, "" for any arguments) and returns it.
func (c *Client) WaitEvent(ctx context.Context, name, args string) (Event, error) {
	return c.WaitEventSince(ctx, 0, name, args)
}

// WaitEventSince is WaitEvent among the events after the first since ones
// (since: the length of Events before what is awaited was caused).
func (c *Client) WaitEventSince(ctx context.Context, since int, name, args string) (Event, error) {
	var found Event
	err := c.WaitFor(ctx, func(events []Event, _ []sio.Reason) bool {
		for _, e := range events[min(since, len(events)):] {
			if e.Name == name && (args == "" || e.Args == args) {
				found = e
				return true
			}
		}
		return false
	})
	if err != nil {
		return Event{}, fmt.Errorf("no event %s %s: %w", name, args, err)
	}
	return found, nil
}

// Call emits event with args and an acknowledgement, and returns the
// acknowledgement's arguments as canonical JSON.
func (c *Client) Call(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	r, err := c.impl.call(ctx, event, args)
	if err != nil {
		return nil, fmt.Errorf("client %s: %s: %w", c.Name, event, err)
	}
	return r, nil
}

// Emit emits event with args, without acknowledgement.
func (c *Client) Emit(event string, args ...any) error { return c.impl.emit(event, args) }

// Transport returns the name of the client's current transport.
func (c *Client) Transport(ctx context.Context) (string, error) { return c.impl.transport(ctx) }

// Close disconnects the client.
func (c *Client) Close() { c.impl.close() }

// Canon returns the canonical JSON text of v: []byte values become
// {"$bin": "<hex>"} (as cluster-clients.js writes binary), object keys are
// sorted, numbers are written as float64. Events compare by it.
func Canon(v any) string {
	b, err := json.Marshal(wire(v))
	if err != nil {
		panic(fmt.Sprintf("clusterenv: Canon(%#v): %v", v, err))
	}
	return canonRaw(b)
}

// canonRaw re-encodes JSON text canonically.
func canonRaw(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// wire replaces []byte values, at any depth of []any and map[string]any,
// by {"$bin": "<hex>"}.
func wire(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bin": hex.EncodeToString(x)}
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = wire(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = wire(e)
		}
		return out
	}
	return v
}

// canonArgs returns the canonical JSON of received arguments.
func canonArgs(a sio.Args) (string, error) {
	vals, err := a.Values()
	if err != nil {
		return "", err
	}
	return Canon(vals), nil
}

// ---- Go client ----

type goBackend struct {
	s  *client.Socket
	hc *http.Client
}

// ConnectGo connects a Go client to url and waits until it is connected.
// It is closed when the test ends.
func ConnectGo(ctx context.Context, t testing.TB, url string, o ClientOptions) (*Client, error) {
	hc := &http.Client{}
	if o.LocalAddr != "" {
		ip := net.ParseIP(o.LocalAddr)
		if ip == nil {
			return nil, fmt.Errorf("bad LocalAddr %q", o.LocalAddr)
		}
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
		hc.Transport = &http.Transport{DialContext: d.DialContext}
	}
	s, err := client.New(url, &client.Options{
		Transport:            native.New(&native.Options{HTTPClient: hc}),
		Transports:           o.Transports,
		DisableReconnection:  !o.Reconnect,
		ReconnectionDelay:    100 * time.Millisecond,
		ReconnectionDelayMax: 500 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	c := newClient(o.Name, GoClient)
	c.impl = &goBackend{s: s, hc: hc}
	s.OnAny(func(e *sio.Event) {
		args, err := canonArgs(e.Args)
		if err != nil {
			args = fmt.Sprintf("undecodable: %v", err)
		}
		if e.WantsAck() && !o.Silent {
			_ = e.Ack(s.ID())
		}
		c.record(Event{Name: e.Name, Args: args, Ack: e.WantsAck()})
	})
	s.OnDisconnect(c.recordDisconnect)
	s.OnConnect(func() { c.setSID(s.ID()) })
	t.Cleanup(c.Close)
	if err := s.Connect(ctx); err != nil {
		return nil, fmt.Errorf("go client %s: connecting to %s: %w", o.Name, url, err)
	}
	c.setSID(s.ID())
	return c, nil
}

func (b *goBackend) call(ctx context.Context, event string, args []any) ([]json.RawMessage, error) {
	reply, err := b.s.EmitWithAck(ctx, event, args...)
	if err != nil {
		return nil, err
	}
	vals, err := reply.Values()
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(vals))
	for i, v := range vals {
		out[i] = json.RawMessage(Canon(v))
	}
	return out, nil
}

func (b *goBackend) emit(event string, args []any) error { return b.s.Emit(event, args...) }

func (b *goBackend) transport(context.Context) (string, error) {
	return b.s.Manager().TransportName(), nil
}

func (b *goBackend) close() {
	b.s.Disconnect()
	b.hc.CloseIdleConnections()
}

// ---- JS clients ----

// Puppets is a cluster-clients.js process holding official JS clients.
type Puppets struct {
	t      testing.TB
	cmd    *exec.Cmd
	exited chan struct{}
	done   chan struct{} // closed when the reader has stopped

	wmu   sync.Mutex
	stdin io.WriteCloser

	mu       sync.Mutex
	n        int
	seq      int
	clients  map[string]*Client
	connects map[string]chan error
	replies  map[int]chan jsMsg
	once     sync.Once
}

// jsMsg is a line of cluster-clients.js.
type jsMsg struct {
	Type      string            `json:"type"`
	ID        string            `json:"id"`
	Seq       int               `json:"seq"`
	SID       string            `json:"sid"`
	Event     string            `json:"event"`
	Args      []json.RawMessage `json:"args"`
	Ack       bool              `json:"ack"`
	Reason    sio.Reason        `json:"reason"`
	Error     *string           `json:"error"`
	Transport string            `json:"transport"`
}

// StartPuppets starts cluster-clients.js; it is stopped, with its
// clients, when the test ends.
func StartPuppets(t testing.TB) *Puppets {
	t.Helper()
	nodeenv.Require(t)
	cmd := exec.Command("node", "cluster-clients.js")
	cmd.Dir = nodeenv.Dir()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lineWriter{fn: func(line string) { t.Log("cluster-clients.js: " + line) }}
	if err := cmd.Start(); err != nil {
		t.Fatalf("clusterenv: starting cluster-clients.js: %v", err)
	}
	p := &Puppets{
		t: t, cmd: cmd, stdin: stdin,
		exited: make(chan struct{}), done: make(chan struct{}),
		clients:  map[string]*Client{},
		connects: map[string]chan error{},
		replies:  map[int]chan jsMsg{},
	}
	ready := make(chan struct{})
	go p.read(stdout, ready)
	go func() {
		<-p.done // Wait closes stdout: read it all first
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.Stop)
	select {
	case <-ready:
	case <-p.done:
		t.Fatal("clusterenv: cluster-clients.js exited before it was ready")
	case <-time.After(listenDeadline):
		p.Stop()
		t.Fatalf("clusterenv: cluster-clients.js not ready within %v", listenDeadline)
	}
	return p
}

// Stop closes every client and ends the process.
func (p *Puppets) Stop() {
	p.once.Do(func() {
		p.wmu.Lock()
		_ = p.stdin.Close() // the script disconnects its clients and exits
		p.wmu.Unlock()
		timer := time.NewTimer(stopGrace)
		defer timer.Stop()
		select {
		case <-p.exited:
		case <-timer.C:
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.exited
		}
	})
}

func (p *Puppets) read(r io.Reader, ready chan struct{}) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var m jsMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			p.t.Logf("cluster-clients.js stdout: %s", sc.Text())
			continue
		}
		p.mu.Lock()
		c := p.clients[m.ID]
		connect := p.connects[m.ID]
		reply := p.replies[m.Seq]
		if m.Type == "reply" {
			delete(p.replies, m.Seq)
		}
		if m.Type == "connect" || m.Type == "connect_error" {
			delete(p.connects, m.ID)
		}
		p.mu.Unlock()
		switch m.Type {
		case "ready":
			close(ready)
		case "connect":
			if c != nil {
				c.setSID(m.SID)
			}
			if connect != nil {
				connect <- nil
			}
		case "connect_error":
			if connect != nil {
				connect <- fmt.Errorf("connect_error: %s", deref(m.Error))
			}
		case "event":
			if c != nil {
				args, _ := json.Marshal(m.Args)
				if m.Args == nil {
					args = []byte("[]")
				}
				c.record(Event{Name: m.Event, Args: canonRaw(args), Ack: m.Ack})
			}
		case "disconnect":
			if c != nil {
				c.recordDisconnect(m.Reason)
			}
		case "reply":
			if reply != nil {
				reply <- m
			}
		case "upgrade":
		default:
			p.t.Logf("cluster-clients.js: %s", sc.Text())
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (p *Puppets) send(cmd map[string]any) error {
	b, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_, err = p.stdin.Write(append(b, '\n'))
	return err
}

// Connect opens an official JS client on url and waits until it is connected.
func (p *Puppets) Connect(ctx context.Context, url string, o ClientOptions) (*Client, error) {
	p.mu.Lock()
	p.n++
	id := fmt.Sprintf("j%d", p.n)
	c := newClient(o.Name, JS)
	c.impl = &jsBackend{p: p, id: id}
	p.clients[id] = c
	connected := make(chan error, 1)
	p.connects[id] = connected
	p.mu.Unlock()

	cmd := map[string]any{"op": "connect", "id": id, "url": url, "silent": o.Silent}
	if o.Transports != nil {
		cmd["transports"] = o.Transports
	}
	if o.LocalAddr != "" {
		cmd["localAddress"] = o.LocalAddr
	}
	if o.Reconnect {
		cmd["reconnect"] = true
	}
	if err := p.send(cmd); err != nil {
		return nil, err
	}
	select {
	case err := <-connected:
		if err != nil {
			return nil, fmt.Errorf("js client %s: connecting to %s: %w", o.Name, url, err)
		}
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("js client %s: connecting to %s: %w", o.Name, url, ctx.Err())
	case <-p.done:
		return nil, errors.New("cluster-clients.js exited")
	}
}

type jsBackend struct {
	p  *Puppets
	id string
}

func (b *jsBackend) request(ctx context.Context, cmd map[string]any) (jsMsg, error) {
	p := b.p
	p.mu.Lock()
	p.seq++
	seq := p.seq
	ch := make(chan jsMsg, 1)
	p.replies[seq] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.replies, seq)
		p.mu.Unlock()
	}()
	cmd["id"], cmd["seq"] = b.id, seq
	if err := p.send(cmd); err != nil {
		return jsMsg{}, err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return m, errors.New(*m.Error)
		}
		return m, nil
	case <-ctx.Done():
		return jsMsg{}, ctx.Err()
	case <-p.done:
		return jsMsg{}, errors.New("cluster-clients.js exited")
	}
}

func (b *jsBackend) call(ctx context.Context, event string, args []any) ([]json.RawMessage, error) {
	timeout := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if args == nil {
		args = []any{}
	}
	m, err := b.request(ctx, map[string]any{
		"op": "call", "event": event, "args": wire(args), "timeoutMs": max(1, timeout.Milliseconds()),
	})
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(m.Args))
	for i, a := range m.Args {
		out[i] = json.RawMessage(canonRaw(a))
	}
	return out, nil
}

func (b *jsBackend) emit(event string, args []any) error {
	if args == nil {
		args = []any{}
	}
	return b.p.send(map[string]any{"op": "emit", "id": b.id, "event": event, "args": wire(args)})
}

func (b *jsBackend) transport(ctx context.Context) (string, error) {
	m, err := b.request(ctx, map[string]any{"op": "info"})
	if err != nil {
		return "", err
	}
	var info struct {
		Transport string `json:"transport"`
	}
	if len(m.Args) > 0 {
		_ = json.Unmarshal(m.Args[0], &info)
	}
	return info.Transport, nil
}

func (b *jsBackend) close() {
	_ = b.p.send(map[string]any{"op": "close", "id": b.id})
}
