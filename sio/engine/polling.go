package engine

import (
	"errors"
	"io"
	"net/http"
	"strconv"

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
		s.closeWith(ReasonTransportError, errors.New("engine: overlapping polling requests"), false)
		return
	}
	if s.upgraded || s.transport != "polling" {
		s.mu.Unlock()
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		return
	}
	s.pollWaiting = true
	for {
		if s.state == stateClosed {
			s.pollWaiting = false
			s.mu.Unlock()
			writePayload(w, r, eio.AppendPayload(nil, eio.Packet{Type: eio.Close}))
			return
		}
		if s.transport != "polling" {
			// Upgraded while waiting: release the request with a noop.
			s.pollWaiting = false
			s.mu.Unlock()
			writePayload(w, r, noopFrame)
			return
		}
		if len(s.queue) > 0 || (s.upgrading && s.state == stateOpen) {
			break
		}
		s.mu.Unlock()
		select {
		case <-s.pollWake:
		case <-r.Context().Done():
			s.mu.Lock()
			s.pollWaiting = false
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, errors.New("engine: poll connection closed prematurely"), false)
			return
		}
		s.mu.Lock()
	}
	frames := s.takeQueueLocked()
	closing := s.state == stateClosing
	s.pollWaiting = false
	s.mu.Unlock()
	var body []byte
	if len(frames) == 0 {
		body = append(body, noopFrame...)
	}
	for i, f := range frames {
		if i > 0 || len(body) > 0 {
			body = append(body, eio.RecordSeparator)
		}
		if f.Binary {
			body = eio.AppendPayload(body, eio.Packet{Type: eio.Message, Binary: true, Data: f.Data})
		} else {
			body = append(body, f.Data...)
		}
	}
	writePayload(w, r, body)
	if closing {
		s.finish()
	}
}

func writePayload(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serveData handles a POST: a payload of packets from the client.
func (s *Socket) serveData(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.postActive {
		s.mu.Unlock()
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.closeWith(ReasonTransportError, errors.New("engine: data request overlap from client"), false)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	max := s.srv.opts.MaxHTTPBufferSize
	if r.ContentLength > max {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		s.closeWith(ReasonTransportError, errors.New("engine: data request connection closed prematurely"), false)
		return
	}
	if int64(len(body)) > max {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		// Binary polling bodies are Engine.IO v3 only.
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.closeWith(ReasonTransportError, ErrInvalidPacket, false)
		return
	}
	packets, err := eio.DecodePayload(nil, body, eio.Limits{MaxBytes: int(max)})
	if err != nil {
		s.srv.abort(w, r, http.StatusBadRequest, eio.CodeBadRequest, "")
		s.closeWith(ReasonParseError, errors.Join(ErrInvalidPacket, err), false)
		return
	}
	// Answer first, as upstream does, then deliver.
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
	for _, p := range packets {
		if s.isClosed() {
			return
		}
		s.onPacket(p)
	}
}

func (s *Socket) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateClosed
}
