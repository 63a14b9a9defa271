package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/e2e/internal/clusterenv"
	"github.com/gosio/socketio/e2e/internal/redisenv"
	"github.com/gosio/socketio/sio"
)

// clusterAdapters are the Redis adapters every cluster test runs on.
var clusterAdapters = []string{"redis", "sharded", "streams"}

// clusterTopologies are the clusters of TestCluster: the kinds of their
// nodes, A first. A cluster with Go nodes skips while app.Adapter has no
// Redis adapter. Node.js only validates the checker against the official
// implementation; mixed, every request crosses from Go to Node.js and back.
var clusterTopologies = [][]string{
	{clusterenv.Node, clusterenv.Node, clusterenv.Node},
	{clusterenv.Go, clusterenv.Go, clusterenv.Node},
	{clusterenv.Go, clusterenv.Go, clusterenv.Go},
}

// nodeFailureTopologies are the clusters of TestClusterNodeFailure; node
// B is the one that hangs then dies.
var nodeFailureTopologies = [][]string{
	{clusterenv.Node, clusterenv.Node, clusterenv.Node},
	{clusterenv.Go, clusterenv.Go, clusterenv.Node},
}

// redisRestartTopologies are the clusters of TestClusterRedisRestart.
var redisRestartTopologies = [][]string{
	{clusterenv.Node, clusterenv.Node},
	{clusterenv.Go, clusterenv.Node},
}

func topologyName(kinds []string) string { return strings.Join(kinds, "-") }

// TestClusterSingleNode runs the whole contract against one node of each
// kind on the in-memory adapter: the Go side of the contract (app.Cluster)
// and the Node.js reference answer the same checker alike.
func TestClusterSingleNode(t *testing.T) {
	for _, kind := range []string{clusterenv.Go, clusterenv.Node} {
		t.Run(kind, func(t *testing.T) {
			c := startCluster(t, []string{kind}, "", "")
			c.addClients(t, 2)
			c.runContract(t)
		})
	}
}

// TestCluster runs the whole contract on clusters of three nodes sharing a
// real redis-server, with each of the official adapters' formats:
// requests made on each node in turn act on, and are checked against,
// the sockets of every node.
func TestCluster(t *testing.T) {
	type run struct {
		adapter string
		kinds   []string
	}
	var runs []run
	for _, adapter := range clusterAdapters {
		for _, kinds := range clusterTopologies {
			runs = append(runs, run{adapter, kinds})
		}
	}
	// The streams adapter with useShardedPubSub (requests, responses and
	// the server count on sharded channels), on the mixed cluster only.
	runs = append(runs, run{"streams-sharded", clusterTopologies[1]})
	for _, r := range runs {
		t.Run(r.adapter+"/"+topologyName(r.kinds), func(t *testing.T) {
			rs := redisenv.Start(t)
			c := startCluster(t, r.kinds, rs.URL(), r.adapter)
			c.addClients(t, 1)
			if r.adapter == "streams-sharded" {
				// No node subscribes to the classic channel, so every node
				// (Go and Node.js alike) is on the sharded one.
				for cmd, want := range map[string]string{"SHARDCHANNELS": "*1\r\n", "CHANNELS": "*0\r\n"} {
					got, err := rs.Do("PUBSUB", cmd, "socket.io#/#")
					if err != nil || got != want {
						t.Fatalf("PUBSUB %s socket.io#/#: %q, %v; want %q", cmd, got, err, want)
					}
				}
			}
			c.runContract(t)
		})
	}
}

// runContract runs every scenario of the contract, in order (each builds on
// the rooms of the previous ones; disconnect-sockets, last, closes clients).
func (c *clusterRun) runContract(t *testing.T) {
	for _, sc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"hello", c.scenarioHello},
		{"server-count", c.scenarioServerCount},
		{"join-leave", c.scenarioJoinLeave},
		{"fetch", c.scenarioFetch},
		{"emit", c.scenarioEmit},
		{"sockets-join-leave", c.scenarioSocketsJoinLeave},
		{"emit-with-ack", c.scenarioEmitWithAck},
		{"server-side-emit", c.scenarioServerSideEmit},
		{"disconnect-sockets", c.scenarioDisconnectSockets},
	} {
		if !t.Run(sc.name, sc.fn) {
			return // the next scenarios build on this one's state
		}
	}
}

// scenarioHello: every client's first event is hello with its node's name.
func (c *clusterRun) scenarioHello(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterSettleWait)
	defer cancel()
	for _, m := range c.live() {
		if err := m.WaitFor(ctx, func(ev []clusterenv.Event, _ []sio.Reason) bool { return len(ev) > 0 }); err != nil {
			t.Fatal(err)
		}
		first := m.Events()[0]
		if want := clusterenv.Canon([]any{c.nodes[m.node].Name}); first.Name != "hello" || first.Args != want {
			t.Errorf("%s: first event %s %s, want hello %s", m.Name, first.Name, first.Args, want)
		}
	}
}

// scenarioServerCount: every node counts every node (once all have
// subscribed).
func (c *clusterRun) scenarioServerCount(t *testing.T) {
	want := fmt.Sprint(len(c.nodes))
	for i := range c.nodes {
		for _, m := range c.on(i, "") {
			deadline := time.Now().Add(clusterSettleWait)
			for {
				got := ackOf(t, c.call(t, m, "server-count"))
				if got == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("server-count through %s = %s, want %s", m.Name, got, want)
				}
				time.Sleep(50 * time.Millisecond) // polling the cluster's state
			}
		}
	}
}

// scenarioJoinLeave: join and leave act on the requester, ack the node's
// name, and show in every node's fetch.
func (c *clusterRun) scenarioJoinLeave(t *testing.T) {
	for i, m := range c.live() {
		for _, room := range []string{"n-" + c.nodes[m.node].Name, "k-" + m.Kind, fmt.Sprintf("p-%d", i%2)} {
			if got, want := ackOf(t, c.call(t, m, "join", room)), clusterenv.Canon(c.nodes[m.node].Name); got != want {
				t.Errorf("join %s through %s: ack %s, want %s", room, m.Name, got, want)
			}
			c.rooms[m.SID()][room] = true
		}
	}
	for i, m := range c.live() {
		if i%3 != 0 {
			continue
		}
		room := fmt.Sprintf("p-%d", i%2)
		if got, want := ackOf(t, c.call(t, m, "leave", room)), clusterenv.Canon(c.nodes[m.node].Name); got != want {
			t.Errorf("leave %s through %s: ack %s, want %s", room, m.Name, got, want)
		}
		delete(c.rooms[m.SID()], room)
	}
	for i := range c.nodes {
		c.checkFetch(t, c.on(i, "")[0], sel{})
	}
	c.settle(t)
}

// selectors returns the selectors a request made on node i is checked with.
func (c *clusterRun) selectors(i int) []sel {
	o := c.other(i)
	var peer string // a socket of another node (of this one in a cluster of one)
	if ms := c.on(o, ""); len(ms) > 0 {
		peer = ms[len(ms)-1].SID()
	}
	return []sel{
		{},
		{To: []string{"k-js"}},
		{To: []string{"n-" + c.nodes[o].Name, "p-1"}},
		{Except: []string{"k-go"}},
		{To: []string{"p-0"}, Except: []string{"n-" + c.nodes[i].Name}},
		{Local: true},
		{Local: true, To: []string{"k-go"}},
		{To: []string{peer}},
		{To: []string{"nobody"}},
	}
}

// requesters returns the members of node i, alternating kinds over the
// calls: the request of selector k goes through requesters[k%len].
func (c *clusterRun) requesters(i int) []*member { return c.on(i, "") }

// scenarioFetch: fetch from every node returns the selected sockets of
// every node, with their rooms.
func (c *clusterRun) scenarioFetch(t *testing.T) {
	for i := range c.nodes {
		rq := c.requesters(i)
		for k, s := range c.selectors(i) {
			c.checkFetch(t, rq[k%len(rq)], s)
		}
	}
}

// scenarioEmit: emit from every node reaches exactly the selected sockets
// of every node, with its arguments (binary included).
func (c *clusterRun) scenarioEmit(t *testing.T) {
	argSets := [][]any{
		{"text", 1.5, map[string]any{"a": []any{1, "x", nil, true}}},
		{"bin", []byte{1, 2, 3}, map[string]any{"nested": []byte{0xff, 0}}},
		nil,
	}
	for i := range c.nodes {
		rq := c.requesters(i)
		for k, s := range c.selectors(i) {
			if k == 1 || k == 6 {
				continue // fetch covers these; keep the emits few
			}
			c.checkEmit(t, rq[k%len(rq)], s, argSets[k%len(argSets)]...)
		}
	}
}

// scenarioSocketsJoinLeave: sockets-join and sockets-leave from every node
// change the rooms of the selected sockets on every node.
func (c *clusterRun) scenarioSocketsJoinLeave(t *testing.T) {
	apply := func(rq *member, event string, s sel, room string) {
		t.Helper()
		if r := ackOf(t, c.call(t, rq, event, s, room)); r != "" {
			t.Fatalf("%s: ack %s", event, r)
		}
		for _, m := range c.selected(s, rq.node) {
			if event == "sockets-join" {
				c.rooms[m.SID()][room] = true
			} else {
				delete(c.rooms[m.SID()], room)
			}
		}
		// The classic adapter applies the request when it comes back from
		// Redis, even on the requesting node: poll.
		c.awaitFetch(t, rq, sel{To: []string{room}})
		c.awaitFetch(t, c.on(c.other(rq.node), "")[0], sel{To: []string{room}})
	}
	for i, n := range c.nodes {
		rq := c.requesters(i)
		o := c.other(i)
		room := "sj-" + n.Name
		apply(rq[0], "sockets-join", sel{To: []string{"n-" + c.nodes[o].Name}}, room)
		apply(rq[1%len(rq)], "sockets-join", sel{To: []string{"k-go"}, Except: []string{"n-" + c.nodes[o].Name}}, room)
		apply(rq[0], "sockets-join", sel{Local: true, To: []string{"k-js"}}, room)
		// A room made by requests from another node carries broadcasts.
		c.settle(t)
		c.checkEmit(t, rq[0], sel{To: []string{room}}, "to "+room)
		apply(rq[1%len(rq)], "sockets-leave", sel{To: []string{"k-go"}}, room)
		apply(rq[0], "sockets-leave", sel{}, room)
	}
	c.checkFetch(t, c.live()[0], sel{})
}

// scenarioEmitWithAck: broadcasts with acks from every node gather the
// replies of the selected sockets of every node; a client that does not
// answer makes the request end with an error, at the timeout, with the
// others' replies.
func (c *clusterRun) scenarioEmitWithAck(t *testing.T) {
	ask := func(rq *member, s sel, timeoutMs int) result {
		t.Helper()
		return decodeResult(t, ackOf(t, c.call(t, rq, "emit-with-ack", s, c.fresh("ask"), timeoutMs)))
	}
	for i, n := range c.nodes {
		rq := c.requesters(i)
		for k, s := range []sel{{}, {To: []string{"n-" + c.nodes[c.other(i)].Name}}, {To: []string{"nobody"}}} {
			r := ask(rq[k%len(rq)], s, 10000)
			if want := sids(c.selected(s, i)); r.Error != nil || r.replies() != want {
				t.Errorf("emit-with-ack %s from node %s: replies %s error %v, want %s and no error", s, n.Name, r.replies(), deref(r.Error), want)
			}
		}
	}

	// Local: the replies of this node's sockets. socket.io 4.8 waits for
	// every node to report its client count, which the others never do for
	// a local broadcast, so the official server ends it at the timeout,
	// with all the replies: either way is accepted. The nodes are asked at
	// once (each may wait for its timeout).
	local := sel{Local: true}
	var rqs []*member
	for i := range c.nodes {
		rqs = append(rqs, c.requesters(i)[0])
	}
	for i, a := range c.askAll(t, rqs, local, 2000) {
		n := c.nodes[i]
		if want := sids(c.selected(local, i)); a.r.replies() != want {
			t.Errorf("emit-with-ack %s from node %s: replies %s error %v, want %s", local, n.Name, a.r.replies(), deref(a.r.Error), want)
		} else if a.r.Error != nil {
			t.Logf("emit-with-ack %s from node %s: all the replies, then %q (socket.io waits for the other nodes' counts)", local, n.Name, *a.r.Error)
		}
	}

	// Silent clients, one of each kind, on the first and last nodes.
	ctx, cancel := context.WithTimeout(context.Background(), clusterCallWait)
	defer cancel()
	last := len(c.nodes) - 1
	silent := []*member{
		c.add(t, ctx, last, clusterenv.JS, clusterenv.ClientOptions{Name: "silent-js", Silent: true}),
		c.add(t, ctx, 0, clusterenv.GoClient, clusterenv.ClientOptions{Name: "silent-go", Silent: true}),
	}
	answering := slices.DeleteFunc(c.live(), func(m *member) bool { return slices.Contains(silent, m) })
	for i, a := range c.askAll(t, rqs, sel{}, 1500) {
		n := c.nodes[i]
		if a.r.Error == nil || a.r.replies() != sids(answering) {
			t.Errorf("emit-with-ack with silent clients from node %s: replies %s error %v, want %s and an error", n.Name, a.r.replies(), deref(a.r.Error), sids(answering))
		}
		if a.elapsed < 1400*time.Millisecond {
			t.Errorf("emit-with-ack with silent clients from node %s ended after %v, before its 1.5 s timeout", n.Name, a.elapsed)
		}
	}
	for _, m := range silent {
		m.Close()
		c.forget(m)
	}
	for i := range c.nodes {
		c.awaitFetch(t, c.on(i, "")[0], sel{})
	}
}

// asked is the outcome of an emit-with-ack of askAll.
type asked struct {
	r       result
	elapsed time.Duration
}

// askAll sends emit-with-ack (s, timeoutMs) through every requester at
// once and returns the acks in the same order.
func (c *clusterRun) askAll(t *testing.T, rqs []*member, s sel, timeoutMs int) []asked {
	t.Helper()
	events := make([]string, len(rqs))
	for i := range rqs {
		events[i] = c.fresh("ask")
	}
	out := make([]asked, len(rqs))
	errs := make([]error, len(rqs))
	raws := make([]string, len(rqs))
	parallelIndex(len(rqs), func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), clusterCallWait)
		defer cancel()
		start := time.Now()
		reply, err := rqs[i].Call(ctx, "emit-with-ack", s, events[i], timeoutMs)
		out[i].elapsed = time.Since(start)
		if err == nil && len(reply) != 1 {
			err = fmt.Errorf("an ack with %d arguments", len(reply))
		}
		if err == nil {
			raws[i] = string(reply[0])
		}
		errs[i] = err
	})
	for i := range rqs {
		if errs[i] != nil {
			t.Fatalf("emit-with-ack %s through %s: %v", s, rqs[i].Name, errs[i])
		}
		out[i].r = decodeResult(t, raws[i])
	}
	return out
}

// scenarioServerSideEmit: serverSideEmitWithAck from every node gets one
// reply per other node: its name.
func (c *clusterRun) scenarioServerSideEmit(t *testing.T) {
	for i, n := range c.nodes {
		var others []string
		for j, o := range c.nodes {
			if j != i {
				others = append(others, o.Name)
			}
		}
		if others == nil {
			others = []string{}
		}
		for _, rq := range c.requesters(i) {
			r := decodeResult(t, ackOf(t, c.call(t, rq, "server-side-emit", 10000)))
			if want := clusterenv.Canon(others); r.Error != nil || r.replies() != want {
				t.Errorf("server-side-emit from node %s (%s): replies %s error %v, want %s and no error", n.Name, rq.Name, r.replies(), deref(r.Error), want)
			}
		}
	}
}

// scenarioDisconnectSockets: disconnect-sockets from one node closes the
// selected clients of every node, and only them. It closes clients: last.
func (c *clusterRun) scenarioDisconnectSockets(t *testing.T) {
	disconnect := func(rq *member, s sel) {
		t.Helper()
		targets := c.selected(s, rq.node)
		if slices.Contains(targets, rq) {
			t.Fatalf("disconnect-sockets %s would close its requester %s", s, rq.Name)
		}
		if r := ackOf(t, c.call(t, rq, "disconnect-sockets", s)); r != "" {
			t.Fatalf("disconnect-sockets: ack %s", r)
		}
		ctx, cancel := context.WithTimeout(context.Background(), clusterSettleWait)
		defer cancel()
		for _, m := range targets {
			if err := m.WaitFor(ctx, func(_ []clusterenv.Event, d []sio.Reason) bool { return len(d) > 0 }); err != nil {
				t.Fatalf("disconnect-sockets %s through %s: %s still connected: %v", s, rq.Name, m.Name, err)
			}
			c.forget(m)
		}
		c.barrier(t, rq)
		for _, m := range c.live() {
			if d := m.Disconnects(); len(d) > 0 {
				t.Errorf("disconnect-sockets %s through %s: %s disconnected too (%v)", s, rq.Name, m.Name, d)
			}
		}
		for i := range c.nodes {
			if ms := c.on(i, ""); len(ms) > 0 { // a node may have lost all its clients
				c.awaitFetch(t, ms[0], sel{})
			}
		}
	}
	// Every Go client, on every node, through a JS client of the first node.
	disconnect(c.on(0, clusterenv.JS)[0], sel{To: []string{"k-go"}})
	// One JS client of the first node through one of the last node.
	js := c.on(len(c.nodes)-1, clusterenv.JS)
	rq := js[len(js)-1]
	target := c.on(0, clusterenv.JS)[0]
	if target == rq {
		t.Fatal("a cluster of one node needs two JS clients")
	}
	disconnect(rq, sel{To: []string{target.SID()}})
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// TestClusterNodeFailure: a node that hangs (SIGSTOP: its Redis
// connection stays, the others still count it) makes the others' requests
// end with a timeout error, never hang; once it dies (SIGKILL) the server
// count drops and requests work again without it.
func TestClusterNodeFailure(t *testing.T) {
	for _, adapter := range clusterAdapters {
		for _, kinds := range nodeFailureTopologies {
			t.Run(adapter+"/"+topologyName(kinds), func(t *testing.T) {
				rs := redisenv.Start(t)
				c := startCluster(t, kinds, rs.URL(), adapter)
				c.addClients(t, 1)
				c.scenarioServerCount(t)
				c.nodeFailure(t, 1)
			})
		}
	}
}

// nodeFailure freezes then kills node victim and checks the requests of
// the others.
func (c *clusterRun) nodeFailure(t *testing.T, victim int) {
	var (
		survivors []int
		alive     []*member // clients of the surviving nodes
	)
	for i := range c.nodes {
		if i != victim {
			survivors = append(survivors, i)
			alive = append(alive, c.on(i, "")...)
		}
	}
	c.nodes[victim].Freeze()

	// From each survivor, at once: every request ends, with an error.
	type outcome struct {
		rq      *member
		what    string
		ack     string
		err     error
		elapsed time.Duration
	}
	var requests []func() outcome
	for k, i := range survivors {
		rqs := c.on(i, "")
		rq := rqs[k%len(rqs)]
		do := func(what string, args ...any) func() outcome {
			return func() outcome {
				ctx, cancel := context.WithTimeout(context.Background(), clusterCallWait)
				defer cancel()
				start := time.Now()
				reply, err := rq.Call(ctx, what, args...)
				o := outcome{rq: rq, what: what, err: err, elapsed: time.Since(start)}
				if err == nil && len(reply) == 1 {
					o.ack = string(reply[0])
				}
				return o
			}
		}
		requests = append(requests,
			do("emit-with-ack", sel{}, c.fresh("ask"), 1500),
			do("server-side-emit", 1500),
			do("fetch", sel{}),
		)
	}
	outcomes := make([]outcome, len(requests))
	parallelIndex(len(requests), func(i int) { outcomes[i] = requests[i]() })
	for _, o := range outcomes {
		where := fmt.Sprintf("%s through %s with node %s frozen", o.what, o.rq.Name, c.nodes[victim].Name)
		if o.err != nil {
			t.Errorf("%s: %v (after %v)", where, o.err, o.elapsed)
			continue
		}
		t.Logf("%s: %v, %s", where, o.elapsed.Round(time.Millisecond), o.ack)
		switch o.what {
		case "emit-with-ack":
			r := decodeResult(t, o.ack)
			if r.Error == nil || r.replies() != sids(alive) {
				t.Errorf("%s: replies %s error %s, want %s and an error", where, r.replies(), deref(r.Error), sids(alive))
			}
		case "server-side-emit":
			r := decodeResult(t, o.ack)
			if r.Error == nil {
				t.Errorf("%s: no error (replies %s)", where, r.replies())
			}
			var names []string
			if err := json.Unmarshal([]byte(r.replies()), &names); err != nil {
				t.Errorf("%s: replies %s: %v", where, r.replies(), err)
			}
			for _, name := range names {
				if name == c.nodes[victim].Name || name == c.nodes[o.rq.node].Name {
					t.Errorf("%s: a reply from %s", where, name)
				}
			}
		case "fetch":
			var e struct {
				Error string `json:"error"`
			}
			if json.Unmarshal([]byte(o.ack), &e) != nil || e.Error == "" {
				t.Errorf("%s: ack %s, want {\"error\": …}", where, o.ack)
			}
		}
	}

	// Dead: its subscriptions go with its connections.
	c.nodes[victim].Kill()
	for _, m := range c.on(victim, "") {
		c.forget(m)
	}
	for _, i := range survivors {
		rq := c.on(i, "")[0]
		want := fmt.Sprint(len(survivors))
		deadline := time.Now().Add(clusterSettleWait)
		for {
			got := ackOf(t, c.call(t, rq, "server-count"))
			if got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server-count through %s after node %s died = %s, want %s", rq.Name, c.nodes[victim].Name, got, want)
			}
			time.Sleep(50 * time.Millisecond) // polling the cluster's state
		}
		c.checkFetch(t, rq, sel{})
		r := decodeResult(t, ackOf(t, c.call(t, rq, "emit-with-ack", sel{}, c.fresh("ask"), 10000)))
		if r.Error != nil || r.replies() != sids(alive) {
			t.Errorf("emit-with-ack through %s after node %s died: replies %s error %s, want %s", rq.Name, c.nodes[victim].Name, r.replies(), deref(r.Error), sids(alive))
		}
		var others []string
		for _, j := range survivors {
			if j != i {
				others = append(others, c.nodes[j].Name)
			}
		}
		r = decodeResult(t, ackOf(t, c.call(t, rq, "server-side-emit", 10000)))
		if r.Error != nil || r.replies() != clusterenv.Canon(others) {
			t.Errorf("server-side-emit through %s after node %s died: replies %s error %s, want %s", rq.Name, c.nodes[victim].Name, r.replies(), deref(r.Error), clusterenv.Canon(others))
		}
	}
	c.checkEmit(t, alive[0], sel{}, "after")
}

// TestClusterRedisRestart: Redis restarts under a running cluster; the
// clients stay connected, and broadcasts and requests work again once
// the nodes have reconnected (what was published meanwhile is lost).
func TestClusterRedisRestart(t *testing.T) {
	for _, adapter := range clusterAdapters {
		for _, kinds := range redisRestartTopologies {
			t.Run(adapter+"/"+topologyName(kinds), func(t *testing.T) {
				rs := redisenv.Start(t)
				c := startCluster(t, kinds, rs.URL(), adapter)
				c.addClients(t, 1)
				c.scenarioServerCount(t)
				c.checkEmit(t, c.on(0, "")[0], sel{}, "before")

				rs.Restart()

				// Broadcasts resume from every node: retry until one
				// reaches every client (the nodes reconnect on their own
				// schedule; those published before are lost).
				for i := range c.nodes {
					from := c.on(i, "")[0]
					deadline := time.Now().Add(30 * time.Second)
					for {
						ev := c.fresh("resume")
						c.call(t, from, "emit", sel{}, ev)
						ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
						var err error
						for _, m := range c.live() {
							if _, err = m.WaitEvent(ctx, ev, ""); err != nil {
								break
							}
						}
						cancel()
						if err == nil {
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("broadcasts from node %s do not reach every client after the Redis restart: %v", c.nodes[i].Name, err)
						}
					}
				}
				c.scenarioServerCount(t)
				for i := range c.nodes {
					c.checkFetch(t, c.on(i, "")[0], sel{})
					c.checkEmit(t, c.on(i, "")[0], sel{}, "after", i)
				}
				for _, m := range c.members {
					if d := m.Disconnects(); len(d) > 0 {
						t.Errorf("%s disconnected during the Redis restart: %v", m.Name, d)
					}
				}
			})
		}
	}
}
