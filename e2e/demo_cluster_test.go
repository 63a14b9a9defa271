package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosio/socketio/e2e/internal/clusterenv"
	"github.com/gosio/socketio/e2e/internal/redisenv"
	"github.com/gosio/socketio/sio"
)

// TestDemoSeveralNodes runs two demo processes (cmd/server -redis) on one
// Redis, as the README's "Several nodes" says, with a client on each: they
// see each other in the room's users list and get each other's messages.
func TestDemoSeveralNodes(t *testing.T) {
	rs := redisenv.Start(t)
	requireClusterKinds(t)
	if err := demoBuild(); err != nil {
		t.Fatal(err)
	}
	web, err := filepath.Abs(filepath.Join("..", "web"))
	if err != nil {
		t.Fatal(err)
	}
	bin := clusterenv.BuildServer(t)
	var urls []string
	for _, name := range []string{"one", "two"} {
		p := clusterenv.StartNode(t, bin, clusterenv.NodeConfig{
			Kind: clusterenv.Go, Name: name, Redis: rs.URL(), Mode: "demo", Args: []string{"-web", web},
		})
		urls = append(urls, p.URL)
	}

	ctx, cancel := context.WithTimeout(context.Background(), clusterSettleWait)
	defer cancel()
	alice, err := clusterenv.ConnectGo(ctx, t, urls[0], clusterenv.ClientOptions{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := clusterenv.ConnectGo(ctx, t, urls[1], clusterenv.ClientOptions{Name: "bob", Transports: []string{"polling"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*clusterenv.Client{alice, bob} {
		reply, err := c.Call(ctx, "join", map[string]any{"name": c.Name, "room": "r"})
		if err != nil || len(reply) != 1 || !strings.Contains(string(reply[0]), `"ok":true`) {
			t.Fatalf("%s: join = %s, %v", c.Name, reply, err)
		}
	}
	both := clusterenv.Canon([]any{map[string]any{"room": "r", "users": []any{"alice", "bob"}}})
	for _, c := range []*clusterenv.Client{alice, bob} {
		if _, err := c.WaitEvent(ctx, "users", both); err != nil {
			t.Fatalf("%s never listed both users: %v (events %v)", c.Name, err, c.Events())
		}
	}

	// Messages cross nodes both ways.
	for _, pair := range [][2]*clusterenv.Client{{alice, bob}, {bob, alice}} {
		from, to := pair[0], pair[1]
		text := "hello from " + from.Name
		if _, err := from.Call(ctx, "chat", map[string]any{"id": from.Name + "-1", "text": text}); err != nil {
			t.Fatal(err)
		}
		err := to.WaitFor(ctx, func(events []clusterenv.Event, _ []sio.Reason) bool {
			for _, e := range events {
				var args []struct{ From, Text string }
				if e.Name == "chat" && json.Unmarshal([]byte(e.Args), &args) == nil && len(args) == 1 &&
					args[0].From == from.Name && args[0].Text == text {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatalf("%s did not get %s's message: %v", to.Name, from.Name, err)
		}
	}

	// Leaving on one node updates the other's list.
	since := len(alice.Events())
	bob.Close()
	alone := clusterenv.Canon([]any{map[string]any{"room": "r", "users": []any{"alice"}}})
	if _, err := alice.WaitEventSince(ctx, since, "users", alone); err != nil {
		t.Fatalf("alice's list did not lose bob: %v", err)
	}
}
