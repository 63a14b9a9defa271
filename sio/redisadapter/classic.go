package redisadapter

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gosio/socketio/sio/internal/redisx"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/internal/ordered"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// The request types of the classic adapter (its RequestType).
const (
	reqSockets = iota
	reqAllRooms
	reqRemoteJoin
	reqRemoteLeave
	reqRemoteDisconnect
	reqRemoteFetch
	reqServerSideEmit
	reqBroadcast
	reqBroadcastClientCount
	reqBroadcastAck
)

// New returns the factory of the classic Redis adapter, wire-compatible
// with createAdapter of @socket.io/redis-adapter 8.3 (see the package
// documentation). client publishes, and the adapter of each namespace
// subscribes through a PubSub of its own made from it. nil opts means the
// defaults.
func New(client goredis.UniversalClient, opts *Options) server.AdapterFactory {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Key == "" {
		o.Key = "socket.io"
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	return func(nsp *server.Namespace) server.Adapter {
		if nsp.Name() == "" {
			// The parent of dynamic namespaces holds no socket: its
			// broadcasts go through its children's adapters.
			return server.NewMemoryAdapter(nsp)
		}
		return newClassic(nsp, client, o)
	}
}

type classicAdapter struct {
	*server.MemoryAdapter
	nsp    *server.Namespace
	client goredis.UniversalClient
	opts   Options
	log    *slog.Logger
	uid    string

	channel, requestChannel, responseChannel, specificResponseChannel string

	ctx      context.Context // ends at Close
	cancel   context.CancelFunc
	pub      *publisher
	sub      *subscriber
	requests cluster.Requests
	acks     cluster.AckRequests
	handlers ordered.Queue[ordered.Func]
}

func newClassic(nsp *server.Namespace, client goredis.UniversalClient, o Options) *classicAdapter {
	log := o.Logger
	if log == nil {
		log = nsp.Server().Logger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &classicAdapter{
		MemoryAdapter:   server.NewMemoryAdapter(nsp),
		nsp:             nsp,
		client:          client,
		opts:            o,
		log:             log,
		uid:             cluster.UID2(6),
		channel:         o.Key + "#" + nsp.Name() + "#",
		requestChannel:  o.Key + "-request#" + nsp.Name() + "#",
		responseChannel: o.Key + "-response#" + nsp.Name() + "#",
		ctx:             ctx,
		cancel:          cancel,
	}
	a.specificResponseChannel = a.responseChannel + a.uid + "#"
	a.pub = newPublisher(client, false, log)
	// Errors (Redis unreachable) leave the subscriptions to be made when
	// go-redis connects.
	ps := client.Subscribe(ctx)
	_ = ps.PSubscribe(ctx, a.channel+"*")
	_ = ps.Subscribe(ctx, a.requestChannel, a.responseChannel, a.specificResponseChannel)
	a.sub = newSubscriber(ps, a.onRedisMessage)
	return a
}

func (a *classicAdapter) onRedisMessage(m *goredis.Message) {
	if m.Pattern != "" {
		a.onBroadcast(m.Channel, []byte(m.Payload))
	} else {
		a.onRequest(m.Channel, []byte(m.Payload))
	}
}

// decode reads a message as the official adapter does: JSON when it starts
// with '{', msgpack otherwise.
func decode(b []byte) (any, error) {
	if len(b) > 0 && b[0] == '{' {
		return jsval.ParseJSON(b)
	}
	return jsval.DecodeMsgpack(b)
}

// onBroadcast handles a message on the broadcast channels: [uid, packet,
// opts], to be sent to this node's sockets; when it came on a room's
// channel, only if this node has the room.
func (a *classicAdapter) onBroadcast(channel string, payload []byte) {
	if !strings.HasPrefix(channel, a.channel) {
		a.log.Debug("redis adapter: ignoring a message on another channel", "channel", channel)
		return
	}
	room := ""
	if len(channel) > len(a.channel) {
		room = channel[len(a.channel) : len(channel)-1]
	}
	if room != "" && !a.hasRoom(room) {
		return
	}
	v, err := jsval.DecodeMsgpack(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed broadcast", "channel", channel, "err", err)
		return
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 3 {
		a.log.Debug("redis adapter: ignoring a malformed broadcast", "channel", channel)
		return
	}
	if uid, _ := arr[0].(string); uid == a.uid {
		return
	}
	nsp := "/"
	if n, ok := jsval.Field(arr[1], "nsp"); ok {
		nsp, _ = n.(string)
	}
	if nsp != a.nsp.Name() {
		return
	}
	pkt, err := cluster.DecodePacket(arr[1], a.nsp.Name())
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed broadcast", "channel", channel, "err", err)
		return
	}
	opts, err := cluster.DecodeOptions(arr[2])
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed broadcast", "channel", channel, "err", err)
		return
	}
	opts.Local = false
	_ = a.MemoryAdapter.Broadcast(pkt, opts)
}

// hasRoom is upstream's hasRoom; a numeric room name is a room of its own
// there, which here is the same string.
func (a *classicAdapter) hasRoom(room string) bool { return a.MemoryAdapter.HasRoom(room) }

func (a *classicAdapter) onRequest(channel string, payload []byte) {
	if channel == a.responseChannel || channel == a.specificResponseChannel {
		a.onResponse(payload)
		return
	}
	if channel != a.requestChannel {
		a.log.Debug("redis adapter: ignoring a message on another channel", "channel", channel)
		return
	}
	v, err := decode(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed request", "err", err)
		return
	}
	req, ok := v.(*jsval.Object)
	if !ok {
		a.log.Debug("redis adapter: ignoring a request that is not an object")
		return
	}
	if err := a.handleRequest(req); err != nil {
		a.log.Debug("redis adapter: ignoring a malformed request", "err", err)
	}
}

func get(o *jsval.Object, k string) any {
	v, _ := o.Get(k)
	return v
}

func (a *classicAdapter) handleRequest(req *jsval.Object) error {
	t, ok := get(req, "type").(float64)
	if !ok {
		return errMalformed("request type is not a number")
	}
	uid, _ := get(req, "uid").(string)
	rid, hasID := req.Get("requestId")
	id := jsval.ToKey(rid)
	switch int(t) {
	case reqSockets:
		if _, mine := a.requests.Kind(id); mine || uid == a.uid {
			return nil
		}
		rooms, err := cluster.RoomList(req, "rooms")
		if err != nil {
			return err
		}
		ids := a.MemoryAdapter.Sockets(rooms)
		list := make([]any, len(ids))
		for i, s := range ids {
			list[i] = s
		}
		a.publishResponse(req, jsval.StringifyJSON(jsval.NewObject("requestId", rid, "sockets", list)))
	case reqAllRooms:
		if _, mine := a.requests.Kind(id); mine || uid == a.uid {
			return nil
		}
		rooms := a.MemoryAdapter.Rooms()
		list := make([]any, len(rooms))
		for i, r := range rooms {
			list[i] = r
		}
		a.publishResponse(req, jsval.StringifyJSON(jsval.NewObject("requestId", rid, "rooms", list)))
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		if uid == a.uid {
			return nil // applied when it was sent
		}
		if ov, ok := req.Get("opts"); ok && ov != nil {
			opts, err := cluster.DecodeOptions(ov)
			if err != nil {
				return err
			}
			opts.Local = true
			switch int(t) {
			case reqRemoteJoin, reqRemoteLeave:
				rooms, err := cluster.RoomList(req, "rooms")
				if err != nil {
					return err
				}
				if int(t) == reqRemoteJoin {
					a.MemoryAdapter.AddSockets(opts, rooms)
				} else {
					a.MemoryAdapter.DelSockets(opts, rooms)
				}
			default:
				a.MemoryAdapter.DisconnectSockets(opts, get(req, "close") == true)
			}
			return nil
		}
		// The older form, for one socket by id, answered when done.
		sid, _ := get(req, "sid").(string)
		s := a.nsp.Socket(sid)
		if s == nil {
			return nil
		}
		switch int(t) {
		case reqRemoteJoin:
			s.Join(jsval.ToKey(get(req, "room")))
		case reqRemoteLeave:
			s.Leave(jsval.ToKey(get(req, "room")))
		default:
			if get(req, "close") == true {
				s.CloseConnection()
			} else {
				s.Disconnect()
			}
		}
		a.publishResponse(req, jsval.StringifyJSON(jsval.NewObject("requestId", rid)))
	case reqRemoteFetch:
		if _, mine := a.requests.Kind(id); mine || uid == a.uid {
			return nil
		}
		opts, err := cluster.DecodeOptions(get(req, "opts"))
		if err != nil {
			return err
		}
		opts.Local = true
		sockets, _ := a.MemoryAdapter.FetchSockets(a.ctx, opts)
		list := make([]any, 0, len(sockets))
		for _, s := range sockets {
			v, err := cluster.EncodeSocket(s)
			if err != nil {
				a.log.Debug("redis adapter: a socket could not be encoded", "id", s.ID(), "err", err)
				continue
			}
			list = append(list, v)
		}
		a.publishResponse(req, jsval.StringifyJSON(jsval.NewObject("requestId", rid, "sockets", list)))
	case reqServerSideEmit:
		if uid == a.uid {
			return nil
		}
		data, ok := get(req, "data").([]any)
		if !ok || len(data) == 0 {
			return errMalformed("server-side emit data is not an array")
		}
		var reply func(v any)
		if hasID {
			reply = func(v any) {
				// Always the shared response channel, as upstream.
				resp := jsval.NewObject("type", float64(reqServerSideEmit), "requestId", rid)
				if v != cluster.NoReply {
					resp.Set("data", v)
				}
				a.pub.publish(a.responseChannel, jsval.StringifyJSON(resp))
			}
		}
		return cluster.DeliverServerSideEmit(a.nsp, &a.handlers, data, reply)
	case reqBroadcast:
		if a.acks.Has(id) || uid == a.uid {
			return nil
		}
		opts, err := cluster.DecodeOptions(get(req, "opts"))
		if err != nil {
			return err
		}
		pkt, err := cluster.DecodePacket(get(req, "packet"), a.nsp.Name())
		if err != nil {
			return err
		}
		return a.MemoryAdapter.BroadcastWithAck(cluster.RemoteAckContext(a.ctx, opts), pkt, opts, &server.BroadcastAcks{
			Count: func(n int) {
				a.publishResponse(req, jsval.StringifyJSON(jsval.NewObject(
					"type", float64(reqBroadcastClientCount), "requestId", rid, "clientCount", float64(n))))
			},
			Ack: func(args sio.Args) {
				v, err := cluster.FirstArg(args)
				if err != nil {
					return
				}
				resp := jsval.NewObject("type", float64(reqBroadcastAck), "requestId", rid)
				if v != cluster.NoReply {
					resp.Set("packet", v)
				}
				a.publishResponse(req, jsval.EncodeMsgpack(resp))
			},
		})
	default:
		return errMalformed("unknown request type " + strconv.Itoa(int(t)))
	}
	return nil
}

// publishResponse answers req on the shared response channel, or on the
// requester's own with PublishOnSpecificResponseChannel.
func (a *classicAdapter) publishResponse(req *jsval.Object, payload []byte) {
	channel := a.responseChannel
	if a.opts.PublishOnSpecificResponseChannel {
		uid, ok := get(req, "uid").(string)
		if !ok {
			uid = "undefined" // what the template string makes of it upstream
		}
		channel += uid + "#"
	}
	a.pub.publish(channel, payload)
}

func (a *classicAdapter) onResponse(payload []byte) {
	v, err := decode(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed response", "err", err)
		return
	}
	resp, ok := v.(*jsval.Object)
	if !ok {
		a.log.Debug("redis adapter: ignoring a response that is not an object")
		return
	}
	rid, _ := resp.Get("requestId")
	id := jsval.ToKey(rid)
	if a.acks.Has(id) {
		switch t, _ := get(resp, "type").(float64); int(t) {
		case reqBroadcastClientCount:
			if n, ok := get(resp, "clientCount").(float64); ok && n >= 0 {
				a.acks.Count(id, int(n))
			}
		case reqBroadcastAck:
			pv, ok := resp.Get("packet")
			if !ok {
				pv = cluster.NoReply
			}
			if r := cluster.RepliesOf([]any{pv}); len(r) == 1 {
				a.acks.Ack(id, r[0])
			}
		}
		return
	}
	kind, ok := a.requests.Kind(id)
	if !ok {
		return
	}
	switch kind {
	case reqRemoteFetch:
		list, _ := get(resp, "sockets").([]any)
		a.requests.Respond(id, list...)
	case reqServerSideEmit:
		dv, ok := resp.Get("data")
		if !ok {
			dv = cluster.NoReply
		}
		a.requests.Respond(id, dv)
	}
}

// Broadcast implements server.Adapter: [uid, packet, opts] in msgpack on
// the namespace's channel, or the room's when there is exactly one.
func (a *classicAdapter) Broadcast(pkt *parser.Packet, opts *server.BroadcastOptions) error {
	if !opts.Local {
		p, err := cluster.EncodePacket(pkt, a.nsp.Name())
		if err != nil {
			return err
		}
		o := cluster.EncodeOptions(opts, true, time.Time{})
		channel := a.channel
		if rooms := get(o, "rooms").([]any); len(rooms) == 1 {
			channel += rooms[0].(string) + "#"
		}
		a.pub.publish(channel, jsval.EncodeMsgpack([]any{a.uid, p, o}))
	}
	return a.MemoryAdapter.Broadcast(pkt, opts)
}

// BroadcastWithAck implements server.Adapter.
func (a *classicAdapter) BroadcastWithAck(ctx context.Context, pkt *parser.Packet, opts *server.BroadcastOptions, acks *server.BroadcastAcks) error {
	if opts.Local {
		return a.MemoryAdapter.BroadcastWithAck(ctx, pkt, opts, acks)
	}
	p, err := cluster.EncodePacket(pkt, a.nsp.Name())
	if err != nil {
		return err
	}
	id := cluster.UID2(6)
	deadline, _ := ctx.Deadline()
	return cluster.BroadcastWithAck(ctx, &a.acks, id, a.MemoryAdapter, a.ServerCount, a.opts.RequestsTimeout, pkt, opts, acks, func() {
		req := jsval.NewObject("uid", a.uid, "requestId", id, "type", float64(reqBroadcast), "packet", p,
			"opts", cluster.EncodeOptions(opts, true, deadline))
		a.pub.publish(a.requestChannel, jsval.EncodeMsgpack(req))
	})
}

// FetchSockets implements server.Adapter.
func (a *classicAdapter) FetchSockets(ctx context.Context, opts *server.BroadcastOptions) ([]server.RemoteSocket, error) {
	local, err := a.MemoryAdapter.FetchSockets(ctx, opts)
	if err != nil || opts.Local {
		return local, err
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return local, nil
	}
	id := cluster.UID2(6)
	a.requests.Add(id, reqRemoteFetch, n-1)
	a.pub.publish(a.requestChannel, jsval.StringifyJSON(jsval.NewObject("uid", a.uid, "requestId", id,
		"type", float64(reqRemoteFetch), "opts", cluster.EncodeOptions(opts, false, time.Time{}))))
	items, err := a.requests.Wait(ctx, id, a.opts.RequestsTimeout, func(int, int) error {
		return cluster.TimeoutError("timeout reached while waiting for fetchSockets response")
	})
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		s, err := cluster.DecodeSocket(a.nsp, it)
		if err != nil {
			a.log.Debug("redis adapter: ignoring a malformed socket", "err", err)
			continue
		}
		local = append(local, s)
	}
	return local, nil
}

// AddSockets implements server.Adapter. The sockets of this node join at
// once (upstream waits for its own request to come back from Redis).
func (a *classicAdapter) AddSockets(opts *server.BroadcastOptions, rooms []server.Room) {
	if !opts.Local {
		a.publishRequest(jsval.NewObject("uid", a.uid, "type", float64(reqRemoteJoin),
			"opts", cluster.EncodeOptions(opts, false, time.Time{}), "rooms", roomsValue(rooms)))
	}
	a.MemoryAdapter.AddSockets(opts, rooms)
}

// DelSockets implements server.Adapter (applied here at once, see AddSockets).
func (a *classicAdapter) DelSockets(opts *server.BroadcastOptions, rooms []server.Room) {
	if !opts.Local {
		a.publishRequest(jsval.NewObject("uid", a.uid, "type", float64(reqRemoteLeave),
			"opts", cluster.EncodeOptions(opts, false, time.Time{}), "rooms", roomsValue(rooms)))
	}
	a.MemoryAdapter.DelSockets(opts, rooms)
}

// DisconnectSockets implements server.Adapter (applied here at once, see
// AddSockets).
func (a *classicAdapter) DisconnectSockets(opts *server.BroadcastOptions, close bool) {
	if !opts.Local {
		a.publishRequest(jsval.NewObject("uid", a.uid, "type", float64(reqRemoteDisconnect),
			"opts", cluster.EncodeOptions(opts, false, time.Time{}), "close", close))
	}
	a.MemoryAdapter.DisconnectSockets(opts, close)
}

func (a *classicAdapter) publishRequest(req *jsval.Object) {
	a.pub.publish(a.requestChannel, jsval.StringifyJSON(req))
}

func roomsValue(rooms []server.Room) []any {
	out := make([]any, len(rooms))
	for i, r := range rooms {
		out[i] = r
	}
	return out
}

// ServerSideEmit implements server.Adapter.
func (a *classicAdapter) ServerSideEmit(ctx context.Context, event string, args []any, withAck bool) ([]sio.Args, error) {
	data, err := cluster.EncodeArgs(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	if !withAck {
		a.publishRequest(jsval.NewObject("uid", a.uid, "type", float64(reqServerSideEmit), "data", data))
		return nil, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return nil, nil
	}
	id := cluster.UID2(6)
	a.requests.Add(id, reqServerSideEmit, n-1)
	a.publishRequest(jsval.NewObject("uid", a.uid, "requestId", id, "type", float64(reqServerSideEmit), "data", data))
	items, err := a.requests.Wait(ctx, id, a.opts.RequestsTimeout, func(got, expected int) error {
		return cluster.TimeoutError("timeout reached: only " + strconv.Itoa(got) + " responses received out of " + strconv.Itoa(expected))
	})
	return cluster.RepliesOf(items), err
}

// ServerCount implements server.Adapter: the subscribers of the request
// channel (PUBSUB NUMSUB), one per node.
func (a *classicAdapter) ServerCount(ctx context.Context) (int, error) {
	return redisx.PubSubCount(ctx, a.client, false, a.requestChannel)
}

// Close implements server.Adapter: the subscriptions end, what is queued
// is published, pending requests end.
func (a *classicAdapter) Close() error {
	a.sub.close()
	a.pub.close()
	a.cancel()
	a.handlers.Close()
	return nil
}
