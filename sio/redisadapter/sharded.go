package redisadapter

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/gosio/socketio/sio/internal/redisx"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/internal/ordered"
	"github.com/gosio/socketio/sio/server"
)

// NewSharded returns the factory of the sharded Redis adapter (Redis 7
// sharded pub/sub), wire-compatible with createShardedAdapter of
// @socket.io/redis-adapter 8.3 (see the package documentation). client
// publishes, and the adapter of each namespace subscribes through a PubSub
// of its own made from it. nil opts means the defaults.
func NewSharded(client goredis.UniversalClient, opts *ShardedOptions) server.AdapterFactory {
	var o ShardedOptions
	if opts != nil {
		o = *opts
	}
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = "socket.io"
	}
	if o.SubscriptionMode == "" {
		o.SubscriptionMode = Dynamic
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	return func(nsp *server.Namespace) server.Adapter {
		if nsp.Name() == "" {
			return server.NewMemoryAdapter(nsp) // a dynamic namespaces' parent, see New
		}
		return newSharded(nsp, client, o)
	}
}

type shardedAdapter struct {
	*cluster.Adapter
	client goredis.UniversalClient
	opts   ShardedOptions
	log    *slog.Logger

	channel, responseChannel string

	pub  *publisher
	ps   *goredis.PubSub
	sub  *subscriber
	subs ordered.Queue[ordered.Func] // room channel (un)subscriptions, in order, off the join path

	mu      sync.Mutex
	dynamic map[string]bool // rooms whose channel is subscribed
	closed  bool
}

func newSharded(nsp *server.Namespace, client goredis.UniversalClient, o ShardedOptions) *shardedAdapter {
	log := o.Logger
	if log == nil {
		log = nsp.Server().Logger()
	}
	mem := server.NewMemoryAdapter(nsp)
	a := &shardedAdapter{client: client, opts: o, log: log, dynamic: make(map[string]bool)}
	a.Adapter = cluster.NewAdapter(nsp, mem, a, &cluster.Options{RequestsTimeout: o.RequestsTimeout, Logger: log})
	a.channel = o.ChannelPrefix + "#" + nsp.Name() + "#"
	a.responseChannel = a.channel + a.UID() + "#"
	a.pub = newPublisher(client, true, log)
	ctx := context.Background()
	a.ps = client.SSubscribe(ctx)
	_ = a.ps.SSubscribe(ctx, a.channel, a.responseChannel)
	a.sub = newSubscriber(a.ps, a.onRedisMessage)
	if o.SubscriptionMode == Dynamic || o.SubscriptionMode == DynamicPrivate {
		mem.OnEvent = a.onRoomEvent
	}
	return a
}

// onRoomEvent subscribes to a room's channel when the room appears on
// this node, and unsubscribes when it is gone.
func (a *shardedAdapter) onRoomEvent(e server.AdapterEvent) {
	switch e.Kind {
	case "create-room":
		if !a.separateChannel(e.Room) {
			return
		}
		a.mu.Lock()
		if a.closed || a.dynamic[e.Room] {
			a.mu.Unlock()
			return
		}
		a.dynamic[e.Room] = true
		a.mu.Unlock()
		ch := a.dynamicChannel(e.Room)
		a.subs.Post(func() { _ = a.ps.SSubscribe(context.Background(), ch) })
	case "delete-room":
		a.mu.Lock()
		if !a.dynamic[e.Room] {
			a.mu.Unlock()
			return
		}
		delete(a.dynamic, e.Room)
		a.mu.Unlock()
		ch := a.dynamicChannel(e.Room)
		a.subs.Post(func() { _ = a.ps.SUnsubscribe(context.Background(), ch) })
	}
}

// separateChannel is upstream's shouldUseASeparateNamespace.
func (a *shardedAdapter) separateChannel(room string) bool {
	public := !a.Adapter.MemoryAdapter.HasSocket(room)
	return a.opts.SubscriptionMode == Dynamic && public || a.opts.SubscriptionMode == DynamicPrivate
}

func (a *shardedAdapter) dynamicChannel(room string) string { return a.channel + room + "#" }

// looksLikeASocketID is upstream's test: 20 characters (UTF-16 units).
func looksLikeASocketID(room string) bool { return len(utf16.Encode([]rune(room))) == 20 }

// computeChannel is upstream's: a broadcast without acknowledgement to a
// single room goes through the room's channel in the dynamic modes (unless,
// in dynamic mode, the room looks like a socket id); everything else
// through the namespace's channel.
func (a *shardedAdapter) computeChannel(m *cluster.Message) string {
	if m.Type != cluster.Broadcast || m.Data == nil {
		return a.channel
	}
	if _, withAck := m.Data.Get("requestId"); withAck {
		return a.channel
	}
	ov, _ := m.Data.Get("opts")
	rv, _ := jsval.Field(ov, "rooms")
	rooms, _ := rv.([]any)
	if len(rooms) != 1 {
		return a.channel
	}
	room, _ := rooms[0].(string)
	if a.opts.SubscriptionMode == Dynamic && !looksLikeASocketID(room) || a.opts.SubscriptionMode == DynamicPrivate {
		return a.dynamicChannel(room)
	}
	return a.channel
}

// encode writes a message in msgpack when its type may carry binary and
// it does, in JSON otherwise, as upstream.
func encode(m *cluster.Message) []byte {
	v := m.Value()
	if m.Type.MayCarryBinary() && m.Data != nil && jsval.HasBinary(m.Data) {
		return jsval.EncodeMsgpack(v)
	}
	return jsval.StringifyJSON(v)
}

// Publish implements cluster.Transport.
func (a *shardedAdapter) Publish(m *cluster.Message) { a.pub.publish(a.computeChannel(m), encode(m)) }

// PublishResponse implements cluster.Transport.
func (a *shardedAdapter) PublishResponse(requester string, m *cluster.Message) {
	a.pub.publish(a.channel+requester+"#", encode(m))
}

// ServerCount implements cluster.Transport and server.Adapter: the
// subscribers of the namespace's channel (PUBSUB SHARDNUMSUB).
func (a *shardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return redisx.PubSubCount(ctx, a.client, true, a.channel)
}

func (a *shardedAdapter) onRedisMessage(m *goredis.Message) {
	v, err := decode([]byte(m.Payload))
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed message", "channel", m.Channel, "err", err)
		return
	}
	msg, err := cluster.DecodeMessage(v)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed message", "channel", m.Channel, "err", err)
		return
	}
	if m.Channel == a.responseChannel {
		a.OnResponse(msg)
	} else {
		a.OnMessage(msg)
	}
}

// Close implements server.Adapter: the subscriptions end, what is queued
// is published, pending requests end.
func (a *shardedAdapter) Close() error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.subs.Close()
	a.sub.close()
	a.pub.close()
	return a.Adapter.Close()
}
