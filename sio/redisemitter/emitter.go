// Package redisemitter sends events to the clients of a cluster of
// Socket.IO servers on the classic Redis adapter (redisadapter.New, or
// Node.js servers with @socket.io/redis-adapter's createAdapter) from a
// process that is not a server: a worker, a cron job. It is wire-compatible
// with @socket.io/redis-emitter 5.x: the same channels and messages
// (msgpack broadcasts with the node id "emitter", JSON requests).
//
// Like the official emitter it speaks the classic adapter's format only:
// servers on the sharded adapter do not hear it. It publishes and returns;
// nothing tells whether a server got the message, and what is published
// while Redis is unreachable is lost.
//
//	e := redisemitter.New(rdb, nil)
//	e.To("room1").Emit("news", "hello", []byte{1, 2})
//	e.Of("/admin").Except("muted").Emit("alert")
//	e.In("room1").SocketsJoin("room2")
package redisemitter

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/internal/jsval"
)

// uid is the node id the official emitter writes.
const uid = "emitter"

// The classic adapter's request types the emitter sends.
const (
	reqRemoteJoin       = 2
	reqRemoteLeave      = 3
	reqRemoteDisconnect = 4
	reqServerSideEmit   = 6
)

// Options configures an Emitter.
type Options struct {
	// Key is the prefix of the channels (default "socket.io"), the
	// adapter's Key.
	Key string
}

// Emitter publishes to the servers of one namespace ("/" for the one New
// returns). Its methods are safe for concurrent use.
type Emitter struct {
	client goredis.UniversalClient
	key    string
	nsp    string
}

// New returns an emitter for the main namespace. nil opts means the
// defaults.
func New(client goredis.UniversalClient, opts *Options) *Emitter {
	key := "socket.io"
	if opts != nil && opts.Key != "" {
		key = opts.Key
	}
	return &Emitter{client: client, key: key, nsp: "/"}
}

// Of returns an emitter for namespace nsp (a leading "/" is added when
// missing).
func (e *Emitter) Of(nsp string) *Emitter {
	if len(nsp) == 0 || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	return &Emitter{client: e.client, key: e.key, nsp: nsp}
}

func (e *Emitter) op() *Operator { return &Operator{e: e} }

// To selects rooms; several rooms mean their union.
func (e *Emitter) To(rooms ...string) *Operator { return e.op().To(rooms...) }

// In is the same as To.
func (e *Emitter) In(rooms ...string) *Operator { return e.op().In(rooms...) }

// Except leaves out the sockets in rooms.
func (e *Emitter) Except(rooms ...string) *Operator { return e.op().Except(rooms...) }

// Volatile marks the event as droppable where a client cannot take it now.
func (e *Emitter) Volatile() *Operator { return e.op().Volatile() }

// Compress sets the compress flag.
func (e *Emitter) Compress(on bool) *Operator { return e.op().Compress(on) }

// Emit sends an event to every client of the namespace.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	return e.op().Emit(ctx, event, args...)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.op().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.op().SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the namespace (their whole
// connections when close is true).
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.op().DisconnectSockets(ctx, close)
}

// ErrAckUnsupported is returned by ServerSideEmit when the last argument
// is a function, as the official emitter throws: acknowledgements are not
// supported.
var ErrAckUnsupported = errors.New("redisemitter: acknowledgements are not supported")

// ServerSideEmit sends an event to the namespace's OnServerSideEmit
// handlers of every server.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if n := len(args); n > 0 {
		if _, fn := args[n-1].(func(sio.Args, error)); fn {
			return ErrAckUnsupported
		}
	}
	data, err := cluster.EncodeArgs(append([]any{event}, args...))
	if err != nil {
		return err
	}
	req := jsval.NewObject("uid", uid, "type", float64(reqServerSideEmit), "data", data)
	return e.client.Publish(ctx, e.requestChannel(), jsval.StringifyJSON(req)).Err()
}

func (e *Emitter) broadcastChannel() string { return e.key + "#" + e.nsp + "#" }
func (e *Emitter) requestChannel() string   { return e.key + "-request#" + e.nsp + "#" }

// Operator is a selection of sockets (rooms, excluded rooms) and flags.
// Each method returns a new Operator.
type Operator struct {
	e        *Emitter
	rooms    []string
	except   []string
	volatile bool
	compress *bool
}

func (o *Operator) clone() *Operator {
	c := *o
	c.rooms = append([]string(nil), o.rooms...)
	c.except = append([]string(nil), o.except...)
	return &c
}

// addSet appends to a set, keeping it without repetition (a JavaScript Set).
func addSet(set []string, xs ...string) []string {
	for _, x := range xs {
		dup := false
		for _, y := range set {
			if x == y {
				dup = true
				break
			}
		}
		if !dup {
			set = append(set, x)
		}
	}
	return set
}

// To adds rooms to the selection.
func (o *Operator) To(rooms ...string) *Operator {
	c := o.clone()
	c.rooms = addSet(c.rooms, rooms...)
	return c
}

// In is the same as To.
func (o *Operator) In(rooms ...string) *Operator { return o.To(rooms...) }

// Except leaves out the sockets in rooms.
func (o *Operator) Except(rooms ...string) *Operator {
	c := o.clone()
	c.except = addSet(c.except, rooms...)
	return c
}

// Volatile marks the event as droppable where a client cannot take it now.
func (o *Operator) Volatile() *Operator {
	c := o.clone()
	c.volatile = true
	return c
}

// Compress sets the compress flag.
func (o *Operator) Compress(on bool) *Operator {
	c := o.clone()
	c.compress = &on
	return c
}

func strs(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// Emit sends an event to the selected clients: msgpack [uid, packet,
// opts] on the namespace's channel, or the room's when there is exactly
// one. []byte arguments travel as binary.
func (o *Operator) Emit(ctx context.Context, event string, args ...any) error {
	if sio.IsReserved(event) {
		return fmt.Errorf("%w: %q", sio.ErrReservedEvent, event)
	}
	data, err := cluster.EncodeArgs(append([]any{event}, args...))
	if err != nil {
		return err
	}
	packet := jsval.NewObject("type", 2.0, "data", data, "nsp", o.e.nsp)
	flags := &jsval.Object{}
	if o.compress != nil {
		flags.Set("compress", *o.compress)
	}
	if o.volatile {
		flags.Set("volatile", true)
	}
	opts := jsval.NewObject("rooms", strs(o.rooms), "flags", flags, "except", strs(o.except))
	channel := o.e.broadcastChannel()
	if len(o.rooms) == 1 {
		channel += o.rooms[0] + "#"
	}
	return o.e.client.Publish(ctx, channel, jsval.EncodeMsgpack([]any{uid, packet, opts})).Err()
}

func (o *Operator) request(ctx context.Context, typ int, kv ...any) error {
	req := jsval.NewObject("type", float64(typ), "opts", jsval.NewObject("rooms", strs(o.rooms), "except", strs(o.except)))
	for i := 0; i+1 < len(kv); i += 2 {
		req.Set(kv[i].(string), kv[i+1])
	}
	return o.e.client.Publish(ctx, o.e.requestChannel(), jsval.StringifyJSON(req)).Err()
}

// SocketsJoin makes the selected sockets join rooms.
func (o *Operator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return o.request(ctx, reqRemoteJoin, "rooms", strs(rooms))
}

// SocketsLeave makes the selected sockets leave rooms.
func (o *Operator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return o.request(ctx, reqRemoteLeave, "rooms", strs(rooms))
}

// DisconnectSockets disconnects the selected sockets (their whole
// connections when close is true).
func (o *Operator) DisconnectSockets(ctx context.Context, close bool) error {
	return o.request(ctx, reqRemoteDisconnect, "close", close)
}
