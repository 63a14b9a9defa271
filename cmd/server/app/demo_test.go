package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/transport/native"
)

// testWebDir is a web folder with a fake, up-to-date main.wasm and a
// go.mod of its own, so that NewDemo does not build the real web app.
func testWebDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":     "module demo.test\n\ngo 1.26\n",
		"index.html": "<!doctype html><title>demo test</title>",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm := filepath.Join(dir, "main.wasm")
	if err := os.WriteFile(wasm, []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(wasm, future, future); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startDemo serves a demo with the test web folder.
func startDemo(t *testing.T) (*Demo, string) {
	t.Helper()
	d, err := NewDemo(t.Context(), nil, testWebDir(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		srv.Close()
	})
	return d, srv.URL
}

// peer is a Go client of the demo that records the events it gets.
type peer struct {
	t      *testing.T
	s      *client.Socket
	events chan *sio.Event
}

// newPeer connects a client; auth may be nil.
func newPeer(t *testing.T, url string, auth any, transports ...string) *peer {
	t.Helper()
	opts := &client.Options{Transport: native.New(nil), Transports: transports}
	opts.Auth = auth
	s, err := client.New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, s: s, events: make(chan *sio.Event, 100)}
	s.OnAny(func(e *sio.Event) { p.events <- e })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Disconnect)
	return p
}

// call emits with an acknowledgement and decodes it into T.
func call[T any](p *peer, event string, args ...any) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := p.s.EmitWithAck(ctx, event, args...)
	if err != nil {
		p.t.Fatalf("%s: %v", event, err)
	}
	var v T
	if err := reply.Decode(&v); err != nil {
		p.t.Fatalf("%s: decoding the ack: %v", event, err)
	}
	return v
}

// next waits for the next event named name, skipping others (skipped
// events other than users, which come and go with membership, fail the test
// when unexpected is set).
func (p *peer) next(name string) *sio.Event {
	p.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-p.events:
			if e.Name == name {
				return e
			}
		case <-timeout:
			p.t.Fatalf("no %s event within 5s", name)
			return nil
		}
	}
}

// nextUsers waits for a users event listing want.
func (p *peer) nextUsers(want ...string) {
	p.t.Helper()
	timeout := time.After(5 * time.Second)
	var last []string
	for {
		select {
		case e := <-p.events:
			if e.Name != "users" {
				continue
			}
			var u struct{ Users []string }
			if err := e.Args.Decode(&u); err != nil {
				p.t.Fatal(err)
			}
			if last = u.Users; slices.Equal(u.Users, want) {
				return
			}
		case <-timeout:
			p.t.Fatalf("no users event with %v within 5s (last %v)", want, last)
		}
	}
}

// quiet fails if an event named name arrives: it sends an rtt round trip
// first, so everything the server emitted before is in.
func (p *peer) quiet(name string) {
	p.t.Helper()
	call[any](p, "rtt")
	for {
		select {
		case e := <-p.events:
			if e.Name == name {
				p.t.Fatalf("unexpected %s event: %v", name, e.Args.AsAny())
			}
		default:
			return
		}
	}
}

func TestDemoChat(t *testing.T) {
	d, url := startDemo(t)
	alice := newPeer(t, url, nil)
	bob := newPeer(t, url, nil, client.TransportWebSocket)
	carol := newPeer(t, url, nil, client.TransportPolling)

	if res := call[joinResult](alice, "join", map[string]string{"name": "alice", "room": "r1"}); !res.OK || !slices.Equal(res.Users, []string{"alice"}) || res.Room != "r1" {
		t.Fatalf("alice join = %+v", res)
	}
	if res := call[joinResult](bob, "join", map[string]string{"name": " bob ", "room": "r1"}); !res.OK || !slices.Equal(res.Users, []string{"alice", "bob"}) || res.Name != "bob" {
		t.Fatalf("bob join = %+v", res)
	}
	alice.nextUsers("alice", "bob")
	if res := call[joinResult](carol, "join", map[string]string{"name": "carol", "room": "r2"}); !res.OK || !slices.Equal(res.Users, []string{"carol"}) {
		t.Fatalf("carol join = %+v", res)
	}
	if got := d.Users("r1"); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("Users(r1) = %v", got)
	}

	// chat: acked to the sender, relayed to the room only.
	ack := call[sendResult](alice, "chat", map[string]string{"id": "m1", "text": "hello bob"})
	if !ack.OK || ack.ID != "m1" || ack.Time == 0 {
		t.Fatalf("chat ack = %+v", ack)
	}
	var msg demoMessage
	if err := bob.next("chat").Args.Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if msg != (demoMessage{ID: "m1", From: "alice", Text: "hello bob", Time: ack.Time}) {
		t.Errorf("bob got %+v", msg)
	}
	// A resend of the same id is acked but not relayed again.
	if again := call[sendResult](alice, "chat", map[string]string{"id": "m1", "text": "hello bob"}); !again.OK || again.Time != ack.Time {
		t.Errorf("resend ack = %+v", again)
	}
	if bad := call[sendResult](alice, "chat", map[string]string{"text": "   "}); bad.OK || bad.Error == "" {
		t.Errorf("empty chat ack = %+v", bad)
	}
	bob.quiet("chat")
	alice.quiet("chat")
	carol.quiet("chat")

	// typing: relayed to the room, sender excluded.
	if err := bob.s.Emit("typing", map[string]bool{"typing": true}); err != nil {
		t.Fatal(err)
	}
	var typing struct {
		From   string
		Typing bool
	}
	if err := alice.next("typing").Args.Decode(&typing); err != nil {
		t.Fatal(err)
	}
	if typing.From != "bob" || !typing.Typing {
		t.Errorf("alice got typing %+v", typing)
	}
	bob.quiet("typing")
	carol.quiet("typing")

	// image: binary relayed as binary; too large refused.
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 0xff}, 1000)
	if ack := call[sendResult](bob, "image", map[string]any{"id": "i1", "mime": "image/png", "data": img}); !ack.OK {
		t.Fatalf("image ack = %+v", ack)
	}
	var got struct {
		ID, From, Mime string
		Data           []byte
	}
	if err := alice.next("image").Args.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "i1" || got.From != "bob" || got.Mime != "image/png" || !bytes.Equal(got.Data, img) {
		t.Errorf("alice got image %s from %s (%s, %d bytes)", got.ID, got.From, got.Mime, len(got.Data))
	}
	big := make([]byte, MaxImageBytes+1)
	if ack := call[sendResult](bob, "image", map[string]any{"mime": "image/png", "data": big}); ack.OK || !strings.Contains(ack.Error, "too large") {
		t.Errorf("big image ack = %+v", ack)
	}
	if ack := call[sendResult](bob, "image", map[string]any{"mime": "text/html", "data": []byte("<b>")}); ack.OK {
		t.Errorf("non-image ack = %+v", ack)
	}
	alice.quiet("image")
	carol.quiet("image")

	// Membership changes: leave and disconnect.
	if ack := call[sendResult](bob, "leave"); !ack.OK {
		t.Fatalf("leave ack = %+v", ack)
	}
	alice.nextUsers("alice")
	if ack := call[sendResult](bob, "chat", map[string]string{"text": "anyone?"}); ack.OK {
		t.Errorf("chat after leave ack = %+v", ack)
	}
	if res := call[joinResult](bob, "join", map[string]string{"name": "bob", "room": "r2"}); !res.OK || !slices.Equal(res.Users, []string{"bob", "carol"}) {
		t.Fatalf("bob join r2 = %+v", res)
	}
	carol.nextUsers("bob", "carol")
	bob.s.Disconnect()
	carol.nextUsers("carol")
	alice.quiet("users")
}

func TestDemoJoinValidation(t *testing.T) {
	_, url := startDemo(t)
	p := newPeer(t, url, nil)
	for _, req := range []map[string]string{
		{"name": "", "room": "r"},
		{"name": strings.Repeat("n", MaxNameLen+1), "room": "r"},
		{"name": "x", "room": strings.Repeat("r", MaxRoomLen+1)},
		{"name": "x", "room": p.s.ID()},
	} {
		if res := call[joinResult](p, "join", req); res.OK || res.Error == "" {
			t.Errorf("join %v = %+v, want an error", req, res)
		}
	}
	if res := call[joinResult](p, "join", map[string]string{"name": "x"}); !res.OK || res.Room != "lobby" {
		t.Errorf("join without room = %+v, want lobby", res)
	}
}

// TestDemoAuthJoinHistory checks the rejoin path that reconnecting clients
// use: the auth payload joins the room on connection and the joined event
// carries the history.
func TestDemoAuthJoinHistory(t *testing.T) {
	_, url := startDemo(t)
	alice := newPeer(t, url, nil)
	call[joinResult](alice, "join", map[string]string{"name": "alice", "room": "h"})
	for _, text := range []string{"one", "two", "three"} {
		if ack := call[sendResult](alice, "chat", map[string]string{"id": text, "text": text}); !ack.OK {
			t.Fatalf("chat ack = %+v", ack)
		}
	}
	bob := newPeer(t, url, map[string]string{"name": "bob", "room": "h"})
	var joined joinResult
	if err := bob.next("joined").Args.Decode(&joined); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range joined.History {
		texts = append(texts, m.Text)
	}
	if !joined.OK || !slices.Equal(joined.Users, []string{"alice", "bob"}) || !slices.Equal(texts, []string{"one", "two", "three"}) {
		t.Errorf("joined = %+v", joined)
	}
	alice.nextUsers("alice", "bob")
	// Joining the same room again by event changes nothing.
	if res := call[joinResult](bob, "join", map[string]string{"name": "bob", "room": "h"}); !res.OK || len(res.History) != 3 {
		t.Errorf("join again = %+v", res)
	}
	alice.quiet("users")
}

// TestDemoDropConnections checks that dropped clients reconnect, rejoin
// with their auth and that messages emitted meanwhile arrive in order.
func TestDemoDropConnections(t *testing.T) {
	d, url := startDemo(t)
	alice := newPeer(t, url, map[string]string{"name": "alice", "room": "x"})
	alice.next("joined")
	bob := newPeer(t, url, map[string]string{"name": "bob", "room": "x"})
	bob.next("joined")
	alice.nextUsers("alice", "bob")

	reconnected := make(chan struct{}, 10)
	disconnected := make(chan sio.Reason, 10)
	alice.s.OnConnect(func() { reconnected <- struct{}{} })
	alice.s.OnDisconnect(func(reason sio.Reason) { disconnected <- reason })
	if n := d.DropConnections(); n != 2 {
		t.Fatalf("DropConnections = %d, want 2", n)
	}
	select {
	case reason := <-disconnected:
		if reason != sio.ReasonTransportClose {
			t.Errorf("disconnect reason = %q, want %q", reason, sio.ReasonTransportClose)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("alice did not see the connection drop")
	}
	// Emitted while disconnected or reconnecting: buffered by the client.
	acks := make(chan error, 3)
	for _, text := range []string{"a", "b", "c"} {
		err := alice.s.EmitWithAckFunc("chat", func(a sio.Args, err error) { acks <- err }, map[string]string{"id": text, "text": text})
		if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("alice did not reconnect")
	}
	for range 3 {
		if err := <-acks; err != nil {
			t.Errorf("chat ack: %v", err)
		}
	}
	// bob gets a, b, c once each and in order, live or from the history.
	seen := map[string]bool{}
	var order []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	timeout := time.After(10 * time.Second)
	for len(order) < 3 {
		select {
		case e := <-bob.events:
			switch e.Name {
			case "chat":
				var m demoMessage
				if err := e.Args.Decode(&m); err != nil {
					t.Fatal(err)
				}
				add(m.ID)
			case "joined":
				var j joinResult
				if err := e.Args.Decode(&j); err != nil {
					t.Fatal(err)
				}
				for _, m := range j.History {
					add(m.ID)
				}
			}
		case <-timeout:
			t.Fatalf("bob got %v", order)
		}
	}
	if !slices.Equal(order, []string{"a", "b", "c"}) {
		t.Errorf("bob got %v, want [a b c]", order)
	}
}

func TestDemoServesWebApp(t *testing.T) {
	_, url := startDemo(t)
	for path, want := range map[string]string{
		"/":             "demo test",
		"/wasm_exec.js": "Go",
		"/main.wasm":    "asm",
	} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %.60q, want 200 with %q", path, resp.StatusCode, body, want)
		}
	}
	resp, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var open struct{ SID string }
	if resp.StatusCode != http.StatusOK || len(body) < 2 || json.Unmarshal(body[1:], &open) != nil || open.SID == "" {
		t.Fatalf("Engine.IO handshake = %d %q", resp.StatusCode, body)
	}
	// Close the session (an Engine.IO close packet).
	resp, err = http.Post(url+"/socket.io/?EIO=4&transport=polling&sid="+open.SID, "text/plain", strings.NewReader("1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestFindWebDir(t *testing.T) {
	dir, err := findWebDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "web" || !isFile(filepath.Join(dir, "main.go")) || !isFile(filepath.Join(filepath.Dir(dir), "go.mod")) {
		t.Errorf("findWebDir = %s", dir)
	}
}

// TestDemoDuplicateNames: a name taken in the room gets a suffix, so two
// people never show under the same name; the same socket joining again
// keeps its own name, and the name is free again once its owner left.
func TestDemoDuplicateNames(t *testing.T) {
	d, url := startDemo(t)
	bob1 := newPeer(t, url, nil)
	bob2 := newPeer(t, url, nil)
	bob3 := newPeer(t, url, nil)
	if res := call[joinResult](bob1, "join", map[string]string{"name": "bob", "room": "d"}); !res.OK || res.Name != "bob" {
		t.Fatalf("first bob = %+v", res)
	}
	if res := call[joinResult](bob2, "join", map[string]string{"name": "bob", "room": "d"}); !res.OK || res.Name != "bob 2" || !slices.Equal(res.Users, []string{"bob", "bob 2"}) {
		t.Fatalf("second bob = %+v, want bob 2", res)
	}
	if res := call[joinResult](bob1, "join", map[string]string{"name": "bob", "room": "d"}); !res.OK || res.Name != "bob" {
		t.Errorf("first bob again = %+v, want his own name", res)
	}
	long := strings.Repeat("x", MaxNameLen)
	call[joinResult](bob3, "join", map[string]string{"name": long, "room": "d"})
	if res := call[joinResult](bob2, "join", map[string]string{"name": long, "room": "d"}); !res.OK || res.Name != long[:MaxNameLen-2]+" 2" {
		t.Errorf("long name = %+v, want it cut to fit its suffix", res)
	}
	// The same name in another room is fine.
	if res := call[joinResult](bob3, "join", map[string]string{"name": "bob", "room": "other"}); !res.OK || res.Name != "bob" {
		t.Errorf("bob in another room = %+v", res)
	}
	bob1.s.Disconnect()
	for deadline := time.Now().Add(10 * time.Second); slices.Contains(d.Users("d"), "bob"); {
		if time.Now().After(deadline) {
			t.Fatalf("bob is still in the room after disconnecting: %v", d.Users("d"))
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
	}
	if res := call[joinResult](bob3, "join", map[string]string{"name": "bob", "room": "d"}); !res.OK || res.Name != "bob" {
		t.Errorf("bob after the first left = %+v, want bob", res)
	}
}
