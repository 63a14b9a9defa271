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
	if err := x.WaitFor(ctx, func(_ []clusterenv.Event, d []string) bool { return len(d) > 0 }); err != nil {
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

	lb.SetTarget(hostPort(nodeB.URL))
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
	err = x.WaitFor(ctx, func(ev []clusterenv.Event, _ []string) bool {
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
