package streamsadapter

import (
	"log/slog"
	"time"
)

// Options configures the adapter. The zero value of each field means the
// official default given in its comment (createAdapter's options of
// @socket.io/redis-streams-adapter 0.3.1).
type Options struct {
	// StreamName is the name of the stream (default "socket.io"); with
	// StreamCount above 1, the streams are StreamName-0, StreamName-1, …
	StreamName string
	// StreamCount is the number of streams the namespaces are spread over
	// by a hash of their name (default 1).
	StreamCount int
	// ChannelPrefix is the prefix of the pub/sub channels (default
	// "socket.io"): <prefix>#<nsp># for requests, <prefix>#<nsp>#<uid>#
	// for the responses to node uid.
	ChannelPrefix string
	// UseShardedPubSub uses SPUBLISH/SSUBSCRIBE and PUBSUB SHARDNUMSUB
	// (Redis 7) rather than PUBLISH/SUBSCRIBE and PUBSUB NUMSUB.
	UseShardedPubSub bool
	// MaxLen is the approximate maximum length of the stream (MAXLEN ~,
	// default 10000).
	MaxLen int64
	// ReadCount is the most entries one XREAD returns (default 100).
	ReadCount int64
	// BlockTime is how long one XREAD waits for new entries (default 5 s,
	// upstream's blockTimeInMs).
	BlockTime time.Duration
	// SessionKeyPrefix is the prefix of the keys of the sessions kept for
	// connection state recovery (default "sio:session:").
	SessionKeyPrefix string
	// OnlyPlaintext writes every stream entry's data in JSON, binary
	// included (as JSON.stringify writes a Buffer), rather than in base64
	// msgpack when it holds binary.
	OnlyPlaintext bool
	// RequestsTimeout bounds the wait for the other nodes' responses to
	// FetchSockets and ServerSideEmit with acknowledgements (5 s, fixed
	// upstream).
	RequestsTimeout time.Duration
	// Logger receives the adapter's logs (default: the server's logger).
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.StreamName == "" {
		o.StreamName = "socket.io"
	}
	if o.StreamCount <= 0 {
		o.StreamCount = 1
	}
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = "socket.io"
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 10000
	}
	if o.ReadCount <= 0 {
		o.ReadCount = 100
	}
	if o.BlockTime <= 0 {
		o.BlockTime = 5 * time.Second
	}
	if o.SessionKeyPrefix == "" {
		o.SessionKeyPrefix = "sio:session:"
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
}
