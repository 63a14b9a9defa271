package browser

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosio/socketio/web/webassets"
)

// BuildGoTest compiles the tests of the Go package in pkgDir for js/wasm
// (GOOS=js GOARCH=wasm go test -c) and returns the path of the binary, so
// that package tests that need a real browser can run in a tab with
// GoTestHandler and RunGoTest.
func BuildGoTest(t testing.TB, pkgDir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "test.wasm")
	cmd := exec.Command("go", "test", "-c", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("browser: building the tests of %s for js/wasm: %v\n%s", pkgDir, err, output)
	}
	return out
}

// goTestPage runs the test binary and records its exit code in
// window.goExit (-1 if it could not start). The Go test output goes to the
// console line by line.
var goTestPage = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8">
<title>go test</title>
<link rel="icon" href="data:,">
<script src="wasm_exec.js"></script>
<script>
(async () => {
  try {
    const go = new Go();
    go.argv = {{.Argv}};
    go.env = {{.Env}};
    go.exit = (code) => { window.goExit = code; };
    const { instance } = await WebAssembly.instantiateStreaming(fetch("test.wasm"), go.importObject);
    await go.run(instance);
  } catch (err) {
    console.error("go test page:", err);
    window.goExit = -1;
  }
})();
</script>`))

// GoTestHandler serves a page at "/" that runs the test binary wasmPath
// (from BuildGoTest) with the test flags args (e.g. "-test.v") and the
// environment env, plus the /wasm_exec.js and /test.wasm it loads. Mount it
// next to the endpoints the tests talk to, so that they share an origin.
func GoTestHandler(t testing.TB, wasmPath string, args []string, env map[string]string) http.Handler {
	t.Helper()
	execJS, err := webassets.WASMExecPath()
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if env == nil {
		env = map[string]string{}
	}
	argv, err := json.Marshal(append([]string{"test.wasm"}, args...))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	envJSON, err := json.Marshal(env)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	data := struct{ Argv, Env template.JS }{template.JS(argv), template.JS(envJSON)}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := goTestPage.Execute(w, data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, execJS)
	})
	mux.HandleFunc("GET /test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasmPath)
	})
	return mux
}

// RunGoTest loads pageURL (where a GoTestHandler is mounted) in the tab,
// waits up to timeout for the Go test binary to exit and fails t unless
// its exit code is 0. The test output reaches the test log through the
// console forwarding of the tab.
func RunGoTest(t testing.TB, ctx context.Context, pageURL string, timeout time.Duration) {
	t.Helper()
	Navigate(t, ctx, pageURL)
	if err := Poll(ctx, `window.goExit !== undefined`, timeout); err != nil {
		t.Fatalf("browser: the Go test binary did not exit within %v: %v", timeout, err)
	}
	if code := Eval[int](t, ctx, `window.goExit`); code != 0 {
		t.Fatalf("browser: the Go test binary exited with code %d (output above)", code)
	}
}
