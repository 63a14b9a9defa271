package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/server"
)

// Timings of the cluster contract, the same in the Node.js reference
// (e2e/testdata/node/cluster-server.js).
const (
	// clusterPingInterval and clusterPingTimeout are long enough for a
	// loaded CI machine, where several nodes and their clients share two
	// cores, not to drop healthy clients.
	clusterPingInterval = 2 * time.Second
	clusterPingTimeout  = 5 * time.Second
	// clusterRequestGuard bounds fetch and server-count. The adapter's own
	// request timeout (5 s for the official Redis adapters) ends them
	// first; this only keeps a handler from waiting forever.
	clusterRequestGuard = 10 * time.Second
)

// Cluster is the test contract of -mode cluster on namespace "/"
// (e2e/testdata/node/CONTRACT.md, "The cluster contract"): each request
// of a client acts on the sockets of every node of the cluster, so that a
// checker connected to every node sees whether the adapter links them.
type Cluster struct {
	IO   *server.Server
	name string
}

// NewCluster returns the contract's server for the node called name, on
// the adapter made by adapter (nil: the in-memory adapter, a cluster of
// one node).
func NewCluster(name string, adapter server.AdapterFactory, logger *slog.Logger) *Cluster {
	return NewClusterRecovery(name, adapter, logger, false)
}

// NewClusterRecovery is NewCluster with, when recovery is true,
// connection state recovery on (maxDisconnectionDuration 60 s,
// skipMiddlewares), as -recovery and cluster-server.js --recovery: a
// client that reconnects to any node gets its session back.
func NewClusterRecovery(name string, adapter server.AdapterFactory, logger *slog.Logger, recovery bool) *Cluster {
	opts := &server.Options{
		EngineOptions: server.EngineOptions{
			PingInterval: clusterPingInterval,
			PingTimeout:  clusterPingTimeout,
			CORS:         &server.CORSOptions{Origin: []string{"*"}},
			Logger:       logger,
		},
		Adapter: adapter,
	}
	if recovery {
		opts.ConnectionStateRecovery = &server.RecoveryOptions{MaxDisconnectionDuration: time.Minute, SkipMiddlewares: true}
	}
	c := &Cluster{IO: server.New(opts), name: name}
	nsp := c.IO.Sockets()
	nsp.OnServerSideEmit(func(e *sio.Event) {
		if e.Name == "ping" {
			_ = e.Ack(c.name)
		}
	})
	nsp.OnConnection(c.onConnection)
	return c
}

// Handler returns the HTTP handler (Socket.IO on /socket.io/).
func (c *Cluster) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", c.IO)
	return mux
}

// Shutdown shuts the server down gracefully.
func (c *Cluster) Shutdown(ctx context.Context) error { return c.IO.Shutdown(ctx) }

// selector is the contract's sel: which sockets a request acts on.
type selector struct {
	To     []string `json:"to"`
	Except []string `json:"except"`
	Local  bool     `json:"local"`
}

// clusterResult is the ack of emit-with-ack and server-side-emit.
type clusterResult struct {
	Replies []json.RawMessage `json:"replies"`
	Error   *string           `json:"error"`
}

// errorAck is the ack of a request that failed.
type errorAck struct {
	Error string `json:"error"`
}

// fetchedSocket is an element of the ack of fetch.
type fetchedSocket struct {
	ID    string   `json:"id"`
	Rooms []string `json:"rooms"`
}

// arg decodes argument i into dst, leaving dst as it is when the argument
// is absent or does not decode (a missing sel selects every socket).
func arg(e *sio.Event, i int, dst any) {
	if i < e.Args.Len() {
		_ = e.Args[i].Decode(dst)
	}
}

func (c *Cluster) op(sel selector) *server.BroadcastOperator {
	op := c.IO.Sockets().To(sel.To...).Except(sel.Except...)
	if sel.Local {
		op = op.Local()
	}
	return op
}

func (c *Cluster) onConnection(s *server.Socket) {
	_ = s.Emit("hello", c.name)
	s.On("join", func(e *sio.Event) {
		var room string
		arg(e, 0, &room)
		s.Join(room)
		_ = e.Ack(c.name)
	})
	s.On("leave", func(e *sio.Event) {
		var room string
		arg(e, 0, &room)
		s.Leave(room)
		_ = e.Ack(c.name)
	})
	s.On("emit", func(e *sio.Event) {
		var (
			sel   selector
			event string
		)
		arg(e, 0, &sel)
		arg(e, 1, &event)
		var args []any
		if e.Args.Len() > 2 {
			args = e.Args[2:].AsAny() // binary arguments stay binary
		}
		if err := c.op(sel).Emit(event, args...); err != nil {
			_ = e.Ack(errorAck{err.Error()})
			return
		}
		_ = e.Ack()
	})
	s.On("fetch", func(e *sio.Event) {
		var sel selector
		arg(e, 0, &sel)
		ctx, cancel := context.WithTimeout(s.Context(), clusterRequestGuard)
		defer cancel()
		socks, err := c.op(sel).FetchSockets(ctx)
		if err != nil {
			_ = e.Ack(errorAck{err.Error()})
			return
		}
		out := make([]fetchedSocket, 0, len(socks))
		for _, rs := range socks {
			rooms := slices.Clone(rs.Rooms())
			slices.Sort(rooms)
			out = append(out, fetchedSocket{ID: rs.ID(), Rooms: rooms})
		}
		slices.SortFunc(out, func(a, b fetchedSocket) int { return strings.Compare(a.ID, b.ID) })
		_ = e.Ack(out)
	})
	s.On("sockets-join", func(e *sio.Event) {
		var (
			sel  selector
			room string
		)
		arg(e, 0, &sel)
		arg(e, 1, &room)
		c.op(sel).SocketsJoin(room)
		_ = e.Ack()
	})
	s.On("sockets-leave", func(e *sio.Event) {
		var (
			sel  selector
			room string
		)
		arg(e, 0, &sel)
		arg(e, 1, &room)
		c.op(sel).SocketsLeave(room)
		_ = e.Ack()
	})
	s.On("disconnect-sockets", func(e *sio.Event) {
		var sel selector
		arg(e, 0, &sel)
		_ = e.Ack()
		c.op(sel).DisconnectSockets(true)
	})
	s.On("emit-with-ack", func(e *sio.Event) {
		var (
			sel       selector
			event     string
			timeoutMs int64
		)
		arg(e, 0, &sel)
		arg(e, 1, &event)
		arg(e, 2, &timeoutMs)
		replies, err := c.op(sel).Timeout(time.Duration(timeoutMs)*time.Millisecond).EmitWithAck(s.Context(), event)
		_ = e.Ack(result(replies, err))
	})
	s.On("server-side-emit", func(e *sio.Event) {
		var timeoutMs int64
		arg(e, 0, &timeoutMs)
		ctx, cancel := context.WithTimeout(s.Context(), time.Duration(timeoutMs)*time.Millisecond)
		defer cancel()
		replies, err := c.IO.Sockets().ServerSideEmitWithAck(ctx, "ping", c.name)
		_ = e.Ack(result(replies, err))
	})
	s.On("server-count", func(e *sio.Event) {
		ctx, cancel := context.WithTimeout(s.Context(), clusterRequestGuard)
		defer cancel()
		n, err := c.IO.Sockets().Adapter().ServerCount(ctx)
		if err != nil {
			_ = e.Ack(errorAck{err.Error()})
			return
		}
		_ = e.Ack(n)
	})
	s.On("set-data", func(e *sio.Event) {
		var data any
		arg(e, 0, &data)
		s.SetData(data)
		_ = e.Ack(c.name)
	})
	s.On("state", func(e *sio.Event) {
		rooms := slices.Clone(s.Rooms())
		slices.Sort(rooms)
		data := s.Data()
		if data == nil {
			data = map[string]any{}
		}
		_ = e.Ack(socketState{ID: s.ID(), Rooms: rooms, Data: data, Recovered: s.Recovered(), Node: c.name})
	})
}

// socketState is the ack of state.
type socketState struct {
	ID        string   `json:"id"`
	Rooms     []string `json:"rooms"`
	Data      any      `json:"data"`
	Recovered bool     `json:"recovered"`
	Node      string   `json:"node"`
}

// result is the ack of emit-with-ack and server-side-emit: the first
// argument of each reply, sorted by its JSON text, and the error.
func result(replies []sio.Args, err error) clusterResult {
	res := clusterResult{Replies: make([]json.RawMessage, 0, len(replies))}
	for _, r := range replies {
		raw := json.RawMessage("null")
		if r.Len() > 0 {
			var buf bytes.Buffer
			if json.Compact(&buf, r.Raw(0)) == nil {
				raw = buf.Bytes()
			}
		}
		res.Replies = append(res.Replies, raw)
	}
	slices.SortFunc(res.Replies, func(a, b json.RawMessage) int { return bytes.Compare(a, b) })
	if err != nil {
		msg := err.Error()
		res.Error = &msg
	}
	return res
}
