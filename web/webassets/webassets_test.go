//go:build !js

package webassets

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFile writes content to root/name, creating folders, with mtime at.
func writeFile(t *testing.T, root, name, content string, at time.Time) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	require.NoError(t, os.Chtimes(path, at, at))
}

// touch sets the mtime of root/name.
func touch(t *testing.T, root, name string, at time.Time) {
	t.Helper()
	require.NoError(t, os.Chtimes(filepath.Join(root, filepath.FromSlash(name)), at, at))
}

const mainGo = `//go:build js && wasm

package main

import "syscall/js"

func main() { js.Global().Set("built", true) }
`

// newModule lays out a module like this repository's, every file at t0, and
// returns the root.
func newModule(t *testing.T, t0 time.Time) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, root, "go.mod", "module example.com/m\n\ngo 1.26\n", t0)
	writeFile(t, root, "web/main.go", mainGo, t0)
	writeFile(t, root, "web/index.html", "<p id=status>hi</p>", t0)
	writeFile(t, root, "web/.secret", "hidden", t0)
	writeFile(t, root, "web/webassets/a.go", "package webassets\n", t0)
	writeFile(t, root, "sio/sio.go", "package sio\n", t0)
	writeFile(t, root, "sio/eio/testdata/x.go", "package x\n", t0)
	writeFile(t, root, "transport/wasm/wasm.go", "package wasm\n", t0)
	writeFile(t, root, "transport/native/native.go", "package native\n", t0)
	return root
}

func TestIsStale(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	later := t0.Add(time.Hour)
	tests := []struct {
		name  string
		edit  func(t *testing.T, root string) // after main.wasm is written at t0
		stale bool
	}{
		{"fresh", func(*testing.T, string) {}, false},
		{"missing", func(t *testing.T, root string) { require.NoError(t, os.Remove(filepath.Join(root, "web", WASMName))) }, true},
		{"web source", func(t *testing.T, root string) { touch(t, root, "web/main.go", later) }, true},
		{"web subfolder source", func(t *testing.T, root string) { writeFile(t, root, "web/sub/a.go", "package sub", later) }, true},
		{"sio source", func(t *testing.T, root string) { touch(t, root, "sio/sio.go", later) }, true},
		{"transport/wasm source", func(t *testing.T, root string) { touch(t, root, "transport/wasm/wasm.go", later) }, true},
		{"go.mod", func(t *testing.T, root string) { touch(t, root, "go.mod", later) }, true},
		{"go.sum", func(t *testing.T, root string) { writeFile(t, root, "go.sum", "", later) }, true},
		{"non-Go file", func(t *testing.T, root string) { touch(t, root, "web/index.html", later) }, false},
		{"testdata", func(t *testing.T, root string) { touch(t, root, "sio/eio/testdata/x.go", later) }, false},
		{"other transport", func(t *testing.T, root string) { touch(t, root, "transport/native/native.go", later) }, false},
		{"older source", func(t *testing.T, root string) { touch(t, root, "sio/sio.go", t0.Add(-time.Hour)) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := newModule(t, t0)
			writeFile(t, root, "web/"+WASMName, "wasm", t0)
			tc.edit(t, root)
			stale, err := isStale(filepath.Join(root, "web"))
			require.NoError(t, err)
			assert.Equal(t, tc.stale, stale)
		})
	}
}

func TestIsStaleWithoutModule(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, WASMName, "wasm", time.Now())
	_, err := isStale(dir)
	assert.ErrorContains(t, err, "no go.mod")
}

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"":                         false,
		"gzip":                     true,
		"GZIP":                     true,
		"gzip, deflate, br, zstd":  true,
		"br;q=1.0, gzip;q=0.8":     true,
		"deflate, br":              false,
		"gzip;q=0":                 false,
		"gzip; q=0.000, *":         false,
		"*":                        true,
		"*;q=0":                    false,
		"identity":                 false,
		"x-gzip":                   true,
		"deflate, gzip ; q = 0.5 ": true,
	}
	for header, want := range tests {
		assert.Equal(t, want, acceptsGzip(header), "Accept-Encoding: %q", header)
	}
}

// serve runs one request through h and returns the recorded response.
func serve(h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	root := newModule(t, t0)
	dir := filepath.Join(root, "web")
	// A fresh main.wasm: Handler must serve it as it is, without a build.
	wasm := bytes.Repeat([]byte("\x00asm not really wasm "), 500)
	writeFile(t, root, "web/"+WASMName, string(wasm), time.Now())

	h, err := Handler(t.Context(), dir, nil)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, WASMName))
	require.NoError(t, err)
	require.Equal(t, wasm, got, "a fresh main.wasm must not be rebuilt")

	t.Run("wasm identity", func(t *testing.T) {
		w := serve(h, "GET", "/main.wasm", nil)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "application/wasm", w.Header().Get("Content-Type"))
		assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
		assert.Empty(t, w.Header().Get("Content-Encoding"))
		assert.Contains(t, w.Header().Values("Vary"), "Accept-Encoding")
		assert.NotEmpty(t, w.Header().Get("ETag"))
		assert.Equal(t, wasm, w.Body.Bytes())
	})

	t.Run("wasm gzip", func(t *testing.T) {
		w := serve(h, "GET", "/main.wasm", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "application/wasm", w.Header().Get("Content-Type"))
		assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"))
		assert.Less(t, w.Body.Len(), len(wasm)/4, "the repetitive body must compress")
		zr, err := gzip.NewReader(w.Body)
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, wasm, plain)

		identity := serve(h, "GET", "/main.wasm", nil).Header().Get("ETag")
		assert.NotEqual(t, identity, w.Header().Get("ETag"), "the two encodings need distinct ETags")
	})

	t.Run("wasm revalidation", func(t *testing.T) {
		for _, enc := range []string{"", "gzip"} {
			first := serve(h, "GET", "/main.wasm", map[string]string{"Accept-Encoding": enc})
			etag := first.Header().Get("ETag")
			w := serve(h, "GET", "/main.wasm", map[string]string{"Accept-Encoding": enc, "If-None-Match": etag})
			assert.Equal(t, http.StatusNotModified, w.Code, "encoding %q", enc)
			assert.Zero(t, w.Body.Len())
			assert.Equal(t, etag, w.Header().Get("ETag"))

			w = serve(h, "GET", "/main.wasm", map[string]string{"Accept-Encoding": enc, "If-None-Match": `"other"`})
			assert.Equal(t, http.StatusOK, w.Code, "encoding %q", enc)
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		w := serve(h, "HEAD", "/main.wasm", nil)
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Zero(t, w.Body.Len())
	})

	t.Run("wasm_exec.js", func(t *testing.T) {
		path, err := WASMExecPath()
		require.NoError(t, err)
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		w := serve(h, "GET", "/wasm_exec.js", nil)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "text/javascript; charset=utf-8", w.Header().Get("Content-Type"))
		assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
		assert.Equal(t, want, w.Body.Bytes())
		w = serve(h, "GET", "/wasm_exec.js", map[string]string{"If-None-Match": w.Header().Get("ETag")})
		assert.Equal(t, http.StatusNotModified, w.Code)
	})

	t.Run("static", func(t *testing.T) {
		w := serve(h, "GET", "/", nil)
		require.Equal(t, http.StatusOK, w.Code)
		assert.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "text/html"))
		assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
		assert.Equal(t, "<p id=status>hi</p>", w.Body.String())
	})

	t.Run("hidden", func(t *testing.T) {
		for _, path := range []string{"/main.go", "/.secret", "/webassets/", "/webassets/webassets.go"} {
			assert.Equal(t, http.StatusNotFound, serve(h, "GET", path, nil).Code, path)
		}
	})

	t.Run("method", func(t *testing.T) {
		assert.Equal(t, http.StatusMethodNotAllowed, serve(h, "POST", "/main.wasm", nil).Code)
	})
}

// TestEnsureWASMBuilds runs the real go command on a tiny program.
func TestEnsureWASMBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm binary")
	}
	t0 := time.Now().Add(-time.Hour)
	root := newModule(t, t0)
	dir := filepath.Join(root, "web")
	wasmPath := filepath.Join(dir, WASMName)

	require.NoError(t, EnsureWASM(t.Context(), dir))
	first, err := os.ReadFile(wasmPath)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(first, []byte("\x00asm")), "not a wasm module")
	stale, err := isStale(dir)
	require.NoError(t, err)
	assert.False(t, stale)

	// Up to date: no rebuild, so the mtime we set survives.
	old := t0.Add(30 * time.Minute)
	touch(t, root, "web/"+WASMName, old)
	require.NoError(t, EnsureWASM(t.Context(), dir))
	info, err := os.Stat(wasmPath)
	require.NoError(t, err)
	assert.True(t, info.ModTime().Equal(old), "rebuilt although up to date")

	// A newer source: rebuilt.
	touch(t, root, "sio/sio.go", old.Add(time.Minute))
	require.NoError(t, EnsureWASM(t.Context(), dir))
	info, err = os.Stat(wasmPath)
	require.NoError(t, err)
	assert.True(t, info.ModTime().After(old.Add(time.Minute)), "not rebuilt")

	// No temporary files are left behind.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), ".main-"), "leftover %s", e.Name())
	}
}

func TestEnsureWASMReportsBuildErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root := newModule(t, time.Now().Add(-time.Hour))
	writeFile(t, root, "web/main.go", "//go:build js && wasm\n\npackage main\n\nfunc main() { undefined() }\n", time.Now())
	err := EnsureWASM(t.Context(), filepath.Join(root, "web"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "undefined")
	_, statErr := os.Stat(filepath.Join(root, "web", WASMName))
	assert.ErrorIs(t, statErr, os.ErrNotExist)
}

// TestHandlerLogsBuild: when Handler builds main.wasm it says so first (the
// first build takes minutes and a silent server looks hung), then how long
// it took, and its summary line says built=true; with nothing to build it
// logs no build at all.
func TestHandlerLogsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm program")
	}
	root := newModule(t, time.Now().Add(-time.Hour))
	dir := filepath.Join(root, "web")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	_, err := Handler(t.Context(), dir, logger)
	require.NoError(t, err)
	out := logs.String()
	building := strings.Index(out, "building the browser client…")
	built := strings.Index(out, "msg=\"built the browser client\" took=")
	ready := strings.Index(out, "web assets ready")
	require.True(t, building >= 0 && built > building && ready > built, "log:\n%s", out)
	assert.Contains(t, out[ready:], "built=true")
	assert.NotContains(t, out, "built=false")

	logs.Reset()
	_, err = Handler(t.Context(), dir, logger)
	require.NoError(t, err)
	assert.NotContains(t, logs.String(), "building")
	assert.Contains(t, logs.String(), "built=false")
}
