package streamsadapter

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gosio/socketio/sio/internal/redisx"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/server"
)

var errClosed = errors.New("streamsadapter: adapter closed")

// New returns the factory of the Redis Streams adapter, wire-compatible
// with createAdapter of @socket.io/redis-streams-adapter 0.3.1 (see the
// package documentation). client writes to Redis; the adapter reads each
// stream on a client of its own made with client's options (upstream's
// duplicate), and each namespace subscribes through a PubSub made from
// client. nil opts means the defaults.
//
// The readers start with the first namespace's adapter and stop when the
// last one closes.
func New(client goredis.UniversalClient, opts *Options) server.AdapterFactory {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.defaults()
	h := &hub{client: client, opts: o, adapters: make(map[string]*adapter)}
	return func(nsp *server.Namespace) server.Adapter {
		if nsp.Name() == "" {
			// The parent of dynamic namespaces has no sockets of its own:
			// it broadcasts through its children.
			return server.NewMemoryAdapter(nsp)
		}
		return h.newAdapter(nsp)
	}
}

// hub is what the adapters of one factory share: the readers of the
// streams, which hand each entry to its namespace's adapter, and the
// publisher.
type hub struct {
	client goredis.UniversalClient
	opts   Options

	mu       sync.Mutex
	adapters map[string]*adapter // by namespace name
	readers  []*reader
	pub      *publisher
	log      *slog.Logger
}

func (h *hub) newAdapter(nsp *server.Namespace) *adapter {
	log := h.opts.Logger
	if log == nil {
		log = nsp.Server().Logger()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pub == nil {
		h.log = log
		h.pub = newPublisher(h.client, h.opts.UseShardedPubSub, h.opts.MaxLen, log)
		names := []string{h.opts.StreamName}
		if h.opts.StreamCount > 1 {
			names = names[:0]
			for i := range h.opts.StreamCount {
				names = append(names, h.opts.StreamName+"-"+strconv.Itoa(i))
			}
		}
		for _, name := range names {
			h.readers = append(h.readers, startReader(h.client, name, &h.opts, log, h.dispatch))
		}
	}
	a := newAdapter(nsp, h, h.pub, log)
	if old := h.adapters[nsp.Name()]; old != nil {
		log.Debug("redis streams adapter: a namespace's adapter replaced", "nsp", nsp.Name())
	}
	h.adapters[nsp.Name()] = a
	return a
}

// reader returns the reader of stream name, nil when stopped.
func (h *hub) reader(name string) *reader {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.readers {
		if r.name == name {
			return r
		}
	}
	return nil
}

// dispatch hands a stream entry to the adapter of its namespace.
func (h *hub) dispatch(id string, values map[string]any) {
	nsp, _ := values["nsp"].(string)
	h.mu.Lock()
	a := h.adapters[nsp]
	h.mu.Unlock()
	if a != nil {
		a.onEntry(id, values)
	}
}

// remove forgets a, and stops the readers and the publisher when it was
// the last adapter.
func (h *hub) remove(a *adapter) {
	h.mu.Lock()
	if h.adapters[a.nsp.Name()] == a {
		delete(h.adapters, a.nsp.Name())
	}
	var readers []*reader
	var pub *publisher
	if len(h.adapters) == 0 {
		readers, pub = h.readers, h.pub
		h.readers, h.pub = nil, nil
	}
	h.mu.Unlock()
	for _, r := range readers {
		r.close()
	}
	if pub != nil {
		pub.close()
	}
}

// adapter is the adapter of one namespace: socket.io-adapter's
// ClusterAdapter (cluster.Adapter) over the stream and pub/sub.
type adapter struct {
	*cluster.Adapter
	h   *hub
	nsp *server.Namespace
	pub *publisher
	log *slog.Logger

	stream                        string
	publicChannel, privateChannel string

	ps   *goredis.PubSub
	subs sync.WaitGroup
}

func newAdapter(nsp *server.Namespace, h *hub, pub *publisher, log *slog.Logger) *adapter {
	o := &h.opts
	a := &adapter{h: h, nsp: nsp, pub: pub, log: log, stream: streamName(nsp.Name(), o)}
	mem := server.NewMemoryAdapter(nsp)
	a.Adapter = cluster.NewAdapter(nsp, mem, a, &cluster.Options{RequestsTimeout: o.RequestsTimeout, Logger: log})
	a.publicChannel = o.ChannelPrefix + "#" + nsp.Name() + "#"
	a.privateChannel = a.publicChannel + a.UID() + "#"
	ctx := context.Background()
	if o.UseShardedPubSub {
		a.ps = h.client.SSubscribe(ctx, a.publicChannel, a.privateChannel)
	} else {
		a.ps = h.client.Subscribe(ctx, a.publicChannel, a.privateChannel)
	}
	ch := a.ps.Channel(goredis.WithChannelSize(4096))
	a.subs.Add(1)
	go func() {
		defer a.subs.Done()
		for m := range ch {
			msg, err := decodeMessage([]byte(m.Payload))
			if err != nil {
				a.log.Debug("redis streams adapter: ignoring a malformed message", "channel", m.Channel, "err", err)
				continue
			}
			a.OnMessage(msg)
		}
	}()
	return a
}

// onEntry handles a stream entry of this namespace.
func (a *adapter) onEntry(id string, values map[string]any) {
	m, err := decodeEntry(values)
	if err != nil {
		a.log.Debug("redis streams adapter: ignoring a malformed entry", "id", id, "err", err)
		return
	}
	m.Offset = id
	a.OnMessage(m)
}

// Publish implements cluster.Transport: broadcasts with acknowledgements,
// server-side emits and fetchSockets requests through pub/sub (msgpack),
// everything else as stream entries.
func (a *adapter) Publish(m *cluster.Message) {
	if ephemeral(m) {
		a.pub.add(write{channel: a.publicChannel, payload: encodeMessage(m)})
		return
	}
	a.pub.add(write{stream: a.stream, fields: entryFields(m, a.h.opts.OnlyPlaintext)})
}

// PublishOffset implements cluster.OffsetTransport: with connection state
// recovery on, the broadcast waits for its entry's id (upstream awaits
// the XADD); otherwise it is queued as any other message.
func (a *adapter) PublishOffset(m *cluster.Message) (string, error) {
	if a.nsp.Server().Recovery() == nil || ephemeral(m) {
		a.Publish(m)
		return "", nil
	}
	res := make(chan xaddResult, 1)
	if !a.pub.add(write{stream: a.stream, fields: entryFields(m, a.h.opts.OnlyPlaintext), result: res}) {
		return "", errClosed
	}
	t := time.NewTimer(writeTimeout)
	defer t.Stop()
	select {
	case r := <-res:
		return r.id, r.err
	case <-t.C:
		return "", errors.New("streamsadapter: no offset: Redis did not take the entry in time (it is still queued)")
	}
}

// PublishResponse implements cluster.Transport: msgpack on the
// requester's channel.
func (a *adapter) PublishResponse(requester string, m *cluster.Message) {
	a.pub.add(write{channel: a.h.opts.ChannelPrefix + "#" + a.nsp.Name() + "#" + requester + "#", payload: encodeMessage(m)})
}

// ServerCount implements cluster.Transport and server.Adapter: the
// subscribers of the namespace's public channel (PUBSUB NUMSUB, or
// SHARDNUMSUB), summed over the masters of a cluster.
func (a *adapter) ServerCount(ctx context.Context) (int, error) {
	return redisx.PubSubCount(ctx, a.h.client, a.h.opts.UseShardedPubSub, a.publicChannel)
}

// Close implements server.Adapter.
func (a *adapter) Close() error {
	_ = a.ps.Close()
	a.subs.Wait()
	a.h.remove(a)
	return a.Adapter.Close()
}
