package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio/redisadapter"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/sio/streamsadapter"
)

// Adapter kinds of Adapter (the -adapter flag of cmd/server).
const (
	// AdapterRedis is the classic Redis adapter, wire-compatible with
	// createAdapter of @socket.io/redis-adapter.
	AdapterRedis = "redis"
	// AdapterSharded is the sharded Redis adapter (Redis 7 sharded
	// pub/sub), wire-compatible with createShardedAdapter.
	AdapterSharded = "sharded"
	// AdapterStreams is the Redis Streams adapter, wire-compatible with
	// @socket.io/redis-streams-adapter.
	AdapterStreams = "streams"
	// AdapterStreamsSharded is the Redis Streams adapter with its
	// requests and responses on sharded pub/sub (useShardedPubSub).
	AdapterStreamsSharded = "streams-sharded"
)

// Adapter returns the adapter factory every mode of cmd/server uses, and
// what to close when the server has shut down. With an empty redisURL it
// is the in-memory adapter (one node); otherwise the Redis adapter of kind
// (AdapterRedis, AdapterSharded, AdapterStreams or AdapterStreamsSharded, "" meaning AdapterRedis) on the server
// at redisURL ("redis://host:port/db").
//
// It is the only place that knows which adapters exist, so that the modes
// of cmd/server do not.
func Adapter(kind, redisURL string, log *slog.Logger) (server.AdapterFactory, io.Closer, error) {
	switch kind {
	case "", AdapterRedis, AdapterSharded, AdapterStreams, AdapterStreamsSharded:
	default:
		return nil, nil, fmt.Errorf("unknown adapter %q (%s, %s, %s or %s)", kind, AdapterRedis, AdapterSharded, AdapterStreams, AdapterStreamsSharded)
	}
	if redisURL == "" {
		return func(nsp *server.Namespace) server.Adapter { return server.NewMemoryAdapter(nsp) }, nopCloser{}, nil
	}
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("-redis %s: %w", redisURL, err)
	}
	client := goredis.NewClient(opt)
	// A wrong address fails at start, not at the first broadcast.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("-redis %s: %w", redisURL, err)
	}
	if kind == AdapterStreams || kind == AdapterStreamsSharded {
		return streamsadapter.New(client, &streamsadapter.Options{Logger: log, UseShardedPubSub: kind == AdapterStreamsSharded}), client, nil
	}
	if kind == AdapterSharded {
		return redisadapter.NewSharded(client, &redisadapter.ShardedOptions{Logger: log}), client, nil
	}
	return redisadapter.New(client, &redisadapter.Options{Logger: log}), client, nil
}

// nopCloser closes nothing: the in-memory adapter holds no connection.
type nopCloser struct{}

func (nopCloser) Close() error { return nil }
