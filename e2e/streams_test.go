package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/e2e/internal/clusterenv"
	"github.com/gosio/socketio/e2e/internal/redisenv"
	"github.com/gosio/socketio/e2e/internal/tcpproxy"
	"github.com/gosio/socketio/sio"
)

// The Redis Streams adapter beyond the cluster contract (which TestCluster,
// TestClusterNodeFailure and TestClusterRedisRestart run on it): connection
// state recovery across nodes, and a node cut from Redis catching up with
// the stream.

// streamOffset is the form of a stream entry id, the offset a broadcast
// carries as its last argument with recovery on.
var streamOffset = regexp.MustCompile(`^\d+-\d+$`)

// hostPort returns host:port of an http:// URL.
func hostPort(url string) string { return strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/") }

// stateAck is the ack of the contract's state.
type stateAck struct {
	ID        string         `json:"id"`
	Rooms     []string       `json:"rooms"`
	Data      map[string]any `json:"data"`
	Recovered bool           `json:"recovered"`
	Node      string         `json:"node"`
}

func callState(t *testing.T, ctx context.Context, cl *clusterenv.Client) stateAck {
	t.Helper()
	reply, err := cl.Call(ctx, "state")
	if err != nil || len(reply) != 1 {
		t.Fatalf("state through %s: %v %s", cl.Name, err, reply)
	}
	var s stateAck
	if err := json.Unmarshal(reply[0], &s); err != nil {
		t.Fatalf("state through %s: %s: %v", cl.Name, reply[0], err)
	}
	return s
}

func mustCall(t *testing.T, ctx context.Context, cl *clusterenv.Client, event string, args ...any) []json.RawMessage {
	t.Helper()
	reply, err := cl.Call(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s through %s: %v", event, cl.Name, err)
	}
	return reply
}

// TestStreamsRecovery: a client of node A, behind a proxy as behind a
// load balancer, loses its connection; while it is away, events are
// broadcast from A to its room, to its own id, to everyone, and to
// sockets that exclude it; it reconnects through the proxy, which now
// sends it to node B, and B gives it back its id, rooms and data, and the
// events it missed, once each and in order, each with its stream offset;
// live events of its room reach it afterwards. Every pair of node kinds,
// with the official JS client and the Go client.
func TestStreamsRecovery(t *testing.T) {
	requireClusterKinds(t)
	goBin := clusterenv.BuildServer(t)
	for _, pair := range [][2]string{
		{clusterenv.Go, clusterenv.Go},
		{clusterenv.Go, clusterenv.Node},
		{clusterenv.Node, clusterenv.Go},
		{clusterenv.Node, clusterenv.Node},
	} {
		for _, ck := range []string{clusterenv.JS, clusterenv.GoClient} {
			t.Run(pair[0]+"-to-"+pair[1]+"/"+ck, func(t *testing.T) {
				streamsRecovery(t, goBin, pair[0], pair[1], ck)
			})
		}
	}
}

func streamsRecovery(t *testing.T, goBin, kindA, kindB, clientKind string) {
	rs := redisenv.Start(t)
	nodeA := clusterenv.StartNode(t, goBin, clusterenv.NodeConfig{Kind: kindA, Name: "A", Redis: rs.URL(), Adapter: "streams", Recovery: true})
	nodeB := clusterenv.StartNode(t, goBin, clusterenv.NodeConfig{Kind: kindB, Name: "B", Redis: rs.URL(), Adapter: "streams", Recovery: true})
	rc := goredis.NewClient(&goredis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { _ = rc.Close() })
	lb := tcpproxy.Start(t, hostPort(nodeA.URL))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	o := clusterenv.ClientOptions{Name: clientKind + "-x", Transports: []string{"websocket"}, Reconnect: true}
	var x *clusterenv.Client
	var err error
	if clientKind == clusterenv.JS {
		x, err = clusterenv.StartPuppets(t).Connect(ctx, "http://"+lb.Addr(), o)
	} else {
		x, err = clusterenv.ConnectGo(ctx, t, "http://"+lb.Addr(), o)
	}
	if err != nil {
		t.Fatal(err)
	}
	sender, err := clusterenv.ConnectGo(ctx, t, nodeA.URL, clusterenv.ClientOptions{Name: "sender", Transports: []string{"websocket"}})
	if err != nil {
		t.Fatal(err)
	}
	// Both nodes read the stream and count each other.
	pollServerCount(t, ctx, sender, 2)

	mustCall(t, ctx, x, "join", "r1")
	mustCall(t, ctx, x, "join", "r2")
	data := map[string]any{"name": "x", "n": 1.5, "list": []any{"a", true, nil}}
	mustCall(t, ctx, x, "set-data", data)
	before := callState(t, ctx, x)
	if before.Node != "A" || before.ID != x.SID() {
		t.Fatalf("before: state %+v, want node A and id %s", before, x.SID())
	}
	// A live event gives the client an offset to come back with.
	mustCall(t, ctx, sender, "emit", sel{To: []string{"r1"}}, "live", "before")
	if _, err := x.WaitEvent(ctx, "live", ""); err != nil {
		t.Fatal(err)
	}

	lb.Cut()
	if err := x.WaitFor(ctx, func(_ []clusterenv.Event, d []sio.Reason) bool { return len(d) > 0 }); err != nil {
		t.Fatal(err)
	}
	// A has persisted the session once its socket is gone.
	key := "sio:session:"
	pollUntilE(t, ctx, "the session in Redis", func() bool {
		keys, _ := rc.Keys(ctx, key+"*").Result()
		return len(keys) == 1
	})
	since := len(x.Events())

	// While the client is away.
	mustCall(t, ctx, sender, "emit", sel{To: []string{"r1"}}, "missed", 1)
	mustCall(t, ctx, sender, "emit", sel{To: []string{before.ID}}, "missed", 2)
	mustCall(t, ctx, sender, "emit", sel{To: []string{"nobody"}}, "not-for-x", 0)
	mustCall(t, ctx, sender, "emit", sel{}, "missed", 3)
	mustCall(t, ctx, sender, "emit", sel{To: []string{"r2"}, Except: []string{"r1"}}, "not-for-x", 1)
	mustCall(t, ctx, sender, "emit", sel{To: []string{"r1", "r2"}}, "missed", 4, []byte{1, 2, 3})
	mustCall(t, ctx, sender, "emit", sel{To: []string{"r2"}}, "missed", 5, map[string]any{"k": "v"})

	lb.Resume(t, hostPort(nodeB.URL))
	if _, err := x.WaitEventSince(ctx, since, "missed", ""); err != nil {
		t.Fatal(err)
	}
	after := callState(t, ctx, x)
	if after.Node != "B" || after.ID != before.ID || !after.Recovered ||
		strings.Join(after.Rooms, ",") != strings.Join(before.Rooms, ",") || clusterenv.Canon(after.Data) != clusterenv.Canon(data) {
		t.Errorf("after the reconnection: state %+v, want node B, recovered, id %s, rooms %v, data %s", after, before.ID, before.Rooms, clusterenv.Canon(data))
	}
	// Live events of its rooms reach it on B.
	mustCall(t, ctx, sender, "emit", sel{To: []string{"r1"}}, "live", "after")
	err = x.WaitFor(ctx, func(ev []clusterenv.Event, _ []sio.Reason) bool {
		for _, e := range ev[since:] {
			if e.Name == "live" && strings.HasPrefix(e.Args, `["after",`) {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no live event after the reconnection: %v", err)
	}

	want := []string{`[1]`, `[2]`, `[3]`, `[4,{"$bin":"010203"}]`, `[5,{"k":"v"}]`}
	var got []string
	lastOffset := ""
	for _, e := range x.Events()[since:] {
		switch e.Name {
		case "not-for-x":
			t.Errorf("the client got %s %s", e.Name, e.Args)
		case "missed":
			var args []json.RawMessage
			if err := json.Unmarshal([]byte(e.Args), &args); err != nil || len(args) == 0 {
				t.Fatalf("missed %s: %v", e.Args, err)
			}
			var off string
			if json.Unmarshal(args[len(args)-1], &off) != nil || !streamOffset.MatchString(off) {
				t.Errorf("missed %s: the last argument is no stream offset", e.Args)
			} else if lastOffset != "" && compareStreamIDs(off, lastOffset) <= 0 {
				t.Errorf("missed %s: offset %s not after %s", e.Args, off, lastOffset)
			}
			lastOffset = off
			rest, _ := json.Marshal(args[:len(args)-1])
			got = append(got, clusterenv.Canon(json.RawMessage(rest)))
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("missed events %v, want %v (once each, in order)", got, want)
	}
}

// compareStreamIDs compares two stream ids.
func compareStreamIDs(a, b string) int {
	var am, as, bm, bs uint64
	fmt.Sscanf(a, "%d-%d", &am, &as)
	fmt.Sscanf(b, "%d-%d", &bm, &bs)
	switch {
	case am != bm:
		if am < bm {
			return -1
		}
		return 1
	case as < bs:
		return -1
	case as > bs:
		return 1
	}
	return 0
}

func pollServerCount(t *testing.T, ctx context.Context, cl *clusterenv.Client, want int) {
	t.Helper()
	pollUntilE(t, ctx, fmt.Sprintf("server-count %d through %s", want, cl.Name), func() bool {
		reply, err := cl.Call(ctx, "server-count")
		return err == nil && len(reply) == 1 && string(reply[0]) == fmt.Sprint(want)
	})
}

// pollUntilE polls cond until it holds, failing the test when ctx ends.
func pollUntilE(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond): // polling
		}
	}
}

// TestStreamsCatchUp: node V reaches Redis through a proxy; the proxy
// cuts V's connections (as CLIENT KILL would) and refuses new ones for a
// while, during which another node broadcasts and V's own clients ask V
// to broadcast. Once V reaches Redis again, V's clients get every event
// broadcast meanwhile, once and in order (V read the stream on from where
// it was), and the others get V's (written once Redis was back); the
// server count is whole again. Pub/sub adapters lose all of these.
func TestStreamsCatchUp(t *testing.T) {
	requireClusterKinds(t)
	goBin := clusterenv.BuildServer(t)
	for _, kinds := range [][2]string{
		{clusterenv.Go, clusterenv.Node}, // V is the Go node
		{clusterenv.Node, clusterenv.Go}, // V is the Node.js node
	} {
		t.Run("victim-"+kinds[0]+"/other-"+kinds[1], func(t *testing.T) {
			streamsCatchUp(t, goBin, kinds[0], kinds[1])
		})
	}
}

func streamsCatchUp(t *testing.T, goBin, victimKind, otherKind string) {
	rs := redisenv.Start(t)
	px := tcpproxy.Start(t, rs.Addr())
	victim := clusterenv.StartNode(t, goBin, clusterenv.NodeConfig{Kind: victimKind, Name: "V", Redis: "redis://" + px.Addr(), Adapter: "streams"})
	other := clusterenv.StartNode(t, goBin, clusterenv.NodeConfig{Kind: otherKind, Name: "O", Redis: rs.URL(), Adapter: "streams"})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	puppets := clusterenv.StartPuppets(t)
	connect := func(url, name string, js bool) *clusterenv.Client {
		o := clusterenv.ClientOptions{Name: name, Transports: []string{"websocket"}}
		var cl *clusterenv.Client
		var err error
		if js {
			cl, err = puppets.Connect(ctx, url, o)
		} else {
			cl, err = clusterenv.ConnectGo(ctx, t, url, o)
		}
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	onV := []*clusterenv.Client{connect(victim.URL, "js@V", true), connect(victim.URL, "go@V", false)}
	onO := []*clusterenv.Client{connect(other.URL, "js@O", true), connect(other.URL, "go@O", false)}
	pollServerCount(t, ctx, onO[0], 2)
	pollServerCount(t, ctx, onV[0], 2)
	// The official reader starts from "$" and keeps it until it reads an
	// entry: cut before that, it would resume from "$" and miss what was
	// added meanwhile. One entry read first gives it its position.
	mustCall(t, ctx, onO[0], "emit", sel{}, "before")
	for _, cl := range onV {
		if _, err := cl.WaitEvent(ctx, "before", ""); err != nil {
			t.Fatalf("%s: %v", cl.Name, err)
		}
	}

	px.Cut()
	// V's subscriptions are gone with its connections: O counts itself.
	pollServerCount(t, ctx, onO[0], 1)

	const n = 5
	for i := range n {
		mustCall(t, ctx, onO[i%2], "emit", sel{}, "from-o", i)
		mustCall(t, ctx, onV[i%2], "emit", sel{}, "from-v", i)
	}
	// V cannot have read O's events yet: it has no connection to Redis.
	for _, cl := range onV {
		for _, e := range cl.Events() {
			if e.Name == "from-o" {
				t.Fatalf("%s got %s %s while V was cut from Redis", cl.Name, e.Name, e.Args)
			}
		}
	}

	px.Resume(t, rs.Addr())
	pollServerCount(t, ctx, onO[0], 2)
	everyone := append(append([]*clusterenv.Client{}, onV...), onO...)
	for _, cl := range everyone {
		for _, name := range []string{"from-o", "from-v"} {
			err := cl.WaitFor(ctx, func(ev []clusterenv.Event, _ []sio.Reason) bool {
				return countEvents(ev, name) >= n
			})
			if err != nil {
				t.Fatalf("%s: %d of %d %s events: %v", cl.Name, countEvents(cl.Events(), name), n, name, err)
			}
		}
	}
	// A last event from each node, after which nothing more may come.
	mustCall(t, ctx, onO[0], "emit", sel{}, "end-o")
	mustCall(t, ctx, onV[0], "emit", sel{}, "end-v")
	for _, cl := range everyone {
		for _, name := range []string{"end-o", "end-v"} {
			if _, err := cl.WaitEvent(ctx, name, ""); err != nil {
				t.Fatalf("%s: %v", cl.Name, err)
			}
		}
		for _, name := range []string{"from-o", "from-v"} {
			var got []string
			for _, e := range cl.Events() {
				if e.Name == name {
					got = append(got, e.Args)
				}
			}
			if want := "[0] [1] [2] [3] [4]"; strings.Join(got, " ") != want {
				t.Errorf("%s: %s events %v, want %s (once each, in order)", cl.Name, name, got, want)
			}
		}
	}
}

func countEvents(ev []clusterenv.Event, name string) int {
	n := 0
	for _, e := range ev {
		if e.Name == name {
			n++
		}
	}
	return n
}
