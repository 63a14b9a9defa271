package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// memCluster links demo servers of one test process as a Redis adapter
// links processes: each node's adapter embeds a MemoryAdapter for its own
// sockets, forwards broadcasts, fetches the others' sockets (their data
// through JSON, as on the wire) and delivers server-side events to the
// others asynchronously (each on its own goroutine, which wg waits for).
type memCluster struct {
	mu    sync.Mutex
	nodes []*memClusterAdapter // namespace "/" of each node
	wg    sync.WaitGroup
}

type memClusterAdapter struct {
	*server.MemoryAdapter
	c   *memCluster
	nsp *server.Namespace
}

func (c *memCluster) factory(nsp *server.Namespace) server.Adapter {
	a := &memClusterAdapter{MemoryAdapter: server.NewMemoryAdapter(nsp), c: c, nsp: nsp}
	if nsp.Name() == "/" {
		c.mu.Lock()
		c.nodes = append(c.nodes, a)
		c.mu.Unlock()
	}
	return a
}

func (a *memClusterAdapter) others() []*memClusterAdapter {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	var out []*memClusterAdapter
	for _, o := range a.c.nodes {
		if o != a {
			out = append(out, o)
		}
	}
	return out
}

func (a *memClusterAdapter) Broadcast(p *parser.Packet, opts *server.BroadcastOptions) error {
	if err := a.MemoryAdapter.Broadcast(p, opts); err != nil || opts.Local {
		return err
	}
	for _, o := range a.others() {
		if err := o.MemoryAdapter.Broadcast(p, opts); err != nil {
			return err
		}
	}
	return nil
}

// remoteSocket is another node's socket as FetchSockets shows it.
type remoteSocket struct {
	server.RemoteSocket
	data any
}

func (r remoteSocket) Data() any { return r.data }

func (a *memClusterAdapter) FetchSockets(ctx context.Context, opts *server.BroadcastOptions) ([]server.RemoteSocket, error) {
	out, err := a.MemoryAdapter.FetchSockets(ctx, opts)
	if err != nil || opts.Local {
		return out, err
	}
	for _, o := range a.others() {
		theirs, err := o.MemoryAdapter.FetchSockets(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, rs := range theirs {
			b, err := json.Marshal(rs.Data())
			if err != nil {
				return nil, err
			}
			var data any
			if err := json.Unmarshal(b, &data); err != nil {
				return nil, err
			}
			out = append(out, remoteSocket{RemoteSocket: rs, data: data})
		}
	}
	return out, nil
}

func (a *memClusterAdapter) ServerSideEmit(ctx context.Context, event string, args []any, withAck bool) ([]sio.Args, error) {
	data, atts, err := parser.AppendEvent(nil, event, args)
	if err != nil {
		return nil, err
	}
	name, vals, err := (&parser.Packet{Type: parser.Event, Data: data, Attachments: atts}).Event()
	if err != nil {
		return nil, err
	}
	others := a.others()
	replies := make(chan sio.Args, len(others))
	for _, o := range others {
		e := &sio.Event{Name: name, Args: vals}
		if withAck {
			e.AckFunc = func(reply ...any) error {
				d, at, err := parser.AppendArgs(nil, reply)
				if err != nil {
					return err
				}
				vs, err := (&parser.Packet{Type: parser.Ack, Data: d, Attachments: at}).Args()
				if err != nil {
					return err
				}
				replies <- vs
				return nil
			}
		}
		a.c.wg.Add(1)
		go func() {
			defer a.c.wg.Done()
			o.nsp.DeliverServerSideEmit(e)
		}()
	}
	if !withAck {
		return nil, nil
	}
	var out []sio.Args
	for range others {
		select {
		case r := <-replies:
			out = append(out, r)
		case <-ctx.Done():
			return out, fmt.Errorf("%w: %w", sio.ErrAckTimeout, ctx.Err())
		}
	}
	return out, nil
}

func (a *memClusterAdapter) ServerCount(context.Context) (int, error) {
	return len(a.others()) + 1, nil
}

// startDemoCluster serves n demos linked by one memCluster.
func startDemoCluster(t *testing.T, n int) []string {
	t.Helper()
	c := &memCluster{}
	var urls []string
	for range n {
		d, err := NewDemoAdapter(t.Context(), nil, testWebDir(t), c.factory)
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
			c.wg.Wait()
		})
		urls = append(urls, srv.URL)
	}
	return urls
}

// TestDemoAcrossNodes checks the demo on two nodes of one cluster: users
// lists, messages and history cross nodes.
func TestDemoAcrossNodes(t *testing.T) {
	urls := startDemoCluster(t, 2)
	alice := newPeer(t, urls[0], nil)
	bob := newPeer(t, urls[1], nil)

	// alice talks alone in h; bob then joins h on the other node, which
	// had no member there: it asks for the history.
	call[joinResult](alice, "join", map[string]string{"name": "alice", "room": "h"})
	for _, text := range []string{"one", "two"} {
		if ack := call[sendResult](alice, "chat", map[string]string{"id": text, "text": text}); !ack.OK {
			t.Fatalf("chat ack = %+v", ack)
		}
	}
	res := call[joinResult](bob, "join", map[string]string{"name": "bob", "room": "h"})
	var texts []string
	for _, m := range res.History {
		texts = append(texts, m.Text)
	}
	if !res.OK || !slices.Equal(texts, []string{"one", "two"}) {
		t.Fatalf("bob's join on the other node = %+v", res)
	}
	// Both see both, whichever node they are on.
	alice.nextUsers("alice", "bob")
	bob.nextUsers("alice", "bob")

	// Messages cross nodes both ways, and the history of each node keeps
	// the other's: carol, joining on bob's node, gets alice's message.
	ack := call[sendResult](alice, "chat", map[string]string{"id": "m3", "text": "three"})
	var msg demoMessage
	if err := bob.next("chat").Args.Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if msg != (demoMessage{ID: "m3", From: "alice", Text: "three", Time: ack.Time}) {
		t.Errorf("bob got %+v", msg)
	}
	call[sendResult](bob, "chat", map[string]string{"id": "m4", "text": "four"})
	if err := alice.next("chat").Args.Decode(&msg); err != nil || msg.From != "bob" || msg.Text != "four" {
		t.Errorf("alice got %+v (%v)", msg, err)
	}
	carol := newPeer(t, urls[1], map[string]string{"name": "carol", "room": "h"})
	var joined joinResult
	if err := carol.next("joined").Args.Decode(&joined); err != nil {
		t.Fatal(err)
	}
	texts = texts[:0]
	for _, m := range joined.History {
		texts = append(texts, m.Text)
	}
	if !slices.Equal(texts, []string{"one", "two", "three", "four"}) {
		t.Errorf("carol's history = %v", texts)
	}
	alice.nextUsers("alice", "bob", "carol")
	carol.nextUsers("alice", "bob", "carol")

	// A resend of alice's message through bob's node (a client that
	// reconnected elsewhere) is recognised there.
	if again := call[sendResult](bob, "chat", map[string]string{"id": "m3", "text": "three"}); !again.OK || again.Time != ack.Time {
		t.Errorf("resend on the other node = %+v", again)
	}

	// Leaving and disconnecting on one node update the other's lists.
	bob.s.Disconnect()
	alice.nextUsers("alice", "carol")
	carol.nextUsers("alice", "carol")
	if ack := call[sendResult](alice, "leave"); !ack.OK {
		t.Fatalf("leave = %+v", ack)
	}
	carol.nextUsers("carol")
}
