package client

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/internal/errs"
)

// closeTimeout bounds how long a graceful close waits for the packets still
// queued to be flushed.
const closeTimeout = 5 * time.Second

type engineState int

const (
	engineOpening engineState = iota // handshake in progress
	engineOpen                       // handshake done
	engineClosing                    // graceful close: flushing the write buffer
	engineClosed                     // stopped: every goroutine is on its way out
)

// engineHooks are the engine's callbacks to its manager. They are called
// without any engine lock held, from the engine's own goroutines.
type engineHooks struct {
	// open reports the end of the handshake; it returns whether the engine
	// is still wanted.
	open func(e *engine, err error) bool
	// message delivers a Message packet, in order.
	message func(e *engine, p eio.Packet)
	// ping reports a ping from the server.
	ping func(e *engine)
	// close reports that the connection was lost (not called after close
	// or closeGracefully).
	close func(e *engine, reason sio.Reason, err error)
	// websocket records whether WebSocket worked, for RememberUpgrade.
	websocket func(ok bool)
}

// engine is one Engine.IO connection: the handshake, the polling and
// WebSocket transports, the upgrade from one to the other, the heartbeat and
// the write buffer. It never reconnects; the Manager creates a new engine for
// every attempt.
//
// Goroutines, all counted in wg: run (handshake), writeLoop (the only writer
// of the current transport: one POST or one WebSocket write at a time),
// pollLoop (one GET at a time) and the WebSocket reader (which, for an
// upgrade, starts as the probe). Stopping cancels ctx, which ends all of
// them.
type engine struct {
	cfg     *config
	hooks   engineHooks
	startWS bool // begin with WebSocket (RememberUpgrade)

	ctx      context.Context
	cancel   context.CancelFunc
	kick     chan struct{}  // wakes writeLoop
	stopped  chan struct{}  // closed by stop
	pollDone chan struct{}  // closed when pollLoop returns
	switched chan struct{}  // closed once writes go to the upgraded WebSocket
	done     chan struct{}  // closed when every goroutine has returned
	wg       sync.WaitGroup // the goroutines started by run

	mu           sync.Mutex
	state        engineState
	hs           eio.Handshake
	name         string    // current transport
	ws           WebSocket // current WebSocket (name == websocket)
	leftover     []eio.Packet
	wbuf         []eio.Packet
	upgrading    bool      // probe answered: writes wait for the switch
	pausePoll    bool      // pollLoop must stop after the GET in flight
	switchTo     WebSocket // upgrade to perform by writeLoop
	pingTimer    *time.Timer
	pingDeadline time.Time
	closeTimer   *time.Timer
	reqs         uint64 // counter for the cache-busting t parameter
	tbase        uint64
}

func newEngine(cfg *config, hooks engineHooks, startWS bool) *engine {
	ctx, cancel := context.WithCancel(context.Background())
	return &engine{
		cfg:      cfg,
		hooks:    hooks,
		startWS:  startWS,
		ctx:      ctx,
		cancel:   cancel,
		kick:     make(chan struct{}, 1),
		stopped:  make(chan struct{}),
		pollDone: make(chan struct{}),
		switched: make(chan struct{}),
		done:     make(chan struct{}),
		tbase:    uint64(time.Now().UnixMilli()),
	}
}

// launch starts the engine: run performs the handshake, starts the other
// goroutines and waits for them.
func (e *engine) launch() { go e.run() }

// wait blocks until every goroutine of the engine has returned.
func (e *engine) wait() { <-e.done }

// finished reports whether every goroutine of the engine has returned.
func (e *engine) finished() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

func (e *engine) run() {
	defer close(e.done)
	defer e.wg.Wait()
	// A cancel cause and a timer rather than context.WithTimeoutCause,
	// whose timer context is larger in WebAssembly builds.
	ctx, cancel := context.WithCancelCause(e.ctx)
	if e.cfg.timeout > 0 {
		t := time.AfterFunc(e.cfg.timeout, func() { cancel(ErrConnectTimeout) })
		defer t.Stop()
	}
	err := e.open(ctx)
	if err != nil && errors.Is(context.Cause(ctx), ErrConnectTimeout) {
		err = errs.Wrap(ErrConnectTimeout.Error()+" ("+e.cfg.timeout.String()+")", ErrConnectTimeout)
	}
	cancel(nil)
	if err != nil {
		e.stop()
		e.hooks.open(e, err)
		return
	}
	if !e.hooks.open(e, nil) {
		e.stop()
	}
	e.start()
}

// transportOrder returns the transports to try, first one first.
func (e *engine) transportOrder() []string {
	names := e.cfg.transports
	if e.startWS && slices.Contains(names, TransportWebSocket) {
		out := []string{TransportWebSocket}
		for _, n := range names {
			if n != TransportWebSocket {
				out = append(out, n)
			}
		}
		return out
	}
	return names
}

// open performs the handshake with the first transport (or, with
// TryAllTransports, the first that works).
func (e *engine) open(ctx context.Context) error {
	var err error
	names := e.transportOrder()
	for i, name := range names {
		if name == TransportPolling {
			err = e.openPolling(ctx)
		} else {
			err = e.openWebSocket(ctx)
		}
		if err == nil || !e.cfg.tryAllTransports || ctx.Err() != nil {
			return err
		}
		if i < len(names)-1 {
			e.cfg.log.Debug("socket.io client: transport failed, trying the next one", "transport", name, "err", err)
		}
	}
	return err
}

var errBadHandshake = errors.New("client: invalid handshake")

func (e *engine) openPolling(ctx context.Context) error {
	e.mu.Lock()
	u := e.urlLocked(TransportPolling)
	e.mu.Unlock()
	body, err := e.cfg.tr.Do(ctx, &Request{Method: "GET", URL: u, Header: e.cfg.header})
	if err != nil {
		return errs.Wrap("client: polling handshake: "+err.Error(), err)
	}
	pkts, err := eio.DecodePayload(nil, body, eio.Limits{})
	if err != nil {
		return errs.Wrap2(errBadHandshake.Error()+": "+err.Error(), errBadHandshake, err)
	}
	if pkts[0].Type != eio.Open {
		return errs.Wrap(errBadHandshake.Error()+": first packet is "+pkts[0].Type.String(), errBadHandshake)
	}
	hs, err := eio.ParseHandshake(pkts[0].Data)
	if err != nil {
		return errs.Wrap2(errBadHandshake.Error()+": "+err.Error(), errBadHandshake, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != engineOpening {
		return sio.ErrDisconnected
	}
	e.hs, e.name, e.state = hs, TransportPolling, engineOpen
	e.leftover = pkts[1:]
	return nil
}

func (e *engine) openWebSocket(ctx context.Context) error {
	e.mu.Lock()
	u := e.urlLocked(TransportWebSocket)
	e.mu.Unlock()
	ws, err := e.cfg.tr.DialWebSocket(ctx, u, e.cfg.header)
	if err != nil {
		e.hooks.websocket(false)
		return errs.Wrap("client: websocket handshake: "+err.Error(), err)
	}
	hs, err := readHandshake(ctx, ws)
	if err == nil {
		e.mu.Lock()
		if e.state == engineOpening {
			e.hs, e.name, e.ws, e.state = hs, TransportWebSocket, ws, engineOpen
			e.mu.Unlock()
			e.hooks.websocket(true)
			return nil
		}
		e.mu.Unlock()
		err = sio.ErrDisconnected
	}
	ws.Close()
	return err
}

func readHandshake(ctx context.Context, ws WebSocket) (eio.Handshake, error) {
	binary, data, err := ws.Read(ctx)
	if err != nil {
		return eio.Handshake{}, errs.Wrap("client: websocket handshake: "+err.Error(), err)
	}
	p, err := eio.DecodeFrame(data, binary)
	if err != nil {
		return eio.Handshake{}, errs.Wrap2(errBadHandshake.Error()+": "+err.Error(), errBadHandshake, err)
	}
	if p.Type != eio.Open || p.Binary {
		return eio.Handshake{}, errs.Wrap(errBadHandshake.Error()+": first packet is "+p.Type.String(), errBadHandshake)
	}
	hs, err := eio.ParseHandshake(p.Data)
	if err != nil {
		return eio.Handshake{}, errs.Wrap2(errBadHandshake.Error()+": "+err.Error(), errBadHandshake, err)
	}
	return hs, nil
}

// start launches the I/O goroutines of an open engine, or releases it when it
// was closed meanwhile.
func (e *engine) start() {
	e.mu.Lock()
	if e.state != engineOpen {
		ws := e.ws
		e.mu.Unlock()
		e.stop()
		if ws != nil {
			ws.Close()
		}
		return
	}
	e.resetPingLocked()
	e.wg.Go(e.writeLoop)
	if e.name == TransportPolling {
		leftover := e.leftover
		e.leftover = nil
		e.wg.Go(func() { e.pollLoop(leftover) })
		if e.cfg.upgrade && slices.Contains(e.hs.Upgrades, TransportWebSocket) &&
			slices.Contains(e.cfg.transports, TransportWebSocket) {
			e.wg.Go(e.probe)
		}
	} else {
		close(e.pollDone)
		ws := e.ws
		e.wg.Go(func() {
			defer ws.Close()
			e.readWebSocket(ws)
		})
	}
	e.kickLocked()
	e.mu.Unlock()
}

// urlLocked returns the URL of a request with transport name.
func (e *engine) urlLocked(name string) string {
	q := make(map[string][]string, len(e.cfg.query)+4)
	for k, v := range e.cfg.query {
		q[k] = v
	}
	q["EIO"] = []string{strconv.Itoa(eio.Protocol)}
	q["transport"] = []string{name}
	if e.hs.SID != "" {
		q["sid"] = []string{e.hs.SID}
	}
	scheme := e.cfg.scheme
	if name == TransportPolling {
		e.reqs++
		q["t"] = []string{strconv.FormatUint(e.tbase, 36) + "." + strconv.FormatUint(e.reqs, 36)}
	} else if scheme == "https" {
		scheme = "wss"
	} else {
		scheme = "ws"
	}
	return scheme + "://" + e.cfg.host + e.cfg.path + "?" + encodeQuery(q)
}

// handle processes one received packet; it returns false when the engine
// must stop reading.
func (e *engine) handle(p eio.Packet) bool {
	if p.Binary {
		e.hooks.message(e, p)
		return true
	}
	switch p.Type {
	case eio.Ping:
		e.mu.Lock()
		if e.state == engineOpen {
			e.wbuf = append(e.wbuf, eio.Packet{Type: eio.Pong})
			e.kickLocked()
			e.resetPingLocked()
		}
		e.mu.Unlock()
		e.hooks.ping(e)
	case eio.Message:
		e.hooks.message(e, p)
	case eio.Close:
		e.fail(sio.ReasonTransportClose, nil)
		return false
	}
	return true
}

func (e *engine) pollLoop(pkts []eio.Packet) {
	defer close(e.pollDone)
	for {
		for _, p := range pkts {
			if !e.handle(p) {
				return
			}
		}
		e.mu.Lock()
		if e.state != engineOpen || e.pausePoll {
			e.mu.Unlock()
			return
		}
		u := e.urlLocked(TransportPolling)
		e.mu.Unlock()
		body, err := e.cfg.tr.Do(e.ctx, &Request{Method: "GET", URL: u, Header: e.cfg.header})
		if err != nil {
			e.fail(sio.ReasonTransportError, errs.Wrap("client: polling: "+err.Error(), err))
			return
		}
		pkts, err = eio.DecodePayload(pkts[:0], body, eio.Limits{})
		if err != nil {
			e.fail(sio.ReasonTransportError, errs.Wrap("client: polling: "+err.Error(), err))
			return
		}
	}
}

// readWebSocket reads ws until it fails or the engine stops.
func (e *engine) readWebSocket(ws WebSocket) {
	for {
		binary, data, err := ws.Read(e.ctx)
		if err != nil {
			e.fail(sio.ReasonTransportClose, errs.Wrap("client: websocket: "+err.Error(), err))
			return
		}
		p, err := eio.DecodeFrame(data, binary)
		if err != nil {
			e.fail(sio.ReasonTransportError, errs.Wrap("client: websocket: "+err.Error(), err))
			return
		}
		if !e.handle(p) {
			return
		}
	}
}

// probe tries the upgrade to WebSocket: "2probe", wait for "3probe", then
// hand the switch over to writeLoop and, once it is done, read the
// WebSocket. A failed probe leaves the engine on polling.
func (e *engine) probe() {
	e.hooks.websocket(false)
	e.mu.Lock()
	u := e.urlLocked(TransportWebSocket)
	e.mu.Unlock()
	ws, err := e.cfg.tr.DialWebSocket(e.ctx, u, e.cfg.header)
	if err != nil {
		e.cfg.log.Debug("socket.io client: upgrade failed", "err", err)
		return
	}
	defer ws.Close()
	if err := ws.Write(e.ctx, false, eio.AppendFrame(nil, eio.Packet{Type: eio.Ping, Data: []byte("probe")})); err != nil {
		e.cfg.log.Debug("socket.io client: upgrade failed", "err", err)
		return
	}
	binary, data, err := ws.Read(e.ctx)
	if err != nil {
		e.cfg.log.Debug("socket.io client: upgrade failed", "err", err)
		return
	}
	if p, err := eio.DecodeFrame(data, binary); err != nil || p.Type != eio.Pong || string(p.Data) != "probe" {
		e.cfg.log.Debug("socket.io client: upgrade failed: probe error")
		return
	}
	e.mu.Lock()
	if e.state != engineOpen {
		e.mu.Unlock()
		return
	}
	e.upgrading, e.pausePoll, e.switchTo = true, true, ws
	e.kickLocked()
	e.mu.Unlock()
	select {
	case <-e.switched:
	case <-e.stopped:
		return
	}
	e.hooks.websocket(true)
	e.cfg.log.Debug("socket.io client: upgraded to websocket")
	e.readWebSocket(ws)
}

func (e *engine) kickLocked() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// writeLoop is the only goroutine writing to the current transport.
func (e *engine) writeLoop() {
	for {
		select {
		case <-e.kick:
		case <-e.stopped:
			return
		}
		for {
			e.mu.Lock()
			if e.state == engineClosed {
				e.mu.Unlock()
				return
			}
			if ws := e.switchTo; ws != nil {
				e.switchTo = nil
				e.mu.Unlock()
				if !e.switchToWebSocket(ws) {
					return
				}
				continue
			}
			if e.upgrading || len(e.wbuf) == 0 {
				closing := e.state == engineClosing && !e.upgrading
				e.mu.Unlock()
				if closing {
					e.finishClose()
					return
				}
				break
			}
			batch := e.takeBatchLocked()
			name, ws := e.name, e.ws
			var u string
			if name == TransportPolling {
				u = e.urlLocked(TransportPolling)
			}
			e.mu.Unlock()
			if err := e.write(name, ws, u, batch); err != nil {
				reason := sio.ReasonTransportError
				if name == TransportWebSocket {
					reason = sio.ReasonTransportClose
				}
				e.fail(reason, err)
				return
			}
		}
	}
}

// takeBatchLocked removes from the write buffer what the next write sends:
// everything, except that a polling payload stays within the server's
// maxPayload (at least one packet is always taken).
func (e *engine) takeBatchLocked() []eio.Packet {
	if e.name != TransportPolling || e.hs.MaxPayload <= 0 || len(e.wbuf) <= 1 {
		b := e.wbuf
		e.wbuf = nil
		return b
	}
	size, n := int64(0), 0
	for i, p := range e.wbuf {
		s := pollingSize(p)
		if i > 0 {
			s++ // separator
			if size+s > e.hs.MaxPayload {
				break
			}
		}
		size += s
		n++
	}
	b := slices.Clone(e.wbuf[:n])
	e.wbuf = e.wbuf[n:]
	if len(e.wbuf) == 0 {
		e.wbuf = nil
	}
	return b
}

// pollingSize is the size of p in a polling payload.
func pollingSize(p eio.Packet) int64 {
	if p.Binary {
		return 1 + int64(base64.StdEncoding.EncodedLen(len(p.Data)))
	}
	return 1 + int64(len(p.Data))
}

// frameSize is the size of p in a WebSocket frame.
func frameSize(p eio.Packet) int64 {
	if p.Binary {
		return int64(len(p.Data))
	}
	return 1 + int64(len(p.Data))
}

func (e *engine) write(name string, ws WebSocket, u string, batch []eio.Packet) error {
	if name == TransportPolling {
		body := eio.AppendPayload(nil, batch...)
		if _, err := e.cfg.tr.Do(e.ctx, &Request{Method: "POST", URL: u, Header: e.cfg.header, Body: body}); err != nil {
			return errs.Wrap("client: polling: "+err.Error(), err)
		}
		return nil
	}
	for _, p := range batch {
		if err := ws.Write(e.ctx, p.Binary, eio.AppendFrame(nil, p)); err != nil {
			return errs.Wrap("client: websocket: "+err.Error(), err)
		}
	}
	return nil
}

// switchToWebSocket completes an upgrade once polling is paused.
func (e *engine) switchToWebSocket(ws WebSocket) bool {
	select {
	case <-e.pollDone:
	case <-e.stopped:
		return false
	}
	if err := ws.Write(e.ctx, false, eio.AppendFrame(nil, eio.Packet{Type: eio.Upgrade})); err != nil {
		e.fail(sio.ReasonTransportClose, errs.Wrap("client: websocket: "+err.Error(), err))
		return false
	}
	e.mu.Lock()
	e.name, e.ws, e.upgrading = TransportWebSocket, ws, false
	e.mu.Unlock()
	close(e.switched)
	return true
}

// finishClose ends a graceful close once the write buffer is flushed.
func (e *engine) finishClose() {
	e.mu.Lock()
	name, ws := e.name, e.ws
	var u string
	if name == TransportPolling {
		u = e.urlLocked(TransportPolling)
	}
	e.mu.Unlock()
	if name == TransportPolling {
		body := eio.AppendPayload(nil, eio.Packet{Type: eio.Close})
		_, _ = e.cfg.tr.Do(e.ctx, &Request{Method: "POST", URL: u, Header: e.cfg.header, Body: body})
	} else if ws != nil {
		ws.Close()
	}
	e.stop()
}

// send queues packets; it returns false when the engine no longer accepts
// any. The packets of one call are written in order without others in
// between.
func (e *engine) send(pkts ...eio.Packet) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != engineOpening && e.state != engineOpen {
		return false
	}
	e.wbuf = append(e.wbuf, pkts...)
	e.kickLocked()
	return true
}

// limits returns the current transport and the server's maxPayload.
func (e *engine) limits() (string, int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.name, e.hs.MaxPayload
}

// transportName returns the transport in use.
func (e *engine) transportName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.name
}

func (e *engine) resetPingLocked() {
	d := time.Duration(e.hs.PingInterval+e.hs.PingTimeout) * time.Millisecond
	e.pingDeadline = time.Now().Add(d)
	if e.pingTimer == nil {
		e.pingTimer = time.AfterFunc(d, func() { e.fail(sio.ReasonPingTimeout, nil) })
	} else {
		e.pingTimer.Reset(d)
	}
}

// pingExpired reports whether the heartbeat deadline has passed without the
// timer having fired yet (a suspended machine); it then closes the engine.
func (e *engine) pingExpired() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != engineOpen || e.pingTimer == nil || !time.Now().After(e.pingDeadline) {
		return false
	}
	e.pingTimer.Reset(0)
	return true
}

// stop stops the engine at once. It returns false when it was already
// stopped. It never blocks.
func (e *engine) stop() bool {
	e.mu.Lock()
	if e.state == engineClosed {
		e.mu.Unlock()
		return false
	}
	e.state = engineClosed
	if e.pingTimer != nil {
		e.pingTimer.Stop()
	}
	if e.closeTimer != nil {
		e.closeTimer.Stop()
	}
	e.wbuf = nil
	e.mu.Unlock()
	e.cancel()
	close(e.stopped)
	return true
}

// fail stops the engine and reports the loss of the connection.
func (e *engine) fail(reason sio.Reason, err error) {
	if e.stop() {
		e.hooks.close(e, reason, err)
	}
}

// closeGracefully stops the engine after flushing what is queued (bounded by
// closeTimeout), then tells the server (a close packet over polling, a
// WebSocket close). It never blocks.
func (e *engine) closeGracefully() {
	e.mu.Lock()
	if e.state != engineOpen {
		opening := e.state == engineOpening
		e.mu.Unlock()
		if opening {
			e.stop()
		}
		return
	}
	e.state = engineClosing
	e.closeTimer = time.AfterFunc(closeTimeout, func() { e.stop() })
	e.kickLocked()
	e.mu.Unlock()
}
