//go:build !js

package redisemitter_test

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio/redisemitter"
)

// A worker that is not a Socket.IO server sends to the clients of the
// cluster's servers (on the classic Redis adapter, Go or Node.js).
func Example() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	e := redisemitter.New(rdb, nil)
	ctx := context.Background()
	_ = e.Emit(ctx, "time", "12:00")
	_ = e.To("room1").Except("muted").Emit(ctx, "news", "hello", []byte{1, 2})
	_ = e.Of("/admin").Emit(ctx, "alert")
	_ = e.In("room1").SocketsJoin(ctx, "room2")
	_ = e.ServerSideEmit(ctx, "reload")
}
