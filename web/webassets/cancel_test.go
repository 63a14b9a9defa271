//go:build !js

package webassets

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGo writes a stand-in for the go command: "build ... -o OUT ." writes
// wasm magic to OUT, then, with hang, waits for an interrupt the way a
// long build would.
func fakeGo(t *testing.T, hang bool) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in go command is a shell script")
	}
	script := `#!/bin/sh
out=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then out="$2"; fi
  shift
done
printf '\000asm' > "$out"
`
	if hang {
		script += "trap 'exit 130' INT\nwhile :; do sleep 0.02; done\n"
	}
	path := filepath.Join(t.TempDir(), "go")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path
}

// tempFiles returns the build's temporary files in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, tmpPattern))
	require.NoError(t, err)
	return names
}

// TestEnsureWASMCancelled: a build interrupted by its context (as
// cmd/server's is by Ctrl-C) returns the context's error once the go
// command has exited, and leaves neither its temporary file nor main.wasm.
func TestEnsureWASMCancelled(t *testing.T) {
	goTool := fakeGo(t, true)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := ensureWASM(ctx, goTool, dir)
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		names := tempFiles(t, dir)
		if len(names) == 1 {
			if info, err := os.Stat(names[0]); err == nil && info.Size() > 0 {
				break // the build is writing its output
			}
		}
		require.True(t, time.Now().Before(deadline), "the build did not start")
		time.Sleep(5 * time.Millisecond) // polling, bounded by the deadline
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled build did not return")
	}
	assert.Empty(t, tempFiles(t, dir), "the temporary file is removed")
	assert.NoFileExists(t, filepath.Join(dir, WASMName))
}

// TestEnsureWASMRemovesLeftovers: a build removes the temporary files a
// killed process left, but not one a build under way may be writing.
func TestEnsureWASMRemovesLeftovers(t *testing.T) {
	goTool := fakeGo(t, false)
	dir := t.TempDir()
	old := filepath.Join(dir, ".main-111.wasm")
	recent := filepath.Join(dir, ".main-222.wasm")
	require.NoError(t, os.WriteFile(old, []byte("partial"), 0o644))
	require.NoError(t, os.WriteFile(recent, []byte("partial"), 0o644))
	long := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(old, long, long))

	built, err := ensureWASM(t.Context(), goTool, dir)
	require.NoError(t, err)
	assert.True(t, built)
	assert.FileExists(t, filepath.Join(dir, WASMName))
	assert.Equal(t, []string{recent}, tempFiles(t, dir))
}
