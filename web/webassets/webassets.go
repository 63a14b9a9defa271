//go:build !js

// Package webassets serves the browser demo: the static files of the web/
// folder, the Go toolchain's wasm_exec.js and main.wasm, the Go program of
// that folder compiled to WebAssembly. It is shared by cmd/server and the
// end-to-end tests.
//
// main.wasm is a build output. [EnsureWASM] (called by [Handler]) rebuilds
// it when it is missing or older than the sources it is made from, with the
// go command found on PATH; wasm_exec.js comes from the GOROOT of that same
// go command, because the two must match. Both are read once into memory;
// main.wasm is also gzip-compressed once. They are served with an ETag and
// "Cache-Control: no-cache", so browsers revalidate and get 304 Not Modified
// until the server restarts with a different build.
package webassets

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WASMName is the file name of the compiled program inside the web folder.
const WASMName = "main.wasm"

// Handler returns a handler for the web folder dir: GET /main.wasm (built
// first if stale, see [EnsureWASM]; ctx cancels the build), GET
// /wasm_exec.js and every other file of dir except Go sources. logger may
// be nil.
func Handler(ctx context.Context, dir string, logger *slog.Logger) (http.Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("webassets: the go command is needed to build the wasm: %w", err)
	}
	start := time.Now()
	built, err := buildLogged(ctx, goTool, dir, logger)
	if err != nil {
		return nil, err
	}
	wasm, err := os.ReadFile(filepath.Join(dir, WASMName))
	if err != nil {
		return nil, fmt.Errorf("webassets: %w", err)
	}
	execPath, err := wasmExecPath(goTool)
	if err != nil {
		return nil, err
	}
	execJS, err := os.ReadFile(execPath)
	if err != nil {
		return nil, fmt.Errorf("webassets: %w", err)
	}
	wasmAsset, err := newAsset("application/wasm", wasm)
	if err != nil {
		return nil, err
	}
	execAsset, err := newAsset("text/javascript; charset=utf-8", execJS)
	if err != nil {
		return nil, err
	}
	logger.Info("web assets ready", "dir", dir, "built", built, "took", time.Since(start).Round(time.Millisecond),
		"wasm_bytes", len(wasmAsset.raw), "wasm_gzip_bytes", len(wasmAsset.gz), "wasm_exec", execPath)

	mux := http.NewServeMux()
	mux.Handle("GET /"+WASMName, wasmAsset)
	mux.Handle("GET /wasm_exec.js", execAsset)
	mux.Handle("GET /", staticFiles(dir))
	return mux, nil
}

// EnsureWASM builds dir/main.wasm from the Go package in dir when the file
// is missing or older than any .go file under dir, under the module's sio/
// and transport/wasm/ folders, or than go.mod and go.sum. It runs
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o main.wasm .
//
// in dir, writing to a temporary file (dir/.main-*.wasm) renamed into place
// so that a concurrent reader never sees a partial file. The temporary file
// is removed whatever happens to the build: it fails, or ctx ends (the go
// command is then interrupted, and waited for); the leftovers of a process
// killed outright are removed by the next build.
func EnsureWASM(ctx context.Context, dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("webassets: the go command is needed to build the wasm: %w", err)
	}
	_, err = ensureWASM(ctx, goTool, dir)
	return err
}

// buildLogged is ensureWASM telling logger when it builds and how long it
// took: the first build compiles the whole client for js/wasm, which takes
// a minute or more on a cold cache, and a silent server looks hung.
func buildLogged(ctx context.Context, goTool, dir string, logger *slog.Logger) (bool, error) {
	stale, err := isStale(dir)
	if err != nil || !stale {
		return false, err
	}
	logger.Info("building the browser client… (GOOS=js GOARCH=wasm; the first build takes a minute or more)", "out", filepath.Join(dir, WASMName))
	start := time.Now()
	built, err := ensureWASM(ctx, goTool, dir)
	if err != nil {
		return false, err
	}
	logger.Info("built the browser client", "took", time.Since(start).Round(time.Millisecond))
	return built, nil
}

// tmpPattern names the temporary files the build writes to.
const tmpPattern = ".main-*.wasm"

// leftoverAge is how old a temporary file must be to count as the
// leftover of a killed process rather than a build under way in another
// one (the e2e tests and cmd/server may build at the same time).
const leftoverAge = 15 * time.Minute

// ensureWASM is EnsureWASM with a resolved go command; it reports whether it
// built.
func ensureWASM(ctx context.Context, goTool, dir string) (bool, error) {
	stale, err := isStale(dir)
	if err != nil || !stale {
		return false, err
	}
	removeLeftovers(dir, time.Now().Add(-leftoverAge))
	tmp, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return false, fmt.Errorf("webassets: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // a no-op after the rename

	if err := build(ctx, goTool, dir, tmpName); err != nil {
		return false, err
	}
	if err := os.Rename(tmpName, filepath.Join(dir, WASMName)); err != nil {
		return false, fmt.Errorf("webassets: %w", err)
	}
	return true, nil
}

// buildWaitDelay is how long an interrupted go command has to clean up
// and exit before it is killed.
const buildWaitDelay = 5 * time.Second

// build compiles the Go package in dir for js/wasm into out. When ctx
// ends, the go command is interrupted rather than killed, so that it stops
// its compilers and removes its work folder, and build returns once it has
// exited.
func build(ctx context.Context, goTool, dir, out string) error {
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill() // no interrupt on Windows
		}
		return nil
	}
	cmd.WaitDelay = buildWaitDelay
	if output, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("webassets: building %s for js/wasm: %w", dir, context.Cause(ctx))
		}
		return fmt.Errorf("webassets: building %s for js/wasm: %w\n%s", dir, err, output)
	}
	return nil
}

// removeLeftovers removes the temporary files of dir last changed before
// before: those of builds whose process was killed.
func removeLeftovers(dir string, before time.Time) {
	names, _ := filepath.Glob(filepath.Join(dir, tmpPattern))
	for _, name := range names {
		if info, err := os.Stat(name); err == nil && info.ModTime().Before(before) {
			_ = os.Remove(name)
		}
	}
}

// WASMExecPath returns the path of the wasm_exec.js matching the go command
// on PATH.
func WASMExecPath() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("webassets: %w", err)
	}
	return wasmExecPath(goTool)
}

// wasmExecPath asks goTool for its GOROOT. runtime.GOROOT would describe the
// toolchain that built this program (and is empty with -trimpath), not the
// one that builds the wasm.
func wasmExecPath(goTool string) (string, error) {
	out, err := exec.Command(goTool, "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("webassets: go env GOROOT: %w", err)
	}
	goroot := strings.TrimSpace(string(out))
	if goroot == "" {
		return "", errors.New("webassets: go env GOROOT printed nothing")
	}
	return filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"), nil
}

// isStale reports whether dir/main.wasm is missing or older than one of its
// sources (see [EnsureWASM]). The module root is the nearest folder at or
// above dir holding a go.mod.
func isStale(dir string) (bool, error) {
	info, err := os.Stat(filepath.Join(dir, WASMName))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("webassets: %w", err)
	}
	built := info.ModTime()

	root, err := moduleRoot(dir)
	if err != nil {
		return false, err
	}
	newer := func(path string) (bool, error) {
		info, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("webassets: %w", err)
		}
		return info.ModTime().After(built), nil
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if n, err := newer(filepath.Join(root, f)); n || err != nil {
			return n, err
		}
	}
	for _, tree := range []string{dir, filepath.Join(root, "sio"), filepath.Join(root, "transport", "wasm")} {
		found := false
		err := filepath.WalkDir(tree, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && path == tree {
				return fs.SkipAll // the module has no such folder
			}
			if err != nil {
				return err
			}
			if d.IsDir() && path != tree && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return fs.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(d.Name(), ".go") {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.ModTime().After(built) {
				found = true
				return fs.SkipAll
			}
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("webassets: %w", err)
		}
		if found {
			return true, nil
		}
	}
	return false, nil
}

// moduleRoot returns the nearest folder at or above dir that holds go.mod.
func moduleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("webassets: %w", err)
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("webassets: no go.mod at or above %s", abs)
		}
		d = parent
	}
}

// asset is one in-memory file, served with an ETag and revalidation, and
// gzip-compressed when the client accepts it.
type asset struct {
	contentType string
	etag        string // of the raw bytes; the gzip form appends "-gzip"
	raw, gz     []byte
}

// newAsset compresses raw once and derives the ETag from its content.
func newAsset(contentType string, raw []byte) (*asset, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("webassets: %w", err)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("webassets: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("webassets: gzip: %w", err)
	}
	sum := sha256.Sum256(raw)
	return &asset{
		contentType: contentType,
		etag:        hex.EncodeToString(sum[:12]),
		raw:         raw,
		gz:          buf.Bytes(),
	}, nil
}

// ServeHTTP serves the asset. http.ServeContent handles HEAD, Range and
// If-None-Match (304) against the ETag set here.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	body, etag := a.raw, a.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = a.gz, a.etag+"-gzip"
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", strconv.Quote(etag))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip: listed,
// or matched by "*" when not listed, with a q-value above 0.
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// staticFiles serves dir with revalidation, hiding Go sources, dot files
// and build leftovers.
func staticFiles(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for seg := range strings.SplitSeq(r.URL.Path, "/") {
			if strings.HasPrefix(seg, ".") || strings.HasSuffix(seg, ".go") || seg == "webassets" {
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
