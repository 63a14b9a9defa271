package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/e2e/internal/clusterenv"
	"github.com/gosio/socketio/e2e/internal/nginxenv"
	"github.com/gosio/socketio/e2e/internal/redisenv"
)

// nginxTopologies are the pairs of nodes TestNginxStickySessions puts
// behind nginx. Go nodes skip while app.Adapter has no Redis adapter.
var nginxTopologies = [][]string{
	{clusterenv.Node, clusterenv.Node},
	{clusterenv.Go, clusterenv.Go},
}

// nginxSite returns docs/nginx.conf with the addresses of the test: nginx
// on LISTEN (nginxenv picks it), the two nodes at node1 and node2.
func nginxSite(t *testing.T, node1, node2 string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	site := string(b)
	for from, to := range map[string]string{
		"listen 127.0.0.1:3000;": "listen LISTEN;",
		"server 127.0.0.1:3001;": "server " + node1 + ";",
		"server 127.0.0.1:3002;": "server " + node2 + ";",
	} {
		if n := strings.Count(site, from); n != 1 {
			t.Fatalf("docs/nginx.conf has %q %d times, want once (the test adapts it)", from, n)
		}
		site = strings.Replace(site, from, to, 1)
	}
	return site
}

// TestNginxStickySessions runs docs/nginx.conf in front of two nodes on
// one Redis: long-polling and upgrading clients of both kinds, coming from
// different addresses, connect through it and keep talking to the node
// that holds their session, and a broadcast from a client of one node
// reaches the clients of the other.
func TestNginxStickySessions(t *testing.T) {
	for _, kinds := range nginxTopologies {
		t.Run(topologyName(kinds), func(t *testing.T) {
			nginxenv.Require(t)
			rs := redisenv.Start(t)
			c := startCluster(t, kinds, rs.URL(), "redis")
			addr := nginxenv.Start(t, nginxSite(t,
				strings.TrimPrefix(c.nodes[0].URL, "http://"),
				strings.TrimPrefix(c.nodes[1].URL, "http://")))
			proxy := "http://" + addr

			ctx, cancel := context.WithTimeout(context.Background(), clusterCallWait)
			defer cancel()
			// Each client comes from its own loopback address; the hash of
			// the address picks its node. Clients of each kind, polling only
			// and polling then WebSocket, are added from new addresses until
			// each of the four has some on both nodes (the mapping of
			// addresses to nodes is fixed: this is deterministic).
			wantTransport := map[*member]string{}
			next := 2
			for _, kind := range []string{clusterenv.JS, clusterenv.GoClient} {
				for _, transports := range [][]string{{"polling"}, nil} {
					on := map[int]bool{}
					for len(on) < len(c.nodes) {
						if next > 120 {
							t.Fatalf("%s %v clients all went to one node: is the upstream hashing the client address?", kind, transports)
						}
						local := fmt.Sprintf("127.0.0.%d", next)
						next++
						m := c.addVia(t, ctx, proxy, kind, clusterenv.ClientOptions{
							Name:       fmt.Sprintf("%s%v@%s", kind, transports, local),
							Transports: transports,
							LocalAddr:  local,
						})
						t.Logf("%s: on node %s", m.Name, c.nodes[m.node].Name)
						on[m.node] = true
						wantTransport[m] = "websocket"
						if transports != nil {
							wantTransport[m] = "polling"
						}
					}
				}
			}

			// Upgrading clients reach WebSocket through the proxy;
			// polling-only ones stay on polling.
			for _, m := range c.live() {
				deadline := time.Now().Add(clusterSettleWait)
				for {
					got, err := m.Transport(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if got == wantTransport[m] {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: transport %s, want %s", m.Name, got, wantTransport[m])
					}
					time.Sleep(50 * time.Millisecond) // polling the client's state
				}
			}

			// Requests: each client's requests reach its node (join acks
			// with the node's name), over several round trips.
			for _, m := range c.live() {
				for _, room := range []string{"everyone", "n-" + c.nodes[m.node].Name} {
					if got, wantName := ackOf(t, c.call(t, m, "join", room)), clusterenv.Canon(c.nodes[m.node].Name); got != wantName {
						t.Fatalf("%s: join acked %s, want %s: the request reached another node", m.Name, got, wantName)
					}
					c.rooms[m.SID()][room] = true
				}
			}
			// Broadcasts from a client of each node reach the clients of
			// both, polling ones included.
			for i := range c.nodes {
				from := c.on(i, "")[0]
				c.checkEmit(t, from, sel{}, "hello from "+c.nodes[i].Name, []byte{1, 2, 3})
				c.checkEmit(t, from, sel{To: []string{"n-" + c.nodes[c.other(i)].Name}}, "to the other node")
				c.checkFetch(t, from, sel{To: []string{"everyone"}})
			}
			for _, m := range c.live() {
				if d := m.Disconnects(); len(d) > 0 {
					t.Errorf("%s disconnected: %v", m.Name, d)
				}
			}
		})
	}
}

// addVia connects a client through url (a proxy) and adds it to the model
// on the node its hello names.
func (c *clusterRun) addVia(t *testing.T, ctx context.Context, url, kind string, o clusterenv.ClientOptions) *member {
	t.Helper()
	var (
		cl  *clusterenv.Client
		err error
	)
	if kind == clusterenv.JS {
		cl, err = c.puppets.Connect(ctx, url, o)
	} else {
		cl, err = clusterenv.ConnectGo(ctx, t, url, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	hello, err := cl.WaitEvent(ctx, "hello", "")
	if err != nil {
		t.Fatal(err)
	}
	node := -1
	for i, n := range c.nodes {
		if hello.Args == clusterenv.Canon([]any{n.Name}) {
			node = i
		}
	}
	if node < 0 {
		t.Fatalf("%s: hello %s names no node", o.Name, hello.Args)
	}
	m := &member{Client: cl, node: node}
	c.members = append(c.members, m)
	c.rooms[cl.SID()] = map[string]bool{cl.SID(): true}
	return m
}
