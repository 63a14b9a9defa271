//go:build !js

package webassets

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Size budget of the demo's main.wasm, built as EnsureWASM builds it
// (GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w"), gzip measured
// with compress/gzip at BestCompression (a few kB larger than gzip -9).
//
// The budget, 4,100,000 bytes raw and 1,200,000 gzipped (about 4.01 MB and
// 1.09 MB now), was 4,000,000 raw until the parser interface, typed events,
// the symmetric socket API and the shared ordered executor added about
// 90 kB of code (2026-12-05; no new standard package). The browser-side
// packages use neither fmt nor encoding/json's code (sio/internal/jsonx
// replaces its Marshal, Unmarshal and Valid in js/wasm builds,
// sio/internal/errs replaces fmt.Errorf), which together weigh about 0.9 MB
// of WebAssembly. Never raise these without a reason.
const (
	maxWASMRaw  = 4_100_000
	maxWASMGzip = 1_200_000
)

// TestWASMSize builds the demo (the web folder) and fails when main.wasm
// grows past the budget. What keeps it small: no fmt, encoding/json calls
// (other than through sio/internal/jsonx), log/slog, net/url, errors.As,
// reflect.Value.Convert or generic sorts in the browser-side packages (sio,
// sio/client, sio/parser, sio/eio, transport/wasm, web).
func TestWASMSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo's wasm binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out := filepath.Join(t.TempDir(), WASMName)
	require.NoError(t, build(t.Context(), goTool, "..", out))
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	var gz bytes.Buffer
	w, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(raw)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	t.Logf("main.wasm: %d bytes, %d gzipped", len(raw), gz.Len())
	if len(raw) > maxWASMRaw {
		t.Errorf("main.wasm is %d bytes, budget %d", len(raw), maxWASMRaw)
	}
	if gz.Len() > maxWASMGzip {
		t.Errorf("main.wasm is %d bytes gzipped, budget %d", gz.Len(), maxWASMGzip)
	}
}
