package engine

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gosio/socketio/sio/eio"
)

// isHandshake reports whether r opens a session (it has no sid).
func isHandshake(r *http.Request) bool { return r.URL.Query().Get("sid") == "" }

// applyHeaders runs what upstream does on the "headers" of a response to
// r, a request of session sid: on a handshake, the sticky-session cookie
// and OnInitialHeaders; then OnHeaders.
func (s *Server) applyHeaders(h http.Header, r *http.Request, sid string) {
	if isHandshake(r) {
		if c := s.opts.Cookie; c != nil {
			ck := http.Cookie{
				Name:     c.Name,
				Value:    sid,
				Path:     c.Path,
				Domain:   c.Domain,
				MaxAge:   c.MaxAge,
				HttpOnly: !c.DisableHTTPOnly,
				Secure:   c.Secure,
				SameSite: c.SameSite,
			}
			if v := ck.String(); v != "" {
				h.Add("Set-Cookie", v)
			}
		}
		if s.opts.OnInitialHeaders != nil {
			s.opts.OnInitialHeaders(h, r)
		}
	}
	if s.opts.OnHeaders != nil {
		s.opts.OnHeaders(h, r)
	}
}

// refuse answers a request the server refuses, after reporting it to
// Options.OnConnectionError. A "message" string in ctx replaces the
// standard message in the answer, as upstream.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, code eio.ErrorCode, ctx map[string]any) {
	s.connectionError(r, code, ctx)
	msg, _ := ctx["message"].(string)
	s.abort(w, r, status, code, msg)
}

// connectionError reports a refused request to Options.OnConnectionError.
func (s *Server) connectionError(r *http.Request, code eio.ErrorCode, ctx map[string]any) {
	if s.opts.OnConnectionError != nil {
		s.opts.OnConnectionError(ConnectionError{
			Request: r,
			Code:    code,
			Message: code.Message(),
			Context: ctx,
		})
	}
}

// compressors holds reusable gzip and zlib writers.
type compressors struct {
	gzip sync.Pool // *gzip.Writer
	zlib sync.Pool // *zlib.Writer
}

// compress returns body compressed with encoding ("gzip" or "deflate",
// which is the zlib format, as HTTP and Node's createDeflate mean it).
func (c *compressors) compress(encoding string, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body) / 2)
	var (
		zw   io.WriteCloser
		pool *sync.Pool
	)
	switch encoding {
	case "gzip":
		pool = &c.gzip
		if w, ok := pool.Get().(*gzip.Writer); ok {
			w.Reset(&buf)
			zw = w
		} else {
			zw = gzip.NewWriter(&buf)
		}
	case "deflate":
		pool = &c.zlib
		if w, ok := pool.Get().(*zlib.Writer); ok {
			w.Reset(&buf)
			zw = w
		} else {
			zw = zlib.NewWriter(&buf)
		}
	default:
		return nil, fmt.Errorf("engine: unknown content encoding %q", encoding)
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("engine: %s compression: %w", encoding, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("engine: %s compression: %w", encoding, err)
	}
	pool.Put(zw)
	return buf.Bytes(), nil
}

// negotiateEncoding picks "gzip" or "deflate" from an Accept-Encoding
// header, or "" when neither is acceptable: the highest quality wins, then
// an explicit name over "*", then the client's order, then gzip.
func negotiateEncoding(header string) string {
	type choice struct {
		q        float64
		explicit bool
		index    int
	}
	var found [2]choice // gzip, deflate
	var seen [2]bool
	var star choice
	starSeen := false
	for i, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		c := choice{q: q, explicit: true, index: i}
		switch name {
		case "gzip", "x-gzip":
			if !seen[0] {
				found[0], seen[0] = c, true
			}
		case "deflate":
			if !seen[1] {
				found[1], seen[1] = c, true
			}
		case "*":
			if !starSeen {
				star, starSeen = choice{q: q, index: i}, true
			}
		}
	}
	best, bestName := choice{}, ""
	for i, name := range [2]string{"gzip", "deflate"} {
		c := found[i]
		if !seen[i] {
			if !starSeen {
				continue
			}
			c = star
		}
		if c.q <= 0 {
			continue
		}
		if bestName == "" || c.q > best.q ||
			(c.q == best.q && c.explicit && !best.explicit) ||
			(c.q == best.q && c.explicit == best.explicit && c.index < best.index) {
			best, bestName = c, name
		}
	}
	return bestName
}

// respond writes a polling response to r: the headers upstream sends,
// the header hooks, and body, compressed when compress is true, the body
// reaches the threshold and the client accepts gzip or deflate.
func (s *Socket) respond(w http.ResponseWriter, r *http.Request, contentType string, body []byte, compress bool) {
	h := w.Header()
	if hc := s.srv.opts.HTTPCompression; compress && hc != nil && len(body) >= hc.Threshold {
		if enc := negotiateEncoding(r.Header.Get("Accept-Encoding")); enc != "" {
			z, err := s.srv.compress.compress(enc, body)
			if err != nil {
				s.srv.log.Error("engine: compressing a polling response", "sid", s.id, "err", err)
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			body = z
			h.Set("Content-Encoding", enc)
		}
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	if ua := r.Header.Get("User-Agent"); strings.Contains(ua, ";MSIE") || strings.Contains(ua, "Trident/") {
		h.Set("X-XSS-Protection", "0") // as upstream, for old Internet Explorers
	}
	s.srv.applyHeaders(h, r, s.id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
