package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gosio/socketio/e2e/internal/browser"
	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/internal/nodeenv"
)

// officialClientPage loads the official socket.io-client browser bundle and
// defines run(opts), the scenario below, which resolves to its results.
const officialClientPage = `<!doctype html>
<meta charset="utf-8">
<title>socket.io-client interop</title>
<link rel="icon" href="data:,">
<script src="/socket.io.min.js"></script>
<script>
const bytes = (b) => Array.from(new Uint8Array(b));
const connect = (nsp, opts) => new Promise((resolve, reject) => {
  const s = io(location.origin + nsp, Object.assign({forceNew: true, reconnection: false}, opts));
  s.once("connect", () => resolve(s));
  s.once("connect_error", (err) => { s.close(); reject(err); });
});
const call = (s, ev, ...args) => new Promise((resolve, reject) =>
  s.timeout(5000).emit(ev, ...args, (err, ...reply) => err ? reject(err) : resolve(reply)));
const once = (s, ev) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("no " + ev + " event")), 5000);
  s.once(ev, (...args) => { clearTimeout(timer); resolve(args); });
});

async function run(transports) {
  const out = {};
  const s = await connect("/", transports ? {transports} : {});
  out.echo = await call(s, "echo", "hello", 42, {a: [1, "b"], u: "é✓"});
  const bin = await call(s, "echo", new Uint8Array([1, 2, 3, 255]), {nested: new Uint8Array([4]), n: 1});
  out.echoBinary = [bytes(bin[0]), bytes(bin[1].nested), bin[1].n];
  const got = once(s, "binary");
  await call(s, "binary-me");
  const b = await got;
  out.binaryMe = [bytes(b[0]), bytes(b[1].nested)];
  if (!transports && s.io.engine.transport.name !== "websocket") {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no upgrade")), 10000);
      s.io.engine.once("upgrade", () => { clearTimeout(timer); resolve(); });
    });
  }
  out.transport = s.io.engine.transport.name;

  // Namespaces: /custom works (and gets its auth back), a refusal by the
  // middleware carries message and data, an unknown namespace is refused.
  const authP = new Promise((resolve) => {
    const c = io(location.origin + "/custom", {forceNew: true, reconnection: false, auth: {token: "ok"}, transports: transports || undefined});
    c.once("auth", (a) => resolve([c, a]));
  });
  const [c, auth] = await authP;
  out.customAuth = auth;
  out.customEcho = await call(c, "echo", "in custom");
  c.close();
  try {
    await connect("/custom", {auth: {token: "reject"}, transports: transports || undefined});
    out.reject = "connected";
  } catch (err) {
    out.reject = {message: err.message, data: err.data};
  }
  try {
    await connect("/nope", {transports: transports || undefined});
    out.nope = "connected";
  } catch (err) {
    out.nope = err.message;
  }
  s.close();
  return JSON.stringify(out);
}
</script>`

// officialResult is what run() reports.
type officialResult struct {
	Echo       []any           `json:"echo"`
	EchoBinary []any           `json:"echoBinary"`
	BinaryMe   [][]int         `json:"binaryMe"`
	Transport  string          `json:"transport"`
	CustomAuth json.RawMessage `json:"customAuth"`
	CustomEcho []string        `json:"customEcho"`
	Reject     struct {
		Message string `json:"message"`
		Data    struct {
			Reason string `json:"reason"`
		} `json:"data"`
	} `json:"reject"`
	Nope string `json:"nope"`
}

// TestBrowserOfficialClient runs the official socket.io-client browser
// bundle in Chromium against this project's server (the conformance app of
// CONTRACT.md), with each transport setting.
func TestBrowserOfficialClient(t *testing.T) {
	nodeenv.Require(t)
	ctx := browser.Start(t)
	c := conformance.New(nil, nil)
	bundle := filepath.Join(nodeenv.Dir(), "node_modules", "socket.io-client", "dist", "socket.io.min.js")
	if _, err := os.Stat(bundle); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", c.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(officialClientPage))
	})
	mux.HandleFunc("GET /socket.io.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, bundle)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	browser.Navigate(t, ctx, srv.URL+"/")
	browser.WaitTrue(t, ctx, `typeof io === "function" && typeof run === "function"`, demoWait)
	for _, tc := range []struct{ name, arg, want string }{
		{"polling", `["polling"]`, "polling"},
		{"websocket", `["websocket"]`, "websocket"},
		{"upgrade", `undefined`, "websocket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := browser.Eval[string](t, ctx, `run(`+tc.arg+`)`)
			var got officialResult
			if err := json.Unmarshal([]byte(raw), &got); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			wantEcho := []any{"hello", 42.0, map[string]any{"a": []any{1.0, "b"}, "u": "é✓"}}
			if !reflect.DeepEqual(got.Echo, wantEcho) {
				t.Errorf("echo = %#v, want %#v", got.Echo, wantEcho)
			}
			wantBin := []any{[]any{1.0, 2.0, 3.0, 255.0}, []any{4.0}, 1.0}
			if !reflect.DeepEqual(got.EchoBinary, wantBin) {
				t.Errorf("binary echo = %v, want %v", got.EchoBinary, wantBin)
			}
			if !reflect.DeepEqual(got.BinaryMe, [][]int{{1, 2, 3}, {4}}) {
				t.Errorf("binary-me = %v", got.BinaryMe)
			}
			if got.Transport != tc.want {
				t.Errorf("transport = %s, want %s", got.Transport, tc.want)
			}
			if string(got.CustomAuth) != `{"token":"ok"}` || !reflect.DeepEqual(got.CustomEcho, []string{"in custom"}) {
				t.Errorf("custom namespace: auth %s, echo %v", got.CustomAuth, got.CustomEcho)
			}
			if got.Reject.Message != "unauthorized" || got.Reject.Data.Reason != "bad token" {
				t.Errorf("refused connection = %+v", got.Reject)
			}
			if got.Nope != "Invalid namespace" {
				t.Errorf("unknown namespace = %q", got.Nope)
			}
		})
	}
}

// wasmNodeModule is a Go module, written to a temporary folder, whose test
// runs in Chromium (compiled to wasm) and talks to the official Node.js
// server whose URL is in SIO_NODE_URL, through this module's Go client.
const wasmNodeTest = `//go:build js && wasm

package wasminterop

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/transport/wasm"
)

func connect(t *testing.T, nsp string, transports []string, auth any, handlers func(*client.Socket)) (*client.Socket, error) {
	t.Helper()
	opts := &client.Options{Transport: wasm.New(nil), Transports: transports, DisableReconnection: true}
	opts.Auth = auth
	s, err := client.New(os.Getenv("SIO_NODE_URL")+nsp, opts)
	if err != nil {
		t.Fatal(err)
	}
	if handlers != nil {
		handlers(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(s.Disconnect)
	return s, nil
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

var modes = []struct {
	name       string
	transports []string
	want       string
}{
	{"polling", []string{client.TransportPolling}, client.TransportPolling},
	{"websocket", []string{client.TransportWebSocket}, client.TransportWebSocket},
	{"upgrade", nil, client.TransportWebSocket},
}

func TestNodeEchoAndBinary(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			binary := make(chan []any, 1)
			s, err := connect(t, "/", m.transports, nil, func(s *client.Socket) {
				s.On("binary", func(e *sio.Event) {
					v, _ := e.Args.Values()
					binary <- v
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			got := call(t, s, "echo", "hello", 42, map[string]any{"a": []any{1, "b"}, "u": "é✓"})
			want := []any{"hello", 42.0, map[string]any{"a": []any{1.0, "b"}, "u": "é✓"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("echo = %#v, want %#v", got, want)
			}
			got = call(t, s, "echo", []byte{1, 2, 3, 255}, map[string]any{"nested": []byte{4}})
			want = []any{[]byte{1, 2, 3, 255}, map[string]any{"nested": []byte{4}}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("binary echo = %#v, want %#v", got, want)
			}
			call(t, s, "binary-me")
			select {
			case v := <-binary:
				want := []any{[]byte{1, 2, 3}, map[string]any{"nested": []byte{4}}}
				if !reflect.DeepEqual(v, want) {
					t.Errorf("binary event = %#v, want %#v", v, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no binary event")
			}
			deadline := time.Now().Add(10 * time.Second)
			for s.Manager().TransportName() != m.want {
				if time.Now().After(deadline) {
					t.Fatalf("transport = %s, want %s", s.Manager().TransportName(), m.want)
				}
				time.Sleep(20 * time.Millisecond) // polling for the upgrade, with a deadline
			}
		})
	}
}

func TestNodeNamespaces(t *testing.T) {
	auth := make(chan []any, 1)
	c, err := connect(t, "/custom", nil, map[string]string{"token": "ok"}, func(s *client.Socket) {
		s.On("auth", func(e *sio.Event) {
			v, _ := e.Args.Values()
			auth <- v
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-auth:
		if want := []any{map[string]any{"token": "ok"}}; !reflect.DeepEqual(v, want) {
			t.Errorf("auth = %#v, want %#v", v, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no auth event")
	}
	if got := call(t, c, "echo", "in custom"); !reflect.DeepEqual(got, []any{"in custom"}) {
		t.Errorf("echo in /custom = %#v", got)
	}
	if c.Namespace() != "/custom" {
		t.Errorf("namespace = %s", c.Namespace())
	}

	_, err = connect(t, "/custom", nil, map[string]string{"token": "reject"}, nil)
	var ce *client.ConnectError
	if !errors.As(err, &ce) || ce.Message != "unauthorized" || string(ce.Data) != ` + "`" + `{"reason":"bad token"}` + "`" + ` {
		t.Errorf("refused connection: %v (%#v)", err, ce)
	}
	_, err = connect(t, "/nope", nil, nil, nil)
	if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
		t.Errorf("unknown namespace: %v", err)
	}
}
`

// TestBrowserWASMClientNodeServer runs this module's Go client, compiled
// to wasm, in Chromium against the official Node.js socket.io server (a
// cross-origin server with CORS open): echo, binary both ways, namespaces,
// with each transport setting.
func TestBrowserWASMClientNodeServer(t *testing.T) {
	nodeenv.Require(t)
	ctx := browser.Start(t)
	nodeURL, _ := nodeenv.StartServer(t)

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
		"go.sum":               string(sum),
		"interop_wasm_test.go": wasmNodeTest,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasmPath := browser.BuildGoTest(t, dir)
	page := browser.GoTestHandler(t, wasmPath, []string{"-test.v", "-test.timeout=90s"}, map[string]string{"SIO_NODE_URL": nodeURL})
	srv := httptest.NewServer(page)
	t.Cleanup(srv.Close)
	browser.RunGoTest(t, ctx, srv.URL+"/", 2*time.Minute)
}
