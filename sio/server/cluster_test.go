//go:build !js

package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// cluster links in-process nodes the way a Redis adapter links processes:
// each node's adapter embeds a MemoryAdapter for its own sockets and
// forwards broadcasts and server-side emits to the other nodes. It shows
// that a multi-node adapter needs nothing but the exported API.
type cluster struct {
	mu    sync.Mutex
	nodes map[string]*clusterAdapter // by node name, for namespace "/"
}

type clusterAdapter struct {
	*server.MemoryAdapter
	c    *cluster
	name string
	nsp  *server.Namespace
}

func (c *cluster) factory(node string) server.AdapterFactory {
	return func(nsp *server.Namespace) server.Adapter {
		a := &clusterAdapter{MemoryAdapter: server.NewMemoryAdapter(nsp), c: c, name: node, nsp: nsp}
		if nsp.Name() == "/" {
			c.mu.Lock()
			c.nodes[node] = a
			c.mu.Unlock()
		}
		return a
	}
}

func (a *clusterAdapter) others() []*clusterAdapter {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	var out []*clusterAdapter
	for n, o := range a.c.nodes {
		if n != a.name && o.nsp.Name() == a.nsp.Name() {
			out = append(out, o)
		}
	}
	return out
}

func (a *clusterAdapter) Broadcast(p *parser.Packet, opts *server.BroadcastOptions) error {
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

func (a *clusterAdapter) ServerSideEmit(ctx context.Context, event string, args []any, withAck bool) ([]sio.Args, error) {
	// Encode and decode as it would cross the wire.
	data, atts, err := parser.AppendEvent(nil, event, args)
	if err != nil {
		return nil, err
	}
	p := &parser.Packet{Type: parser.Event, Data: data, Attachments: atts}
	name, vals, err := p.Event()
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
		go o.nsp.DeliverServerSideEmit(e)
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

func (a *clusterAdapter) ServerCount(context.Context) (int, error) {
	return len(a.others()) + 1, nil
}

func TestClusterAdapterFromExportedAPI(t *testing.T) {
	c := &cluster{nodes: map[string]*clusterAdapter{}}
	var urls []string
	var servers []*server.Server
	for _, node := range []string{"a", "b"} {
		srv := server.New(&server.Options{Adapter: c.factory(node)})
		node := node
		srv.Of("/").OnServerSideEmit(func(e *sio.Event) {
			_ = e.Ack("pong from " + node)
		})
		srv.OnConnection(func(s *server.Socket) {
			s.On("shout", func(e *sio.Event) {
				_ = s.Broadcast().Emit("shout", e.Args.AsAny()...)
				_ = e.Ack()
			})
		})
		ts := httptest.NewServer(srv)
		t.Cleanup(func() { srv.Close(); ts.Close() })
		urls = append(urls, ts.URL)
		servers = append(servers, srv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	got := make(chan sio.Args, 1)
	cb, err := client.New(urls[1], &client.Options{Transport: native.New(nil)})
	require.NoError(t, err)
	defer cb.Disconnect()
	cb.On("shout", func(e *sio.Event) { got <- e.Args })
	require.NoError(t, cb.Connect(ctx))

	ca, err := client.Dial(ctx, urls[0], &client.Options{Transport: native.New(nil)})
	require.NoError(t, err)
	defer ca.Disconnect()
	_, err = ca.EmitWithAck(ctx, "shout", "hi", []byte{1, 2})
	require.NoError(t, err)
	select {
	case a := <-got:
		var (
			s string
			b []byte
		)
		require.NoError(t, a.Decode(&s, &b))
		require.Equal(t, "hi", s)
		require.Equal(t, []byte{1, 2}, b)
	case <-ctx.Done():
		t.Fatal("the broadcast did not cross nodes")
	}

	replies, err := servers[0].Of("/").ServerSideEmitWithAck(ctx, "ping", 1)
	require.NoError(t, err)
	require.Len(t, replies, 1)
	require.Equal(t, `"pong from b"`, string(replies[0].Raw(0)))
	n, err := servers[0].Of("/").Adapter().ServerCount(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
}
