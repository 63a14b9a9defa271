package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/socketio/e2e/internal/browser"
)

// TestWASMTransport runs the tests of transport/wasm (compiled with
// GOOS=js GOARCH=wasm go test -c) in headless Chromium, against the
// endpoints below served on the same origin as the test page.
func TestWASMTransport(t *testing.T) {
	ctx := browser.Start(t)
	wasmPath := browser.BuildGoTest(t, filepath.Join("..", "transport", "wasm"))

	mux := http.NewServeMux()
	mux.Handle("/", browser.GoTestHandler(t, wasmPath,
		[]string{"-test.v", "-test.timeout=60s"}, map[string]string{"SIO_WASM_E2E": "1"}))
	ep := newTransportEndpoints()
	mux.Handle("/t/", ep)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(ep.cancel) // runs before srv.Close: releases held requests

	browser.RunGoTest(t, ctx, srv.URL+"/", 2*time.Minute)
}

// transportEndpoints are the HTTP and WebSocket endpoints that the tests in
// transport/wasm/wasm_test.go talk to.
type transportEndpoints struct {
	mux         *http.ServeMux
	hangStarted chan struct{} // one value per /t/hang request the server holds
	hangAborted chan struct{} // one value per /t/hang request the client aborted
	// ctx ends at the end of the test, releasing the handlers that wait.
	ctx    context.Context
	cancel context.CancelFunc
}

func newTransportEndpoints() *transportEndpoints {
	ep := &transportEndpoints{
		mux:         http.NewServeMux(),
		hangStarted: make(chan struct{}, 1),
		hangAborted: make(chan struct{}, 1),
	}
	ep.ctx, ep.cancel = context.WithCancel(context.Background())
	m := ep.mux
	m.HandleFunc("GET /t/ok", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	})
	m.HandleFunc("POST /t/echo", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s|%s|%s|", r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Test"))
		io.Copy(w, r.Body)
	})
	m.HandleFunc("GET /t/error", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":1,"message":"Session ID unknown"}`)
	})
	m.HandleFunc("GET /t/plain-error", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	m.HandleFunc("GET /t/hang", func(w http.ResponseWriter, r *http.Request) {
		ep.hangStarted <- struct{}{}
		select {
		case <-r.Context().Done():
			ep.hangAborted <- struct{}{}
		case <-ep.ctx.Done():
		}
	})
	wait := func(ch <-chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-ch:
			case <-r.Context().Done():
			case <-ep.ctx.Done():
			}
		}
	}
	m.HandleFunc("GET /t/hang-started", wait(ep.hangStarted))
	m.HandleFunc("GET /t/hang-aborted", wait(ep.hangAborted))
	m.HandleFunc("GET /t/set-cookie", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sio", Value: "42", Path: "/"})
	})
	m.HandleFunc("GET /t/cookie", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Cookie"))
	})
	m.HandleFunc("GET /t/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered
		}
		defer c.CloseNow()
		c.SetReadLimit(-1)
		// End with the test even if the browser keeps the connection.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(ep.ctx, cancel)()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			msg := string(data)
			switch {
			case msg == "close-me":
				if c.Write(ctx, websocket.MessageText, []byte("goodbye")) != nil {
					return
				}
				c.Close(4000, "bye")
				return
			case strings.HasPrefix(msg, "burst "):
				n, _ := strconv.Atoi(strings.TrimPrefix(msg, "burst "))
				for i := range n {
					typ := websocket.MessageText
					if i%2 == 1 {
						typ = websocket.MessageBinary
					}
					if c.Write(ctx, typ, fmt.Appendf(nil, "m%d", i)) != nil {
						return
					}
				}
			default:
				if c.Write(ctx, typ, data) != nil {
					return
				}
			}
		}
	})
	return ep
}

func (ep *transportEndpoints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep.mux.ServeHTTP(w, r)
}
