//go:build !js

package redisadapter_test

import (
	"context"
	"fmt"
	"net/http"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/redisadapter"
	"github.com/gosio/socketio/sio/server"
)

// Every node of the application runs the same code, with the same Redis:
// a broadcast on one node reaches the clients of all of them.
func ExampleNew() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	srv := server.New(&server.Options{Adapter: redisadapter.New(rdb, nil)})
	srv.OnConnection(func(s *server.Socket) {
		s.On("chat", func(e *sio.Event) {
			_ = srv.Emit("chat", e.Args.AsAny()...) // every client, on every node
		})
	})
	// Answer the other nodes' server-side events.
	srv.Of("/").OnServerSideEmit(func(e *sio.Event) {
		if e.Name == "whoami" {
			_ = e.Ack("node-1")
		}
	})
	http.Handle("/socket.io/", srv)
	// http.ListenAndServe(":3000", nil)
}

// The sharded adapter needs Redis 7. In the dynamic mode (the default), a
// broadcast to one room goes only to the nodes that have that room.
func ExampleNewSharded() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	srv := server.New(&server.Options{
		Adapter: redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{SubscriptionMode: redisadapter.Dynamic}),
	})
	_ = srv.To("room1").Emit("news", "hello")
}

// Cluster-wide queries: the sockets of every node, the other nodes'
// replies to a server-side event.
func ExampleNew_requests() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	srv := server.New(&server.Options{Adapter: redisadapter.New(rdb, nil)})
	ctx := context.Background()
	sockets, err := srv.In("room1").FetchSockets(ctx)
	if err == nil {
		for _, s := range sockets {
			s.Join("room2") // wherever it is connected
		}
	}
	replies, err := srv.Of("/").ServerSideEmitWithAck(ctx, "whoami")
	fmt.Println(len(replies), err)
}
