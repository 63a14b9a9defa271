//go:build !js

package redisadapter_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/nodefixture"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/redistest"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// redisWait bounds every wait of the Redis interop tests.
const redisWait = 15 * time.Second

// requireNode returns node and the interop fixture's directory
// (e2e/testdata/node, with its node_modules), skipping the test when either
// is missing, except under CI=true, where it fails.
func requireNode(t testing.TB) (node, dir string) {
	t.Helper()
	return nodefixture.Require(t, "socket.io", "@socket.io/redis-adapter")
}

// nodeProc is a Node.js script of the fixture speaking JSON lines.
type nodeProc struct {
	t      testing.TB
	stdin  io.WriteCloser
	mu     sync.Mutex
	nextID int
	calls  map[int]chan json.RawMessage
	lines  chan json.RawMessage // lines that answer no call
}

// startNodeScript runs script of e2e/testdata/node with env and returns it
// once it printed its first line (which is returned too).
func startNodeScript(t testing.TB, script string, env ...string) (*nodeProc, json.RawMessage) {
	t.Helper()
	node, dir := requireNode(t)
	cmd := exec.Command(node, filepath.Join(dir, script))
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = &testLogWriter{t: t, prefix: script + ": "}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &nodeProc{t: t, stdin: stdin, calls: make(map[int]chan json.RawMessage), lines: make(chan json.RawMessage, 1000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			line := json.RawMessage(append([]byte(nil), sc.Bytes()...))
			var head struct{ ID *int }
			_ = json.Unmarshal(line, &head)
			if head.ID != nil {
				p.mu.Lock()
				ch := p.calls[*head.ID]
				delete(p.calls, *head.ID)
				p.mu.Unlock()
				if ch != nil {
					ch <- line
					continue
				}
			}
			select {
			case p.lines <- line:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		<-done
	})
	return p, p.line(t)
}

// line returns the next unsolicited line.
func (p *nodeProc) line(t testing.TB) json.RawMessage {
	t.Helper()
	select {
	case l := <-p.lines:
		return l
	case <-time.After(redisWait):
		t.Fatal("the node script printed nothing")
		return nil
	}
}

// call sends a command and returns its result.
func (p *nodeProc) call(t testing.TB, cmd map[string]any) json.RawMessage {
	t.Helper()
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan json.RawMessage, 1)
	p.calls[id] = ch
	p.mu.Unlock()
	cmd["id"] = id
	b, err := json.Marshal(cmd)
	require.NoError(t, err)
	_, err = p.stdin.Write(append(b, '\n'))
	require.NoError(t, err)
	select {
	case line := <-ch:
		var r struct {
			Result json.RawMessage
			Error  *string
		}
		require.NoError(t, json.Unmarshal(line, &r))
		if r.Error != nil {
			t.Fatalf("node command %v failed: %s", cmd, *r.Error)
		}
		return r.Result
	case <-time.After(redisWait):
		t.Fatalf("node command %v: no reply", cmd)
		return nil
	}
}

type testLogWriter struct {
	t      testing.TB
	prefix string
}

func (w *testLogWriter) Write(b []byte) (int, error) {
	w.t.Log(w.prefix + strings.TrimSpace(string(b)))
	return len(b), nil
}

// nodeServer starts redis-node.js (the official adapter) and returns it
// with its URL.
func nodeServer(t testing.TB, rs *redistest.Server, name, adapter string) (*nodeProc, string) {
	p, first := startNodeScript(t, "redis-node.js", "REDIS_URL="+rs.URL(), "NODE_NAME="+name, "ADAPTER="+adapter)
	var port struct{ Port int }
	require.NoError(t, json.Unmarshal(first, &port))
	require.NotZero(t, port.Port, "first line %s", first)
	return p, fmt.Sprintf("http://127.0.0.1:%d", port.Port)
}

// goNode is a Go server on a Redis adapter with the handlers of
// redis-node.js.
type goNode struct {
	name string
	srv  *server.Server
	url  string
	sse  chan *sio.Event
}

func startGoNode(t testing.TB, name string, factory func(goredis.UniversalClient) server.AdapterFactory, rs *redistest.Server) *goNode {
	t.Helper()
	rc := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
	srv := server.New(&server.Options{Adapter: factory(rc)})
	n := &goNode{name: name, srv: srv, sse: make(chan *sio.Event, 16)}
	srv.Of("/").OnServerSideEmit(func(e *sio.Event) {
		switch e.Name {
		case "ping":
			_ = e.Ack(name)
		default:
			n.sse <- e
		}
	})
	srv.OnConnection(func(s *server.Socket) {
		s.SetData(map[string]any{"node": name})
		s.On("join", func(e *sio.Event) {
			room, _ := sio.Arg[string](e.Args, 0)
			s.Join(room)
			_ = e.Ack(name)
		})
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
		_ = rc.Close()
	})
	n.url = ts.URL
	return n
}

// rclient is a Go client recording its events; it answers "ack-me" with
// its id.
type rclient struct {
	s      *client.Socket
	events chan *sio.Event
}

func dialRecorder(t testing.TB, url string) *rclient {
	t.Helper()
	s, err := client.New(url, &client.Options{Transport: native.New(nil), DisableReconnection: true})
	require.NoError(t, err)
	c := &rclient{s: s, events: make(chan *sio.Event, 100)}
	s.OnAny(func(e *sio.Event) {
		if e.Name == "ack-me" {
			_ = e.Ack(s.ID())
			return
		}
		c.events <- e
	})
	ctx, cancel := context.WithTimeout(context.Background(), redisWait)
	defer cancel()
	require.NoError(t, s.Connect(ctx))
	t.Cleanup(s.Disconnect)
	return c
}

// expect checks the names of the next events.
func (c *rclient) expect(t testing.TB, names ...string) []*sio.Event {
	t.Helper()
	var got []*sio.Event
	for _, want := range names {
		select {
		case e := <-c.events:
			require.Equal(t, want, e.Name, "client %s", c.s.ID())
			got = append(got, e)
		case <-time.After(redisWait):
			t.Fatalf("client %s: no %q event", c.s.ID(), want)
		}
	}
	return got
}

func (c *rclient) join(t testing.TB, room string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), redisWait)
	defer cancel()
	_, err := c.s.EmitWithAck(ctx, "join", room)
	require.NoError(t, err)
}

func pollUntil(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(redisWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling the cluster's state
	}
}

func sortedStrings(xs ...string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

func sortedArgs(t testing.TB, replies []sio.Args) []string {
	t.Helper()
	var out []string
	for _, r := range replies {
		s, err := sio.Arg[string](r, 0)
		require.NoError(t, err)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// expectSet checks the names of the next events, in any order.
func (c *rclient) expectSet(t testing.TB, names ...string) {
	t.Helper()
	var got []string
	for range names {
		select {
		case e := <-c.events:
			got = append(got, e.Name)
		case <-time.After(redisWait):
			t.Fatalf("client %s: got only %v of %v", c.s.ID(), got, names)
		}
	}
	require.Equal(t, sortedStrings(names...), sortedStrings(got...))
}
