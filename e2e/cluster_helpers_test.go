package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/e2e/internal/clusterenv"
	"github.com/gosio/socketio/internal/nodeenv"
)

// The checker of the cluster contract (e2e/testdata/node/CONTRACT.md): a
// cluster of nodes of either kind, clients of both kinds on every node, a
// model of every socket's rooms, and requests made through the clients of
// each node in turn, checked against the model and against what every
// client of every node received.

const (
	// clusterCallWait bounds one request; no request of the contract may
	// hang (the adapters' own request timeout is 5 s).
	clusterCallWait = 20 * time.Second
	// clusterSettleWait bounds waits for state to spread over the cluster
	// (joins published to the other nodes, Redis subscriptions made).
	clusterSettleWait = 20 * time.Second
)

// sel is the contract's selector.
type sel struct {
	To     []string `json:"to,omitempty"`
	Except []string `json:"except,omitempty"`
	Local  bool     `json:"local,omitempty"`
}

func (s sel) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// member is a client of the cluster, on node node.
type member struct {
	*clusterenv.Client
	node int
	gone bool // closed or disconnected by the server: no longer in the model
}

// clusterRun is a running cluster with its clients and its model.
type clusterRun struct {
	t       *testing.T
	nodes   []*clusterenv.Proc
	puppets *clusterenv.Puppets
	members []*member
	rooms   map[string]map[string]bool // sid → its rooms, its own id included
	seq     int
}

// nodeNames are the names of a cluster's nodes, in order.
var nodeNames = []string{"A", "B", "C", "D"}

// requireClusterKinds skips when the cluster needs what this machine
// lacks: node and the fixture for Node.js nodes and JS clients.
func requireClusterKinds(t *testing.T) {
	t.Helper()
	nodeenv.Require(t) // the JS clients, whatever the nodes
}

// startCluster starts one node per kind (named A, B, …) on redisURL with
// adapter ("" redisURL: a single node on the in-memory adapter).
func startCluster(t *testing.T, kinds []string, redisURL, adapter string) *clusterRun {
	t.Helper()
	requireClusterKinds(t)
	var goBin string
	if slices.Contains(kinds, clusterenv.Go) {
		goBin = clusterenv.BuildServer(t)
	}
	c := &clusterRun{t: t, rooms: map[string]map[string]bool{}}
	for i, kind := range kinds {
		c.nodes = append(c.nodes, clusterenv.StartNode(t, goBin, clusterenv.NodeConfig{
			Kind: kind, Name: nodeNames[i], Redis: redisURL, Adapter: adapter,
		}))
	}
	c.puppets = clusterenv.StartPuppets(t)
	return c
}

// clientTransports vary over the clients, so that every transport meets
// every node kind: polling then upgrade, WebSocket only, polling only.
var clientTransports = [][]string{nil, {"websocket"}, {"polling"}}

// addClients connects perKind clients of each kind to every node.
func (c *clusterRun) addClients(t *testing.T, perKind int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterCallWait)
	defer cancel()
	for i, n := range c.nodes {
		for k := range perKind {
			for j, kind := range []string{clusterenv.JS, clusterenv.GoClient} {
				o := clusterenv.ClientOptions{
					Name:       fmt.Sprintf("%s@%s#%d", kind, n.Name, k),
					Transports: clientTransports[(i+k+j)%len(clientTransports)],
				}
				c.add(t, ctx, i, kind, o)
			}
		}
	}
}

// add connects one client to node i and adds it to the model.
func (c *clusterRun) add(t *testing.T, ctx context.Context, i int, kind string, o clusterenv.ClientOptions) *member {
	t.Helper()
	var (
		cl  *clusterenv.Client
		err error
	)
	if kind == clusterenv.JS {
		cl, err = c.puppets.Connect(ctx, c.nodes[i].URL, o)
	} else {
		cl, err = clusterenv.ConnectGo(ctx, t, c.nodes[i].URL, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	m := &member{Client: cl, node: i}
	c.members = append(c.members, m)
	c.rooms[cl.SID()] = map[string]bool{cl.SID(): true}
	return m
}

// live returns the members still connected, in order.
func (c *clusterRun) live() []*member {
	var out []*member
	for _, m := range c.members {
		if !m.gone {
			out = append(out, m)
		}
	}
	return out
}

// on returns the live members of node i of kind ("" for any kind).
func (c *clusterRun) on(i int, kind string) []*member {
	var out []*member
	for _, m := range c.live() {
		if m.node == i && (kind == "" || m.Kind == kind) {
			out = append(out, m)
		}
	}
	return out
}

// other returns the node after i (i itself in a cluster of one).
func (c *clusterRun) other(i int) int { return (i + 1) % len(c.nodes) }

// fresh returns a name never used before in this run.
func (c *clusterRun) fresh(prefix string) string {
	c.seq++
	return fmt.Sprintf("%s-%d", prefix, c.seq)
}

// forget removes m from the model (closed, or disconnected by the server).
func (c *clusterRun) forget(m *member) {
	m.gone = true
	delete(c.rooms, m.SID())
}

// call makes a request through m and fails the test if it fails or hangs.
func (c *clusterRun) call(t *testing.T, m *member, event string, args ...any) []json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterCallWait)
	defer cancel()
	reply, err := m.Call(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s on node %s: %v", m.Name, c.nodes[m.node].Name, err)
	}
	return reply
}

// ackOf returns the single argument of an ack as JSON text, "" for an ack
// without arguments.
func ackOf(t *testing.T, reply []json.RawMessage) string {
	t.Helper()
	switch len(reply) {
	case 0:
		return ""
	case 1:
		return string(reply[0])
	}
	t.Fatalf("an ack with %d arguments: %s", len(reply), reply)
	return ""
}

// selected returns the live members sel picks for a request made on node from.
func (c *clusterRun) selected(s sel, from int) []*member {
	var out []*member
	for _, m := range c.live() {
		rooms := c.rooms[m.SID()]
		if s.Local && m.node != from {
			continue
		}
		if len(s.To) > 0 && !slices.ContainsFunc(s.To, func(r string) bool { return rooms[r] }) {
			continue
		}
		if slices.ContainsFunc(s.Except, func(r string) bool { return rooms[r] }) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// wantFetch is the canonical JSON of the ack of fetch for members.
func (c *clusterRun) wantFetch(members []*member) string {
	type socket struct {
		ID    string   `json:"id"`
		Rooms []string `json:"rooms"`
	}
	out := []socket{}
	for _, m := range members {
		var rooms []string
		for r := range c.rooms[m.SID()] {
			rooms = append(rooms, r)
		}
		slices.Sort(rooms)
		out = append(out, socket{ID: m.SID(), Rooms: rooms})
	}
	slices.SortFunc(out, func(a, b socket) int { return strings.Compare(a.ID, b.ID) })
	b, _ := json.Marshal(out)
	return clusterenv.Canon(json.RawMessage(b))
}

// sids is the canonical JSON of the sorted socket ids of members (the
// replies of emit-with-ack).
func sids(members []*member) string {
	ids := []string{}
	for _, m := range members {
		ids = append(ids, m.SID())
	}
	slices.Sort(ids)
	return clusterenv.Canon(ids)
}

// names describes members for failure messages.
func names(members []*member) string {
	var s []string
	for _, m := range members {
		s = append(s, m.Name)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// checkFetch asks for fetch(s) through m and compares with the model.
func (c *clusterRun) checkFetch(t *testing.T, m *member, s sel) {
	t.Helper()
	got := ackOf(t, c.call(t, m, "fetch", s))
	if want := c.wantFetch(c.selected(s, m.node)); got != want {
		t.Errorf("fetch %s from node %s (%s):\n got %s\nwant %s (%s)", s, c.nodes[m.node].Name, m.Name, got, want, names(c.selected(s, m.node)))
	}
}

// awaitFetch polls fetch(s) through m until it matches the model: for
// changes that reach the other nodes asynchronously (sockets-join, a
// disconnection).
func (c *clusterRun) awaitFetch(t *testing.T, m *member, s sel) {
	t.Helper()
	want := c.wantFetch(c.selected(s, m.node))
	deadline := time.Now().Add(clusterSettleWait)
	var got string
	for {
		got = ackOf(t, c.call(t, m, "fetch", s))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fetch %s from node %s (%s) after %v:\n got %s\nwant %s (%s)", s, c.nodes[m.node].Name, m.Name, clusterSettleWait, got, want, names(c.selected(s, m.node)))
		}
		time.Sleep(50 * time.Millisecond) // polling the cluster's state
	}
}

// count returns how many events named name m received.
func count(m *member, name string) int {
	n := 0
	for _, e := range m.Events() {
		if e.Name == name {
			n++
		}
	}
	return n
}

// barrier makes sure every live member received everything emitted
// through from before: a node's broadcasts reach each client in order, so
// once a broadcast to everyone made after them has arrived, nothing
// emitted before it is still on its way.
func (c *clusterRun) barrier(t *testing.T, from *member) {
	t.Helper()
	ev := c.fresh("sync")
	if r := ackOf(t, c.call(t, from, "emit", sel{}, ev)); r != "" {
		t.Fatalf("emit: %s", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterSettleWait)
	defer cancel()
	for _, m := range c.live() {
		if _, err := m.WaitEvent(ctx, ev, ""); err != nil {
			t.Fatalf("barrier through %s: %v", from.Name, err)
		}
	}
}

// settle waits until a broadcast to each room with members reaches all of
// them. The sharded adapter subscribes to a room's channel when the room
// appears on a node, asynchronously: a broadcast made right after the
// first join may miss it, which is upstream's behaviour, not what the
// checks are about.
func (c *clusterRun) settle(t *testing.T) {
	t.Helper()
	from := c.live()[0]
	rooms := map[string]bool{}
	for sid, rs := range c.rooms {
		for r := range rs {
			if r != sid {
				rooms[r] = true
			}
		}
	}
	deadline := time.Now().Add(clusterSettleWait)
	for _, room := range slices.Sorted(maps.Keys(rooms)) {
		members := c.selected(sel{To: []string{room}}, from.node)
		for {
			ev := c.fresh("warm")
			c.call(t, from, "emit", sel{To: []string{room}}, ev)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			var err error
			for _, m := range members {
				if _, err = m.WaitEvent(ctx, ev, ""); err != nil {
					break
				}
			}
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("room %s: broadcasts do not reach all its members %s: %v", room, names(members), err)
			}
		}
	}
}

// checkEmit emits an event with args through from to s, and checks that
// exactly the selected members got it, once, with these arguments.
func (c *clusterRun) checkEmit(t *testing.T, from *member, s sel, args ...any) {
	t.Helper()
	ev := c.fresh("ev")
	want := c.selected(s, from.node)
	if r := ackOf(t, c.call(t, from, "emit", append([]any{s, ev}, args...)...)); r != "" {
		t.Fatalf("emit %s: ack %s", s, r)
	}
	if args == nil {
		args = []any{}
	}
	wantArgs := clusterenv.Canon(args)
	ctx, cancel := context.WithTimeout(context.Background(), clusterSettleWait)
	defer cancel()
	for _, m := range want {
		if _, err := m.WaitEvent(ctx, ev, ""); err != nil {
			t.Fatalf("emit %s from %s: %s did not get it: %v", s, from.Name, m.Name, err)
		}
	}
	c.barrier(t, from)
	for _, m := range c.live() {
		n := count(m, ev)
		if wanted := slices.Contains(want, m); wanted && n != 1 || !wanted && n != 0 {
			t.Errorf("emit %s from node %s (%s): %s got it %d times, want %d", s, c.nodes[from.node].Name, from.Name, m.Name, n, map[bool]int{true: 1}[wanted])
		}
		for _, e := range m.Events() {
			if e.Name == ev && e.Args != wantArgs {
				t.Errorf("emit %s: %s got args %s, want %s", s, m.Name, e.Args, wantArgs)
			}
		}
	}
}

// result is the ack of emit-with-ack and server-side-emit.
type result struct {
	Replies []json.RawMessage `json:"replies"`
	Error   *string           `json:"error"`
}

func decodeResult(t *testing.T, raw string) result {
	t.Helper()
	var r result
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("ack %s: %v", raw, err)
	}
	if r.Replies == nil {
		t.Fatalf("ack %s has no replies array", raw)
	}
	return r
}

func (r result) replies() string { return clusterenv.Canon(r.Replies) }

// parallelIndex runs fn(0), …, fn(n-1) at once and waits for all. fn must
// not call t.Fatal (it runs on other goroutines).
func parallelIndex(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}
