package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/gosio/socketio/sio/server"
)

// Adapter kinds of Adapter (the -adapter flag of cmd/server).
const (
	// AdapterRedis is the classic Redis adapter, wire-compatible with
	// createAdapter of @socket.io/redis-adapter.
	AdapterRedis = "redis"
	// AdapterSharded is the sharded Redis adapter (Redis 7 sharded
	// pub/sub), wire-compatible with createShardedAdapter.
	AdapterSharded = "sharded"
)

// ErrRedisUnavailable is returned by Adapter for a Redis URL while this
// build has no Redis adapter. Tests that need a cluster of Go nodes skip on it.
var ErrRedisUnavailable = errors.New("the Redis adapter is not available yet in this build")

// Adapter returns the adapter factory every mode of cmd/server uses, and
// what to close when the server has shut down. With an empty redisURL it
// is the in-memory adapter (one node); otherwise the Redis adapter of kind
// (AdapterRedis or AdapterSharded, "" meaning AdapterRedis) on the server
// at redisURL ("redis://host:port/db").
//
// It is the only place that knows which adapters exist, so that the modes
// of cmd/server do not.
func Adapter(kind, redisURL string, log *slog.Logger) (server.AdapterFactory, io.Closer, error) {
	switch kind {
	case "", AdapterRedis, AdapterSharded:
	default:
		return nil, nil, fmt.Errorf("unknown adapter %q (%s or %s)", kind, AdapterRedis, AdapterSharded)
	}
	if redisURL == "" {
		return func(nsp *server.Namespace) server.Adapter { return server.NewMemoryAdapter(nsp) }, nopCloser{}, nil
	}
	return nil, nil, fmt.Errorf("-redis %s: %w", redisURL, ErrRedisUnavailable)
}

// nopCloser closes nothing: the in-memory adapter holds no connection.
type nopCloser struct{}

func (nopCloser) Close() error { return nil }
