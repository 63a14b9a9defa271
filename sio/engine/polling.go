package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
)

var (
	// ErrClosed is returned when sending on a closed session.
	ErrClosed = errors.New("engine: session closed")
	// ErrQueueFull is the error a session is closed with when its send
	// queue grows past Options.MaxQueuedBytes.
	ErrQueueFull = errors.New("engine: send queue full")
	// ErrInvalidPacket is the error a session is closed with when its client
	// sends something that does not decode.
	ErrInvalidPacket = errors.New("engine: invalid packet from client")
)

// servePoll answers a long-polling GET: it waits until something is queued
// and returns everything queued as one payload.
func (s *Socket) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.pollWaiting {
		// Overlap: the session ends; the pending GET gets a close packet.
		s.mu.Unlock()
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.closeWith(sio.ReasonTransportError, errPollOverlap, false)
		return
	}
	if s.transport != eio.TransportPolling {
		s.mu.Unlock()
		s.refuseUpgraded(w, r)
		return
	}
	s.pollWaiting = true
	s.mu.Unlock()
	writeTimeout := liftDeadlines(w, r)
	s.mu.Lock()
	var (
		arrived time.Time
		hold    *time.Timer // the noop's wait during an upgrade
		holdC   <-chan time.Time
	)
	defer func() {
		if hold != nil {
			hold.Stop()
		}
	}()
	for {
		if s.state == stateClosed {
			s.pollWaiting = false
			byClient := s.closedByClient
			s.mu.Unlock()
			writeDeadline(w, writeTimeout)
			if byClient {
				s.writePayload(w, r, nil) // a noop, as upstream (see closeFromClient)
			} else {
				s.writePayload(w, r, []Frame{{Data: closeFrame}})
			}
			return
		}
		if s.transport != eio.TransportPolling {
			// Upgraded while this GET waited: it is answered as if it came
			// after the upgrade. The client sent the upgrade packet before
			// this GET, or with nothing between (it stopped polling), and
			// which of the two the server handles first must not matter.
			s.pollWaiting = false
			s.mu.Unlock()
			writeDeadline(w, writeTimeout)
			s.refuseUpgraded(w, r)
			return
		}
		if len(s.queue) > 0 {
			break
		}
		if s.probed && s.state == stateOpen {
			// During an upgrade, a GET with nothing to send gets a noop, so
			// that the client can pause polling and send the upgrade
			// packet; but, as upstream, only after upgradeCheck: an upgrade
			// packet sent right after the probe completes the upgrade
			// first, and this GET is then refused (above), never answered
			// with a noop the client did not expect.
			if arrived.IsZero() {
				arrived = time.Now()
			}
			from := arrived
			if s.probedAt.After(from) {
				from = s.probedAt
			}
			wait := upgradeCheck - time.Since(from)
			if wait <= 0 {
				break
			}
			if hold == nil {
				hold = time.NewTimer(wait)
				holdC = hold.C
			} else {
				hold.Reset(wait)
			}
		}
		s.mu.Unlock()
		select {
		case <-s.pollWake:
		case <-holdC:
		case <-r.Context().Done():
			s.mu.Lock()
			s.pollWaiting = false
			s.mu.Unlock()
			s.closeWith(sio.ReasonTransportError, errPollClosed, false)
			return
		}
		s.mu.Lock()
	}
	frames := s.takeQueueLocked()
	closing := s.state == stateClosing
	s.pollWaiting = false
	s.mu.Unlock()
	writeDeadline(w, writeTimeout)
	s.writePayload(w, r, frames)
	if closing {
		s.finish(false)
	}
}

// upgradeCheck is how long a GET waits during an upgrade before it gets a
// noop: upstream's check interval.
const upgradeCheck = 100 * time.Millisecond

// refuseUpgraded answers a GET on a session that has moved to WebSocket,
// as upstream does.
func (s *Socket) refuseUpgraded(w http.ResponseWriter, r *http.Request) {
	s.srv.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{
		"name": "TRANSPORT_MISMATCH", "transport": eio.TransportPolling, "previousTransport": eio.TransportWebSocket,
	})
}

// readBody reads the body of a POST, up to limit+1 bytes. A body that
// stalls or trickles is not held forever: the read ends when the session
// does, and after PingInterval+PingTimeout, the time a client has to answer
// a ping anyway (unless the http.Server's ReadTimeout bounds it already).
func (s *Socket) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rc := http.NewResponseController(w)
	own := false
	if hs, _ := r.Context().Value(http.ServerContextKey).(*http.Server); hs == nil || hs.ReadTimeout <= 0 {
		own = rc.SetReadDeadline(time.Now().Add(s.srv.opts.PingInterval+s.srv.opts.PingTimeout)) == nil
	}
	ended := make(chan struct{})
	stop := context.AfterFunc(s.ctx, func() {
		defer close(ended)
		_ = rc.SetReadDeadline(time.Now()) // ends the read under way
	})
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if !stop() {
		// The session ended: the deadline may have been set, even after
		// the read; it must be, before the handler returns.
		<-ended
		own = true
	}
	if own && err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	}
	// After an error the deadline stays passed: net/http reads what is
	// left of a body before it answers, which must not wait either.
	return body, err
}

// liftDeadlines lifts, for a GET held until there is something to send,
// the deadlines an http.Server sets from the start of each request, which
// may be shorter than PingInterval, the longest hold: when ReadTimeout
// passes, net/http's read in the background fails and cancels the
// request, and WriteTimeout fails the answer. It returns the server's
// WriteTimeout, to be given to the answer from when it is written (see
// writeDeadline), or 0.
func liftDeadlines(w http.ResponseWriter, r *http.Request) time.Duration {
	hs, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if hs == nil || (hs.ReadTimeout <= 0 && hs.WriteTimeout <= 0) {
		return 0
	}
	rc := http.NewResponseController(w)
	if hs.ReadTimeout > 0 {
		_ = rc.SetReadDeadline(time.Time{})
	}
	if hs.WriteTimeout <= 0 {
		return 0
	}
	_ = rc.SetWriteDeadline(time.Time{})
	return hs.WriteTimeout
}

// writeDeadline gives the answer to a long-poll the http.Server's
// WriteTimeout d (see liftDeadlines), counted from now.
func writeDeadline(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
	}
}

// closeFromClient ends the session on the close packet its client POSTed.
// As upstream's polling transport does, the GET pending then gets a noop
// (a close packet only ends a close the server starts), and so does a GET
// that races the POST (see closed.go).
func (s *Socket) closeFromClient() {
	s.recvMu.Lock() // in order with the packets before it, as onPacket
	defer s.recvMu.Unlock()
	s.mu.Lock()
	if s.state != stateClosed && s.transport == eio.TransportPolling {
		s.closedByClient = true
	}
	s.mu.Unlock()
	s.closeWith(sio.ReasonTransportClose, nil, false)
}

var (
	errPollOverlap = errors.New("engine: overlapping polling requests")
	errPollClosed  = errors.New("engine: poll connection closed prematurely")
	errPostOverlap = errors.New("engine: data request overlap from client")
	errPostClosed  = errors.New("engine: data request connection closed prematurely")
)

// encodePayload joins frames into a long-polling payload; binary frames
// are written as "b" and base64. No frame makes a noop (released during
// an upgrade).
func encodePayload(frames []Frame) []byte {
	if len(frames) == 0 {
		return noopFrame
	}
	n := len(frames) - 1
	for _, f := range frames {
		if f.Binary {
			n += 1 + base64.StdEncoding.EncodedLen(len(f.Data))
		} else {
			n += len(f.Data)
		}
	}
	body := make([]byte, 0, n)
	for i, f := range frames {
		if i > 0 {
			body = append(body, eio.RecordSeparator)
		}
		if f.Binary {
			body = eio.AppendPayload(body, eio.Packet{Type: eio.Message, Binary: true, Data: f.Data})
		} else {
			body = append(body, f.Data...)
		}
	}
	return body
}

// writePayload answers a long-polling GET with frames (none makes a noop),
// in the framing of the client's protocol.
func (s *Socket) writePayload(w http.ResponseWriter, r *http.Request, frames []Frame) {
	body, contentType := s.codec.encodePayload(frames)
	s.respond(w, r, contentType, body, true)
}

// textPlain is the content type of polling payloads; explicit UTF-8 is
// needed for pages not served in UTF-8.
const textPlain = "text/plain; charset=UTF-8"

// serveData handles a POST: a payload of packets from the client. The
// packets are delivered before the answer, as upstream does, so a client
// that waits for the answer before its next POST never overlaps.
func (s *Socket) serveData(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.postActive {
		s.mu.Unlock()
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.closeWith(sio.ReasonTransportError, errPostOverlap, false)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	limit := s.srv.opts.MaxHTTPBufferSize
	if r.ContentLength > limit {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	body, err := s.readBody(w, r, limit)
	if err != nil {
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.mu.Lock()
		polling := s.transport == eio.TransportPolling
		s.mu.Unlock()
		if polling {
			// Once upgraded, a late POST failing is no longer the
			// session's transport failing (upstream discards its errors).
			s.closeWith(sio.ReasonTransportError, fmt.Errorf("%w: %w", errPostClosed, err), false)
		}
		return
	}
	if int64(len(body)) > limit {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	binary := r.Header.Get("Content-Type") == "application/octet-stream"
	if binary && !s.codec.binaryPayloads() {
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.closeWith(sio.ReasonTransportError, ErrInvalidPacket, false)
		return
	}
	if !binary {
		// Upstream reads a text body as a UTF-8 string: invalid sequences
		// become U+FFFD, and the limit holds for what they become.
		body = toValidUTF8(body)
		if int64(len(body)) > limit {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
	}
	packets, err := s.codec.decodePayload(body, binary, limit)
	if err != nil {
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.closeWith(sio.ReasonParseError, errors.Join(ErrInvalidPacket, err), false)
		return
	}
	for _, p := range packets {
		if p.Type == eio.Close {
			s.closeFromClient()
			break // what follows would be ignored
		}
		s.onPacket(p)
	}
	// text/html, as upstream: text/plain made some browsers offer a download.
	s.respond(w, r, "text/html", []byte("ok"), false)
}
