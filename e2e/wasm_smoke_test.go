package e2e

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosio/socketio/e2e/internal/browser"
	"github.com/gosio/socketio/web/webassets"
)

// TestWASMSmoke builds web/ to main.wasm (if stale), serves the folder the
// way cmd/server does and checks in headless Chromium that the Go program
// ran, loaded with instantiateStreaming and gzip.
func TestWASMSmoke(t *testing.T) {
	ctx := browser.Start(t) // skips without Chromium, before the build
	h, err := webassets.Handler(t.Context(), filepath.Join("..", "web"), slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	browser.Navigate(t, ctx, srv.URL+"/")
	browser.WaitTrue(t, ctx, `document.getElementById("status").textContent === "wasm loaded"`, 30*time.Second,
		`document.getElementById("status").textContent`)

	// The wasm came compressed: fewer bytes on the wire than decoded.
	sizes := browser.Eval[[]int](t, ctx, `(() => {
		const e = performance.getEntriesByType("resource").find(e => e.name.endsWith("/main.wasm"));
		return [e.encodedBodySize, e.decodedBodySize];
	})()`)
	if len(sizes) != 2 || sizes[0] <= 0 || sizes[0]*2 > sizes[1] {
		t.Errorf("main.wasm encoded/decoded body sizes = %v, want gzip (at least 2x smaller)", sizes)
	}
}
