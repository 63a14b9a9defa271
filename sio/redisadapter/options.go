package redisadapter

import (
	"log/slog"
	"time"
)

// Options configures the classic adapter (New). The zero value of each
// field means the official default given in its comment.
type Options struct {
	// Key is the prefix of the channels (default "socket.io").
	Key string
	// RequestsTimeout bounds the wait for the other nodes' responses to
	// FetchSockets and ServerSideEmit with acknowledgements, and for their
	// client counts after a broadcast with acknowledgements (default 5 s).
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel makes this node answer requests on
	// the requester's own response channel (<key>-response#<nsp>#<uid>#)
	// rather than the shared one (default false).
	PublishOnSpecificResponseChannel bool
	// Logger receives the adapter's logs (default: the server's logger).
	Logger *slog.Logger
}

// Subscription modes of the sharded adapter (ShardedOptions.SubscriptionMode).
const (
	// Static: every message goes through the namespace's channel.
	Static = "static"
	// Dynamic: a broadcast to a single public room (one that is not a
	// socket's own room) goes through that room's channel, to which only
	// the nodes that have the room subscribe.
	Dynamic = "dynamic"
	// DynamicPrivate: as Dynamic, for every room, sockets' own rooms
	// included.
	DynamicPrivate = "dynamic-private"
)

// ShardedOptions configures the sharded adapter (NewSharded). The zero
// value of each field means the official default given in its comment.
type ShardedOptions struct {
	// ChannelPrefix is the prefix of the channels (default "socket.io").
	ChannelPrefix string
	// SubscriptionMode is Static, Dynamic or DynamicPrivate (default Dynamic).
	SubscriptionMode string
	// RequestsTimeout bounds the wait for the other nodes' responses (5 s,
	// fixed upstream).
	RequestsTimeout time.Duration
	// Logger receives the adapter's logs (default: the server's logger).
	Logger *slog.Logger
}
