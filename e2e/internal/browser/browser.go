// Package browser is the headless Chromium harness of the end-to-end tests,
// built on chromedp v0.23's generic API.
//
// [Start] launches a browser for one test and returns the context of its
// first tab; [NewPage] opens another tab. Every tab forwards its console
// messages and uncaught exceptions to the test log, and saves a screenshot
// when the test fails. [Navigate], [Eval] and [WaitTrue] are the common
// steps; each gets its own deadline, derived from the tab's context, so a
// timeout fails one step without killing the browser.
package browser

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// StepTimeout bounds Navigate and Eval; WaitTrue takes its own.
const StepTimeout = 30 * time.Second

// chromiumPath finds the browser: /usr/bin/chromium, else chromium on PATH.
func chromiumPath() (string, bool) {
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian, true
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, true
	}
	return "", false
}

// Start launches headless Chromium for t, with a fresh profile and TMPDIR
// under t.TempDir(), and returns the context of its first tab. The browser
// is closed when t ends. Without Chromium the test is skipped, unless the
// environment variable CI is "true", where it fails.
//
// Use the returned context (or contexts derived from it) only from the test
// goroutine, one action at a time; open more tabs with NewPage.
func Start(t testing.TB) context.Context {
	t.Helper()
	path, ok := chromiumPath()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("browser: chromium not found (/usr/bin/chromium or on PATH), and CI=true")
		}
		t.Skip("browser: chromium not found (/usr/bin/chromium or on PATH)")
	}
	tmp := t.TempDir()
	profile, tmpDir := filepath.Join(tmp, "profile"), filepath.Join(tmp, "tmp")
	if err := os.Mkdir(tmpDir, 0o700); err != nil {
		t.Fatalf("browser: %v", err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		// Chrome leaves an org.chromium.Chromium.* folder in TMPDIR per start.
		chromedp.Env("TMPDIR="+tmpDir),
		chromedp.Headless,
		chromedp.NoSandbox, // needed as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	// No deadline: the first action binds the browser's life to this context.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully, waiting for the process to exit.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browser: closing: %v", err)
		}
		cancel()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: starting %s: %v", path, err)
	}
	watch(t, ctx, "tab 1")
	return ctx
}

// NewPage opens another tab in the browser of browserCtx (a context from
// Start) and returns its context. The tab closes when t ends.
func NewPage(t testing.TB, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: opening a tab: %v", err)
	}
	id := string(chromedp.FromContext(ctx).Target.TargetID)
	watch(t, ctx, "tab "+id[:min(len(id), 8)])
	return ctx
}

// watch forwards the console of the tab to the test log until t ends, and
// saves a screenshot if t failed. The cleanups run in reverse order of
// registration: screenshot first, then the forwarding stops, all before the
// tab and the browser close.
func watch(t testing.TB, ctx context.Context, name string) {
	consoleCtx, stop := context.WithCancel(ctx)
	messages := chromedp.Console(consoleCtx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return // the subscription ended
			}
			if m.Type == chromedp.ConsoleLog || m.URL == "" {
				t.Logf("%s: %s", name, m)
			} else {
				t.Logf("%s: %s (%s:%d)", name, m, m.URL, m.Line+1)
			}
		}
	})
	t.Cleanup(func() {
		stop()
		wg.Wait() // t.Logf after the test ended would panic
	})
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx, name)
		}
	})
}

// screenshot saves a PNG of the tab and logs its path. With go test
// -artifacts it goes to the test's artifact folder, otherwise to a new
// folder under the system's temporary folder, which is kept.
func screenshot(t testing.TB, ctx context.Context, name string) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("browser: screenshot of %s: %v", name, err)
		return
	}
	var dir string
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		dir = t.ArtifactDir()
	} else if dir, err = os.MkdirTemp("", "sio-e2e-"); err != nil {
		t.Logf("browser: screenshot of %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, fileName(t.Name()+"-"+name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Logf("browser: screenshot of %s: %v", name, err)
		return
	}
	t.Logf("browser: screenshot of %s saved to %s", name, file)
}

// fileName makes s safe as a file name.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// Navigate loads url in the tab and waits for its load event.
func Navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browser: navigating to %s: %v", url, err)
	}
}

// Eval evaluates the JavaScript expression in the tab, awaits it if it is a
// promise, and decodes the result into T.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browser: evaluating %s: %v", expr, err)
	}
	return v
}

// WaitTrue polls the JavaScript expression in the tab until it is truthy,
// and fails t if that does not happen within timeout. On failure it logs
// the value of the optional diagnostic expression explain.
func WaitTrue(t testing.TB, ctx context.Context, expr string, timeout time.Duration, explain ...string) {
	t.Helper()
	if err := Poll(ctx, expr, timeout); err != nil {
		for _, e := range explain {
			if v, err := chromedp.Run(ctx, chromedp.Evaluate[string]("String("+e+")")); err == nil {
				t.Logf("browser: %s = %s", e, v)
			}
		}
		t.Fatalf("browser: waiting for %s: %v", expr, err)
	}
}

// Poll waits until the JavaScript expression is truthy in the tab of ctx.
// It checks every 20ms (a timer, not requestAnimationFrame, so it also works
// in a tab that is not visible) and returns an error after timeout.
func Poll(ctx context.Context, expr string, timeout time.Duration) error {
	sctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(sctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(timeout)))
	return err
}
