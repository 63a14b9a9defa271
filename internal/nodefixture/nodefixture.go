// Package nodefixture gives tests the Node.js interop fixture of
// e2e/testdata/node: the official socket.io packages pinned by its
// package-lock.json.
//
// A fresh clone has no e2e/testdata/node/node_modules. Require installs it
// on first use with `npm ci` (once, however many test binaries ask at the
// same time: they take turns through a lock directory), so that
// `go test ./...` on a machine with Node.js runs the interop tests instead
// of skipping them silently — go test shows no skip message for a package
// that passes. Set SIO_NPM_CI=0 to turn the installation off.
//
// Without Node.js (or when npm ci fails) the test is skipped with one line
// saying what was skipped and the command that enables it; under CI=true it
// fails instead.
package nodefixture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// EnableCommand is the command that installs the fixture by hand.
const EnableCommand = "npm ci --prefix e2e/testdata/node"

const (
	// installTimeout bounds one npm ci.
	installTimeout = 10 * time.Minute
	// staleLock is the age after which a lock left by a killed test binary
	// is taken over.
	staleLock = installTimeout + time.Minute
)

// Dir returns the absolute path of e2e/testdata/node.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("nodefixture: runtime.Caller failed")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "e2e", "testdata", "node")
}

// installOnce remembers the outcome of the installation in this binary.
var installOnce = sync.OnceValue(func() error { return install(Dir()) })

// Require makes sure node is on PATH and the fixture is installed (see the
// package documentation), and returns node's path and the fixture's
// directory. modules are paths under node_modules that must exist
// ("socket.io", "@socket.io/redis-adapter"); by default socket.io and
// socket.io-client.
func Require(t testing.TB, modules ...string) (node, dir string) {
	t.Helper()
	if len(modules) == 0 {
		modules = []string{"socket.io", "socket.io-client"}
	}
	dir = Dir()
	node, err := exec.LookPath("node")
	if err == nil && !installed(dir, modules) {
		err = installOnce()
		if err == nil && !installed(dir, modules) {
			err = fmt.Errorf("npm ci did not install %v", modules)
		}
	}
	if err != nil {
		msg := fmt.Sprintf("skipped: Node.js interop test (%v); to run it: %s", err, EnableCommand)
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: the Node.js interop fixture is required: " + msg)
		}
		t.Skip(msg)
	}
	return node, dir
}

func installed(dir string, modules []string) bool {
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil {
			return false
		}
	}
	return true
}

// install runs npm ci in dir unless another test binary did it meanwhile.
// The lock is a directory (os.Mkdir is atomic everywhere); it is taken over
// when older than staleLock, as a killed binary cannot remove it.
func install(dir string) error {
	if os.Getenv("SIO_NPM_CI") == "0" {
		return errors.New("node_modules missing and SIO_NPM_CI=0")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("node_modules missing and npm not found: %w", err)
	}
	lock := filepath.Join(dir, ".npm-ci.lock")
	deadline := time.Now().Add(staleLock)
	for {
		err := os.Mkdir(lock, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		if info, serr := os.Stat(lock); serr == nil && time.Since(info.ModTime()) > staleLock {
			_ = os.Remove(lock)
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for another npm ci (lock %s)", lock)
		}
		time.Sleep(200 * time.Millisecond) // another binary is installing; poll its lock
	}
	defer os.Remove(lock)
	if installed(dir, []string{"socket.io", "socket.io-client"}) {
		return nil // done by the binary that held the lock
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("node_modules missing and npm ci failed: %w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
