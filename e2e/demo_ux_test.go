package e2e

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gosio/socketio/e2e/internal/browser"
)

// The demo as a person sees it: what the page says when the connection
// fails and comes back, when the query is wrong, when two people pick the
// same name, and at phone width.

const errorText = `document.getElementById("error").textContent`

// TestDemoConnectionErrorCleared stops the server under a joined page: the
// page says it is reconnecting (in words, not a fetch error), shows the
// other users' presence as unknown, and once the server is back clears the
// error and shows them online again.
func TestDemoConnectionErrorCleared(t *testing.T) {
	bctx := browser.Start(t)
	ds := startDemoServer(t, "")
	alice := openDemo(t, bctx, true, ds.url()+"/?name=alice&room=out&autojoin=1")
	bob := openDemo(t, bctx, false, ds.url()+"/?name=bob&room=out&autojoin=1")
	online := `(() => { const li = [...document.querySelectorAll("#users li")];
		return li.map(l => l.textContent).join() === "alice,bob" && li.every(l => l.dataset.presence === "online"); })()`
	browser.WaitTrue(t, alice, online, demoWait, `document.getElementById("users").innerHTML`)
	if got := browser.Eval[string](t, alice, errorText); got != "" {
		t.Errorf("error shown while connected: %q", got)
	}

	addr, fresh := ds.addr, newDemo(t)
	ds.stop()
	// The failed attempts are reported for a person...
	browser.WaitTrue(t, alice, errorText+` === "Cannot reach the server — reconnecting…"`, demoWait, errorText, `JSON.stringify(demo.state())`)
	// ...and nobody is shown online while we cannot know.
	unknown := `(() => { const li = [...document.querySelectorAll("#users li")];
		return li.length === 2 && li.every(l => l.dataset.presence === "unknown" && getComputedStyle(l, "::before").color !== "rgb(34, 197, 94)"); })()`
	browser.WaitTrue(t, alice, unknown, demoWait, `document.getElementById("users").innerHTML`)
	if browser.Eval[bool](t, alice, `demo.state().usersFresh`) {
		t.Error("usersFresh is true during the outage")
	}

	serveDemo(t, fresh, addr)
	for _, ctx := range []context.Context{alice, bob} {
		browser.WaitTrue(t, ctx, `demo.state().state === "connected" && demo.state().usersFresh`, demoWait, `JSON.stringify(demo.state())`)
	}
	browser.WaitTrue(t, alice, online, demoWait, `document.getElementById("users").innerHTML`)
	browser.WaitTrue(t, alice, errorText+` === ""`, demoWait, errorText)
}

// TestDemoBogusTransports opens the page with a transports value the client
// does not know: the page explains it and the Go program keeps running
// (the status ticker used to dereference the missing manager).
func TestDemoBogusTransports(t *testing.T) {
	bctx := browser.Start(t)
	ds := startDemoServer(t, "")
	browser.Navigate(t, bctx, ds.url()+"/?transports=bogus")
	browser.WaitTrue(t, bctx, `window.demo && demo.state().loaded`, demoWait, `document.getElementById("status").textContent`)
	want := `Cannot start the client: unknown transports "bogus" (use polling, websocket or polling,websocket)`
	browser.WaitTrue(t, bctx, errorText+` === `+strconv.Quote(want), demoWait, errorText)
	// Let the page's tickers run several times (transport check every
	// 250 ms) before checking that the program is still alive.
	browser.WaitTrue(t, bctx, `performance.now() > 2000`, demoWait)
	if got := browser.Eval[string](t, bctx, `document.getElementById("status").textContent`); got != "wasm loaded" {
		t.Fatalf("footer = %q: the Go program stopped", got)
	}
	// It still answers: joining explains why it cannot.
	browser.Eval[any](t, bctx, `demo.join("x", "y")`)
	browser.WaitTrue(t, bctx, `document.getElementById("join-error").textContent.startsWith("The client is not running")`, demoWait,
		`document.getElementById("join-error").textContent`)
	if got := browser.Eval[string](t, bctx, `demo.state().state`); got != "not started" {
		t.Errorf("state = %q, want not started", got)
	}
}

// TestDemoDuplicateNames joins two tabs under the same name: the second is
// renamed, and each page marks only its own name as "me".
func TestDemoDuplicateNames(t *testing.T) {
	bctx := browser.Start(t)
	ds := startDemoServer(t, "")
	one := openDemo(t, bctx, true, ds.url()+"/?name=sam&room=dup&autojoin=1")
	browser.WaitTrue(t, one, `demo.state().joined`, demoWait, `JSON.stringify(demo.state())`)
	two := openDemo(t, bctx, false, ds.url()+"/?name=sam&room=dup&autojoin=1")
	both := `[...document.querySelectorAll("#users li")].map(li => li.textContent).join() === "sam,sam 2"`
	for _, ctx := range []context.Context{one, two} {
		browser.WaitTrue(t, ctx, both, demoWait, `document.getElementById("users").innerHTML`)
	}
	for ctx, want := range map[context.Context]string{one: "sam", two: "sam 2"} {
		if got := browser.Eval[string](t, ctx, `[...document.querySelectorAll("#users li.me")].map(li => li.textContent).join()`); got != want {
			t.Errorf("marked as me: %q, want %q", got, want)
		}
	}
}

// TestDemoLayout checks that the page fits a 390 px wide phone without
// horizontal scrolling (join form and chat with long content), and saves
// screenshots at 390 and 1280 px to the artifact folder (see artifactDir).
func TestDemoLayout(t *testing.T) {
	bctx := browser.Start(t)
	ds := startDemoServer(t, "")
	dir := artifactDir(t)
	fits := `document.documentElement.scrollWidth <= document.documentElement.clientWidth && document.body.scrollWidth <= document.documentElement.clientWidth`
	widths := `JSON.stringify({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, client: document.documentElement.clientWidth,
		wide: [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map(e => e.tagName + "#" + e.id + "." + e.className).slice(0, 10)})`

	setWidth := func(ctx context.Context, w, h int64) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, browser.StepTimeout)
		defer cancel()
		if err := chromedp.Do(sctx, chromedp.EmulateViewport(w, h)); err != nil {
			t.Fatal(err)
		}
	}
	shoot := func(ctx context.Context, name string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, browser.StepTimeout)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot saved to %s", file)
	}

	alice := openDemo(t, bctx, true, ds.url()+"/")
	setWidth(alice, 390, 844)
	browser.WaitTrue(t, alice, `document.documentElement.clientWidth === 390`, demoWait)
	browser.WaitTrue(t, alice, fits, demoWait, widths)
	shoot(alice, "demo-join-390")

	bob := openDemo(t, bctx, false, ds.url()+"/?name=bob_with_a_rather_long_name_x&room=layout&autojoin=1")
	browser.Navigate(t, alice, ds.url()+"/?name=alice&room=layout&autojoin=1")
	browser.WaitTrue(t, alice, `window.demo && demo.state().joined && demo.state().users.length === 2`, demoWait, `JSON.stringify(window.demo && demo.state())`)
	browser.Eval[string](t, bob, `demo.send("a long word: `+longWord+`")`)
	browser.Eval[string](t, alice, `demo.send("hello from a phone")`)
	browser.WaitTrue(t, alice, `demo.state().messages.length === 2 && demo.state().messages.every(m => m.delivered)`, demoWait, `JSON.stringify(demo.state().messages)`)
	browser.Eval[any](t, alice, `demo.typing(true)`)
	browser.WaitTrue(t, bob, `document.getElementById("typing").textContent !== ""`, demoWait)
	browser.WaitTrue(t, alice, fits, demoWait, widths)
	shoot(alice, "demo-chat-390")

	setWidth(alice, 1280, 800)
	browser.WaitTrue(t, alice, `document.documentElement.clientWidth === 1280`, demoWait)
	browser.WaitTrue(t, alice, fits, demoWait, widths)
	shoot(alice, "demo-chat-1280")
}

const longWord = "Supercalifragilisticexpialidocious_and_then_some_more_characters_without_any_break"

// artifactDir returns where a test writes files worth keeping: under
// $ARTIFACTS when set (CI uploads it), the test's artifact folder with
// go test -artifacts, otherwise a temporary folder removed after the test.
// Never in the source tree: pictures are not committed.
func artifactDir(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("ARTIFACTS"); root != "" {
		dir := filepath.Join(root, fileName(t.Name()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		return t.ArtifactDir()
	}
	return t.TempDir()
}

// fileName makes s safe as a file name.
func fileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
