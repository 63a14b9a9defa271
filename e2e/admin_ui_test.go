package e2e

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/gosio/socketio/e2e/internal/browser"
	"github.com/gosio/socketio/internal/nodeenv"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/admin"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// TestAdminUI serves the official Admin UI (ui/dist of the
// @socket.io/admin-ui npm fixture) beside a Go server instrumented by
// package admin, logs in from headless Chromium, and checks that the UI
// lists the connected sockets and that a room join and a disconnection
// done from the UI reach the Go sockets. It saves a screenshot of the
// sockets page (in the test's artifact directory with -artifacts, else
// in a temporary directory named in the log, or in $SIO_ADMIN_SCREENSHOT_DIR).
func TestAdminUI(t *testing.T) {
	nodeenv.Require(t)
	dist := filepath.Join(nodeenv.Dir(), "node_modules", "@socket.io", "admin-ui", "ui", "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		t.Fatalf("the admin UI fixture is missing: %v", err)
	}

	srv := server.New(nil)
	h, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	adm, err := admin.Instrument(srv, &admin.Options{Auth: &admin.BasicAuth{Username: "admin", PasswordHash: string(h)}, ServerID: "go-node"})
	if err != nil {
		t.Fatal(err)
	}
	socks := make(chan *server.Socket, 8)
	srv.OnConnection(func(s *server.Socket) { socks <- s })
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/", http.FileServer(http.Dir(dist)))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = adm.Close()
		_ = srv.Close()
		hs.Close()
	})

	// A few clients, before the UI connects.
	const n = 3
	var (
		clients []*client.Socket
		served  = map[string]*server.Socket{}
	)
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		opts := &client.Options{Transport: native.New(nil), DisableReconnection: true}
		opts.Query = map[string][]string{"name": {"client" + strconv.Itoa(i)}}
		c, err := client.Dial(ctx, hs.URL+"/", opts)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Disconnect)
		clients = append(clients, c)
		s := <-socks
		served[s.ID()] = s
	}

	ctx := browser.Start(t)
	browser.Navigate(t, ctx, hs.URL+"/")
	// The connection dialog: server URL, username, password.
	browser.WaitTrue(t, ctx, `document.querySelectorAll('.v-dialog input').length >= 3`, 20*time.Second)
	browser.Eval[bool](t, ctx, `(() => {
		const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); };
		const inputs = document.querySelectorAll('.v-dialog input');
		set(inputs[0], location.origin);
		set(inputs[1], 'admin');
		set(document.querySelector('.v-dialog input[type=password]'), 's3cret');
		return true;
	})()`)
	browser.Eval[bool](t, ctx, `(document.querySelector('.v-dialog button[type=submit]').click(), true)`)

	// The sockets list shows every client.
	browser.Navigate(t, ctx, hs.URL+"/#/sockets/")
	for _, c := range clients {
		browser.WaitTrue(t, ctx, `document.body.innerText.includes(`+strconv.Quote(c.ID())+`)`, 20*time.Second, "document.body.innerText")
	}
	saveScreenshot(t, ctx, "admin-ui-sockets")

	// Join a room from the socket's page.
	target := clients[0].ID()
	s := served[target]
	browser.Navigate(t, ctx, hs.URL+"/#/n/%2F/sockets/"+target)
	browser.WaitTrue(t, ctx, `document.querySelector('form .select-room input') !== null`, 20*time.Second, "document.body.innerText")
	browser.Eval[bool](t, ctx, `(() => {
		const el = document.querySelector('form .select-room input');
		el.focus();
		el.value = 'from-the-ui';
		el.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`)
	browser.Eval[bool](t, ctx, `(document.querySelector('.select-room').closest('form').querySelector('button[type=submit]').click(), true)`)
	waitGo(t, "the socket to join the room", func() bool { return slices.Contains(s.Rooms(), "from-the-ui") })
	browser.WaitTrue(t, ctx, `document.body.innerText.includes('from-the-ui')`, 20*time.Second, "document.body.innerText")
	saveScreenshot(t, ctx, "admin-ui-socket")

	// Disconnect it from the UI.
	gone := make(chan sio.Reason, 1)
	clients[0].OnDisconnect(func(reason sio.Reason) { gone <- reason })
	browser.Eval[bool](t, ctx, `(() => {
		const icon = document.querySelector('.mdi-logout');
		icon.closest('button').click();
		return true;
	})()`)
	select {
	case r := <-gone:
		if r != sio.ReasonServerDisconnect {
			t.Errorf("disconnect reason %q, want %q", r, sio.ReasonServerDisconnect)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the client was not disconnected from the UI")
	}
	waitGo(t, "the server socket to disconnect", func() bool { return !s.Connected() })
	browser.Navigate(t, ctx, hs.URL+"/#/sockets/")
	browser.WaitTrue(t, ctx, `document.body.innerText.includes(`+strconv.Quote(clients[1].ID())+`) && !document.body.innerText.includes(`+strconv.Quote(target)+`)`, 20*time.Second, "document.body.innerText")
}

// waitGo polls cond until it holds, failing the test after 20 s.
func waitGo(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline, not a synchronisation
	}
}

// saveScreenshot saves a PNG of the page: in $SIO_ADMIN_SCREENSHOT_DIR when
// set, in the test's artifact directory with -artifacts, else in a
// temporary directory that the log names.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browser.StepTimeout)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("SIO_ADMIN_SCREENSHOT_DIR")
	if dir == "" {
		if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
			dir = t.ArtifactDir()
		} else if dir, err = os.MkdirTemp("", "sio-admin-ui-"); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 {
		t.Errorf("screenshot %s is only %d bytes", file, len(png))
	}
	t.Logf("screenshot saved to %s", file)
}
