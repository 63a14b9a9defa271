package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestNewDemoBuildCancelled interrupts the demo's first build (what Ctrl-C
// does to cmd/server, whose signal context is the one NewDemo gets): NewDemo
// returns the context's error once the go command has exited, and the web
// folder keeps no temporary .main-*.wasm file (nor a main.wasm). The go
// command is a stand-in on PATH that writes part of its output and then
// waits for an interrupt, as a long build would.
func TestNewDemoBuildCancelled(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in go command is a shell script")
	}
	bin := t.TempDir()
	script := `#!/bin/sh
out=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then out="$2"; fi
  shift
done
printf '\000asm' > "$out"
trap 'exit 130' INT
while :; do sleep 0.02; done
`
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	web := t.TempDir()
	if err := os.WriteFile(filepath.Join(web, "index.html"), []byte("<title>t</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	leftovers := func() []string {
		names, err := filepath.Glob(filepath.Join(web, ".main-*.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		return names
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		d, err := NewDemo(ctx, nil, web)
		if d != nil {
			_ = d.Shutdown(context.Background())
		}
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if names := leftovers(); len(names) == 1 {
			if info, err := os.Stat(names[0]); err == nil && info.Size() > 0 {
				break // the build is writing its output
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the build did not start")
		}
		time.Sleep(5 * time.Millisecond) // polling, bounded by the deadline
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("NewDemo: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("NewDemo did not return after the cancellation")
	}
	if names := leftovers(); len(names) > 0 {
		t.Errorf("temporary files left: %v", names)
	}
	if _, err := os.Stat(filepath.Join(web, "main.wasm")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("main.wasm: %v, want none", err)
	}
}
