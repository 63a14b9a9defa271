package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosio/socketio/cmd/server/app"
	"github.com/gosio/socketio/e2e/internal/browser"
	"github.com/gosio/socketio/web/webassets"
)

// -demo-screenshot rewrites docs/demo.png (the README's picture) from
// TestDemoChat.
var demoScreenshot = flag.Bool("demo-screenshot", false, "TestDemoChat: save the screenshot of the demo to docs/demo.png")

const demoWait = 30 * time.Second

// demoBuild builds web/main.wasm once per test binary if it is stale.
var demoBuild = sync.OnceValue(func() error { return webassets.EnsureWASM(context.Background(), filepath.Join("..", "web")) })

// demoServer is the demo served by httptest on a fixed address, which can
// be stopped and started again on the same port with a fresh Demo.
type demoServer struct {
	t    *testing.T
	addr string
	demo *app.Demo
	srv  *httptest.Server
}

// newDemo builds a demo of web/ (NewDemo compresses main.wasm, which takes
// a few seconds under -race).
func newDemo(t *testing.T) *app.Demo {
	t.Helper()
	if err := demoBuild(); err != nil {
		t.Fatal(err)
	}
	d, err := app.NewDemo(t.Context(), slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})), filepath.Join("..", "web"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startDemoServer serves a fresh demo on addr ("" for a free port).
func startDemoServer(t *testing.T, addr string) *demoServer {
	t.Helper()
	return serveDemo(t, newDemo(t), addr)
}

// serveDemo serves d on addr ("" for a free port).
func serveDemo(t *testing.T, d *app.Demo, addr string) *demoServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var (
		ln  net.Listener
		err error
	)
	// The port was just released by the previous server: retry briefly
	// in case the kernel has not made it available yet.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(d.Handler())
	srv.Listener = ln
	srv.Start()
	ds := &demoServer{t: t, addr: ln.Addr().String(), demo: d, srv: srv}
	t.Cleanup(ds.stop)
	return ds
}

// stop shuts the demo down and closes the server (idempotent).
func (ds *demoServer) stop() {
	if ds.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ds.demo.Shutdown(ctx); err != nil {
		ds.t.Errorf("demo shutdown: %v", err)
	}
	ds.srv.CloseClientConnections()
	ds.srv.Close()
	ds.srv = nil
}

func (ds *demoServer) url() string { return "http://" + ds.addr }

// openDemo opens the demo in a new tab with the query q and waits until it
// is connected.
func openDemo(t *testing.T, browserCtx context.Context, first bool, url string) context.Context {
	t.Helper()
	ctx := browserCtx
	if !first {
		ctx = browser.NewPage(t, browserCtx)
	}
	browser.Navigate(t, ctx, url)
	browser.WaitTrue(t, ctx, `window.demo && demo.state().state === "connected"`, demoWait, `JSON.stringify(window.demo && demo.state())`)
	return ctx
}

// serverTransport returns the transport of the server's socket id.
func serverTransport(d *app.Demo, id string) string {
	if s := d.IO.Sockets().Socket(id); s != nil {
		return s.Transport()
	}
	return "no socket " + id
}

// TestDemoTransports opens the demo with each transport setting and checks
// the status bar and what the server sees.
func TestDemoTransports(t *testing.T) {
	bctx := browser.Start(t)
	ds := startDemoServer(t, "")
	for i, tc := range []struct{ name, query, want string }{
		{"polling", "?transports=polling", "polling"},
		{"websocket", "?transports=websocket", "websocket"},
		{"upgrade", "", "websocket"}, // polling, then the upgrade
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := openDemo(t, bctx, i == 0, ds.url()+"/"+tc.query)
			browser.WaitTrue(t, ctx, `document.getElementById("st-transport").textContent === "`+tc.want+`"`, demoWait,
				`document.getElementById("st-transport").textContent`)
			id := browser.Eval[string](t, ctx, `demo.state().id`)
			if got := serverTransport(ds.demo, id); got != tc.want {
				t.Errorf("server-side transport = %s, want %s", got, tc.want)
			}
			// Which Engine.IO requests the page made.
			polled := browser.Eval[bool](t, ctx, `performance.getEntriesByType("resource").some(e => e.name.includes("transport=polling"))`)
			if want := tc.query != "?transports=websocket"; polled != want {
				t.Errorf("polling requests made = %v, want %v", polled, want)
			}
			browser.WaitTrue(t, ctx, `/^\d+ ms$/.test(document.getElementById("st-latency").textContent)`, demoWait,
				`document.getElementById("st-latency").textContent`)
			if tc.want == "polling" {
				// Still polling after a round trip: no upgrade happened.
				browser.WaitTrue(t, ctx, `demo.state().latency >= 0`, demoWait)
				if got := serverTransport(ds.demo, id); got != "polling" {
					t.Errorf("server-side transport = %s after a round trip, want polling", got)
				}
			}
			browser.Navigate(t, ctx, "about:blank")
		})
	}
}

// tinyPNG returns an 8x6 PNG and its base64.
func tinyPNG(t *testing.T) ([]byte, string) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for x := range 8 {
		for y := range 6 {
			img.Set(x, y, color.RGBA{uint8(x * 30), uint8(y * 40), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestDemoChat runs a conversation between two tabs: typing indicator,
// delivered ticks, received messages, an image, the online list.
func TestDemoChat(t *testing.T) {
	bctx := browser.Start(t)
	ds := startDemoServer(t, "")
	alice := openDemo(t, bctx, true, ds.url()+"/?name=alice&room=r1&autojoin=1")
	browser.WaitTrue(t, alice, `demo.state().joined`, demoWait, `JSON.stringify(demo.state())`)

	// bob joins through the form.
	bob := openDemo(t, bctx, false, ds.url()+"/")
	if err := chromedp.Do(bob,
		chromedp.SendKeys(chromedp.ID("name"), "bob"),
		chromedp.SendKeys(chromedp.ID("room"), "r1"),
		chromedp.Click(chromedp.ID("join-btn")),
	); err != nil {
		t.Fatal(err)
	}
	usersBoth := `[...document.querySelectorAll("#users li")].map(li => li.textContent).join() === "alice,bob"`
	browser.WaitTrue(t, bob, usersBoth, demoWait, `document.getElementById("users").textContent`)
	browser.WaitTrue(t, alice, usersBoth, demoWait, `document.getElementById("users").textContent`)
	if !browser.Eval[bool](t, bob, `document.getElementById("join-form").hidden && !document.getElementById("chat").hidden`) {
		t.Error("bob: the join form is still shown")
	}

	// alice types: bob sees the indicator.
	if err := chromedp.Do(alice, chromedp.SendKeys(chromedp.ID("text"), "hello bob")); err != nil {
		t.Fatal(err)
	}
	browser.WaitTrue(t, bob, `document.getElementById("typing").textContent === "alice is typing…"`, demoWait,
		`document.getElementById("typing").textContent`)
	// alice sends: delivered tick for her, the message for bob, and the
	// indicator goes away.
	if err := chromedp.Do(alice, chromedp.Click(chromedp.ID("send-btn"))); err != nil {
		t.Fatal(err)
	}
	browser.WaitTrue(t, alice, `(() => {
		const li = document.querySelector("#messages li.own");
		return li && li.querySelector(".text").textContent === "hello bob" &&
			li.querySelector(".tick").dataset.state === "delivered" && li.querySelector(".tick").textContent === "✓";
	})()`, demoWait, `document.getElementById("messages").innerHTML`)
	browser.WaitTrue(t, bob, `(() => {
		const li = document.querySelector("#messages li:not(.own)");
		return li && li.querySelector(".from").textContent === "alice" && li.querySelector(".text").textContent === "hello bob";
	})()`, demoWait, `document.getElementById("messages").innerHTML`)
	browser.WaitTrue(t, bob, `document.getElementById("typing").textContent === ""`, demoWait)

	// bob answers through the hook.
	id := browser.Eval[string](t, bob, `demo.send("hi alice!")`)
	browser.WaitTrue(t, bob, `demo.state().messages.some(m => m.id === "`+id+`" && m.own && m.delivered)`, demoWait,
		`JSON.stringify(demo.state().messages)`)
	browser.WaitTrue(t, alice, `demo.state().messages.some(m => m.id === "`+id+`" && m.from === "bob" && m.text === "hi alice!")`, demoWait,
		`JSON.stringify(demo.state().messages)`)

	if *demoScreenshot {
		saveDemoScreenshot(t, alice)
	}

	// bob shares an image: alice gets the bytes as binary and shows them.
	pngBytes, pngB64 := tinyPNG(t)
	imgID := browser.Eval[string](t, bob, `demo.sendImage(Uint8Array.from(atob("`+pngB64+`"), c => c.charCodeAt(0)), "image/png")`)
	browser.WaitTrue(t, bob, `demo.state().messages.some(m => m.id === "`+imgID+`" && m.delivered)`, demoWait,
		`JSON.stringify(demo.state().messages)`)
	sel := `document.querySelector('#messages li[data-id="` + imgID + `"] img')`
	browser.WaitTrue(t, alice, `(() => { const img = `+sel+`; return img && img.complete && img.naturalWidth === 8 && img.naturalHeight === 6; })()`,
		demoWait, `JSON.stringify(demo.state().messages)`)
	got := browser.Eval[string](t, alice, `(async () => {
		const r = await fetch(`+sel+`.src);
		const b = new Uint8Array(await r.arrayBuffer());
		return r.headers.get("content-type") + " " + btoa(String.fromCharCode(...b));
	})()`)
	if want := "image/png " + pngB64; got != want {
		t.Errorf("alice's image blob = %.80s, want %d bytes of image/png", got, len(pngBytes))
	}

	// bob leaves: alice's online list follows.
	if err := chromedp.Do(bob, chromedp.Click(chromedp.ID("leave"))); err != nil {
		t.Fatal(err)
	}
	browser.WaitTrue(t, alice, `[...document.querySelectorAll("#users li")].map(li => li.textContent).join() === "alice"`, demoWait,
		`document.getElementById("users").textContent`)
	if got := ds.demo.Users("r1"); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("server: users of r1 = %v, want [alice]", got)
	}
}

// saveDemoScreenshot writes a picture of the tab to docs/demo.png.
func saveDemoScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browser.StepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.EmulateViewport(900, 560)); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if len(shot) > 200<<10 {
		t.Fatalf("screenshot is %d bytes, want at most 200 KiB", len(shot))
	}
	dir := filepath.Join("..", "docs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved docs/demo.png (%d bytes)", len(shot))
}

// TestDemoReconnect restarts the server on the same port: both tabs
// reconnect by themselves, rejoin their room, and the messages alice sent
// while the server was down arrive at bob once each and in order.
func TestDemoReconnect(t *testing.T) {
	bctx := browser.Start(t)
	ds := startDemoServer(t, "")
	alice := openDemo(t, bctx, true, ds.url()+"/?name=alice&room=rc&autojoin=1")
	bob := openDemo(t, bctx, false, ds.url()+"/?name=bob&room=rc&autojoin=1")
	for _, ctx := range []context.Context{alice, bob} {
		browser.WaitTrue(t, ctx, `demo.state().users.join() === "alice,bob"`, demoWait, `JSON.stringify(demo.state())`)
	}
	before := browser.Eval[string](t, alice, `demo.send("before")`)
	browser.WaitTrue(t, bob, `demo.state().messages.some(m => m.id === "`+before+`")`, demoWait)

	// Stop the server: the pages notice and start retrying.
	addr, fresh := ds.addr, newDemo(t)
	ds.stop()
	for _, ctx := range []context.Context{alice, bob} {
		browser.WaitTrue(t, ctx, `demo.state().state !== "connected" && document.getElementById("st-state").dataset.state !== "connected"`,
			demoWait, `JSON.stringify(demo.state())`)
	}
	browser.WaitTrue(t, alice, `Number(document.getElementById("st-attempts").textContent) >= 1`, demoWait,
		`document.getElementById("st-attempts").textContent`)
	// alice writes while offline: pending, not delivered.
	var ids []string
	for i := range 3 {
		ids = append(ids, browser.Eval[string](t, alice, `demo.send("offline `+strconv.Itoa(i)+`")`))
	}
	browser.WaitTrue(t, alice, `document.querySelectorAll('#messages .tick[data-state="pending"]').length === 3`, demoWait,
		`document.getElementById("messages").innerHTML`)

	// A fresh server on the same port.
	ds2 := serveDemo(t, fresh, addr)
	for _, ctx := range []context.Context{alice, bob} {
		browser.WaitTrue(t, ctx, `demo.state().state === "connected" && demo.state().reconnects === 1 && demo.state().users.join() === "alice,bob"`,
			demoWait, `JSON.stringify(demo.state())`)
	}
	browser.WaitTrue(t, alice, `document.querySelectorAll('#messages .tick[data-state="delivered"]').length === 4`, demoWait,
		`document.getElementById("messages").innerHTML`)
	wantIDs := `["` + before + `","` + strings.Join(ids, `","`) + `"]`
	browser.WaitTrue(t, bob, `JSON.stringify(demo.state().messages.map(m => m.id)) === `+"`"+wantIDs+"`", demoWait,
		`JSON.stringify(demo.state().messages.map(m => m.text))`)
	if got := browser.Eval[int](t, bob, `document.querySelectorAll("#messages li").length`); got != 4 {
		t.Errorf("bob shows %d messages, want 4", got)
	}
	if got := ds2.demo.Users("rc"); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("new server: users of rc = %v", got)
	}

	// A dropped connection (not a restart) heals the same way.
	if n := ds2.demo.DropConnections(); n != 2 {
		t.Errorf("DropConnections = %d, want 2", n)
	}
	for _, ctx := range []context.Context{alice, bob} {
		browser.WaitTrue(t, ctx, `demo.state().state === "connected" && demo.state().reconnects === 2`, demoWait, `JSON.stringify(demo.state())`)
	}
	after := browser.Eval[string](t, alice, `demo.send("after")`)
	browser.WaitTrue(t, bob, `demo.state().messages.filter(m => m.id === "`+after+`").length === 1 && demo.state().messages.length === 5`, demoWait,
		`JSON.stringify(demo.state().messages.map(m => m.text))`)
}
