package e2e

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosio/socketio/e2e/internal/browser"
	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/internal/nodeenv"
	"github.com/gosio/socketio/sio/parser/msgpack"
)

// TestBrowserWASMClientMsgpack runs this module's Go client with the
// msgpack parser, compiled to wasm, in Chromium against the official
// Node.js server with socket.io-msgpack-parser and against the Go test app
// with the msgpack parser (both cross-origin, CORS open), over polling and
// WebSocket: acks both ways, binary data both ways and a broadcast.
func TestBrowserWASMClientMsgpack(t *testing.T) {
	nodeenv.Require(t)
	ctx := browser.Start(t)
	nodeURL, _ := nodeenv.StartServer(t, "SIO_PARSER=msgpack")
	opts := conformance.TestOptions(false)
	opts.Parser = msgpack.New()
	goApp := conformance.New(nil, opts)
	goSrv := httptest.NewServer(goApp.Handler())
	t.Cleanup(func() {
		goSrv.CloseClientConnections()
		goSrv.Close()
		goApp.Close()
	})

	dir := writeWASMModule(t, wasmMsgpackTest)
	wasmPath := browser.BuildGoTest(t, dir)
	page := browser.GoTestHandler(t, wasmPath, []string{"-test.v", "-test.timeout=90s"},
		map[string]string{"SIO_NODE_URL": nodeURL, "SIO_GO_URL": goSrv.URL})
	srv := httptest.NewServer(page)
	t.Cleanup(srv.Close)
	browser.RunGoTest(t, ctx, srv.URL+"/", 2*time.Minute)
}

// writeWASMModule writes a Go module whose only file is the test src,
// requiring this module (replaced by the working tree), and returns its
// folder.
func writeWASMModule(t *testing.T, src string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module wasminterop\n\ngo 1.26.0\n\nrequire github.com/gosio/socketio v0.0.0\n\n" +
			"replace github.com/gosio/socketio => " + root + "\n",
		"go.sum":       string(sum),
		"wasm_test.go": src,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wasmMsgpackTest runs in Chromium: the scenario against each server (its
// URL in SIO_NODE_URL and SIO_GO_URL), over each transport.
const wasmMsgpackTest = `//go:build js && wasm

package wasminterop

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/parser/msgpack"
	"github.com/gosio/socketio/transport/wasm"
)

func dial(t *testing.T, url string, transports []string) *client.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, url, &client.Options{Transport: wasm.New(nil), Transports: transports, DisableReconnection: true, Parser: msgpack.New()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Disconnect)
	return s
}

func call(t *testing.T, s *client.Socket, event string, args ...any) []any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := s.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	v, err := reply.Values()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func events(s *client.Socket, name string) <-chan []any {
	ch := make(chan []any, 4)
	s.On(name, func(e *sio.Event) {
		v, _ := e.Args.Values()
		ch <- v
	})
	return ch
}

func next(t *testing.T, ch <-chan []any, what string) []any {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s event", what)
		return nil
	}
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestMsgpack(t *testing.T) {
	for _, server := range []string{"SIO_NODE_URL", "SIO_GO_URL"} {
		for _, transport := range []string{client.TransportPolling, client.TransportWebSocket} {
			t.Run(server+"/"+transport, func(t *testing.T) {
				url := os.Getenv(server)
				s := dial(t, url, []string{transport})
				other := dial(t, url, []string{transport})
				binary := events(s, "binary")
				news1, news2 := events(s, "broadcast"), events(other, "broadcast")
				s.On("question", func(e *sio.Event) { _ = e.Ack("answer", []byte{5}) })

				check(t, "echo", call(t, s, "echo", "hello", 42, 1.5, nil, []byte{1, 2, 3, 255}, map[string]any{"nested": []byte{4}}),
					[]any{"hello", 42.0, 1.5, nil, []byte{1, 2, 3, 255}, map[string]any{"nested": []byte{4}}})
				call(t, s, "binary-me")
				check(t, "binary-me", next(t, binary, "binary"), []any{[]byte{1, 2, 3}, map[string]any{"nested": []byte{4}}})
				check(t, "request-ack", call(t, s, "request-ack", "question", []any{1}, 5000),
					[]any{map[string]any{"ok": true, "reply": []any{"answer", []byte{5}}}})
				if err := s.Emit("broadcast", "to all", []byte{6}); err != nil {
					t.Fatal(err)
				}
				check(t, "broadcast to the sender", next(t, news1, "broadcast"), []any{"to all", []byte{6}})
				check(t, "broadcast to the other", next(t, news2, "broadcast"), []any{"to all", []byte{6}})
				check(t, "transport", s.Manager().TransportName(), transport)
			})
		}
	}
}
`
