// Package cluster holds what the cluster adapters share: the conversions
// between the server's types and the values the official Node.js adapters
// exchange (packets, broadcast options, arguments, sockets), and Adapter,
// the Go counterpart of socket.io-adapter's ClusterAdapter (message types,
// request and response bookkeeping, timeouts), on which an adapter only
// adds a transport (the sharded Redis adapter; later the Redis Streams
// adapter).
package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// ErrMalformed is wrapped by the errors of the decoding helpers: the
// message does not have the shape the official adapters give it.
var ErrMalformed = errors.New("cluster: malformed message")

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// UID2 returns a random id of n characters as the uid2 package writes them
// (the classic adapter's node and request ids).
func UID2(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[b[i]%64]
	}
	return string(b)
}

// RandomID returns 8 random bytes in hex (socket.io-adapter's randomId:
// the cluster adapter's node and request ids).
func RandomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// EncodePacket returns an event packet as upstream's broadcast operator
// builds it: {type: 2, data: [event, ...args]}, then nsp when nsp is not
// empty. Binary arguments are Buffers; the type stays 2 (EVENT), the
// receiver choosing BINARY_EVENT when it encodes for its clients.
func EncodePacket(pkt *parser.Packet, nsp string) (*jsval.Object, error) {
	data, err := jsval.FromPacketData(pkt.Data, pkt.Attachments)
	if err != nil {
		return nil, err
	}
	o := jsval.NewObject("type", 2.0, "data", data)
	if nsp != "" {
		o.Set("nsp", nsp)
	}
	return o, nil
}

// DecodePacket returns the event packet of a received packet value, for
// namespace nsp: an EVENT (or BINARY_EVENT) whose data is a non-empty
// array.
func DecodePacket(v any, nsp string) (*parser.Packet, error) {
	o, ok := v.(*jsval.Object)
	if !ok {
		return nil, malformed("packet is not an object")
	}
	t, _ := o.Get("type")
	if t != 2.0 && t != 5.0 {
		return nil, malformed("packet is not an event")
	}
	d, _ := o.Get("data")
	arr, ok := d.([]any)
	if !ok || len(arr) == 0 {
		return nil, malformed("packet data is not an array")
	}
	data, atts := jsval.ToPacketData(arr)
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data}
	if len(atts) > 0 {
		p.Type, p.Attachments = parser.BinaryEvent, atts
	}
	return p, nil
}

// uniq returns the rooms without repetition, in order (a JavaScript Set).
func uniq(rooms []server.Room) []any {
	out := make([]any, 0, len(rooms))
	seen := make(map[string]struct{}, len(rooms))
	for _, r := range rooms {
		if _, dup := seen[r]; dup {
			continue
		}
		seen[r] = struct{}{}
		out = append(out, r)
	}
	return out
}

// EncodeOptions returns broadcast options as upstream sends them: {rooms,
// except, flags}, or with withFlags false {rooms, except} (the classic
// adapter's requests). deadline, when not zero, gives flags.timeout when
// opts has none.
func EncodeOptions(opts *server.BroadcastOptions, withFlags bool, deadline time.Time) *jsval.Object {
	o := jsval.NewObject("rooms", uniq(opts.Rooms), "except", uniq(opts.Except))
	if withFlags {
		o.Set("flags", EncodeFlags(opts, deadline))
	}
	return o
}

// EncodeFlags returns the flags of a broadcast as upstream's operators set
// them (only those that are on; timeout in milliseconds).
func EncodeFlags(opts *server.BroadcastOptions, deadline time.Time) *jsval.Object {
	f := &jsval.Object{}
	if opts.Volatile {
		f.Set("volatile", true)
	}
	if opts.Compress {
		f.Set("compress", true)
	}
	if opts.Local {
		f.Set("local", true)
	}
	switch {
	case opts.Timeout > 0:
		f.Set("timeout", float64(opts.Timeout.Milliseconds()))
	case !deadline.IsZero():
		f.Set("timeout", float64(max(time.Until(deadline).Milliseconds(), 1)))
	}
	return f
}

// DecodeOptions reads received broadcast options; rooms that are not
// strings (JavaScript allows numbers) become their string form.
func DecodeOptions(v any) (*server.BroadcastOptions, error) {
	o, ok := v.(*jsval.Object)
	if !ok {
		return nil, malformed("options are not an object")
	}
	opts := &server.BroadcastOptions{}
	var err error
	if opts.Rooms, err = roomList(o, "rooms"); err != nil {
		return nil, err
	}
	if opts.Except, err = roomList(o, "except"); err != nil {
		return nil, err
	}
	if f, ok := o.Get("flags"); ok {
		if fo, ok := f.(*jsval.Object); ok {
			opts.Volatile = truthy(fo, "volatile")
			opts.Local = truthy(fo, "local")
			if c, ok := fo.Get("compress"); ok {
				opts.Compress = c == true
			}
			if t, ok := fo.Get("timeout"); ok {
				if ms, ok := t.(float64); ok && ms > 0 && ms < math.MaxInt64/1e6 {
					opts.Timeout = time.Duration(ms * float64(time.Millisecond))
				}
			}
		}
	}
	return opts, nil
}

func truthy(o *jsval.Object, k string) bool {
	v, ok := o.Get(k)
	if !ok {
		return false
	}
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	}
	return true
}

// RoomList reads the array of rooms at key k of o (absent: none).
func RoomList(o *jsval.Object, k string) ([]server.Room, error) { return roomList(o, k) }

func roomList(o *jsval.Object, k string) ([]server.Room, error) {
	v, ok := o.Get(k)
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, malformed(k + " is not an array")
	}
	out := make([]server.Room, len(arr))
	for i, r := range arr {
		out[i] = jsval.ToKey(r)
	}
	return out, nil
}

// EncodeArgs returns Go values as JavaScript values, Buffers for []byte,
// as the Socket.IO encoder would send them.
func EncodeArgs(args []any) ([]any, error) {
	data, atts, err := parser.AppendArgs(nil, args)
	if err != nil {
		return nil, err
	}
	v, err := jsval.FromPacketData(data, atts)
	if err != nil {
		return nil, err
	}
	return v.([]any), nil
}

// EncodeValue returns one Go value as a JavaScript value (see EncodeArgs).
func EncodeValue(x any) (any, error) {
	arr, err := EncodeArgs([]any{x})
	if err != nil {
		return nil, err
	}
	return arr[0], nil
}

// DecodeArgs returns received JavaScript values as event arguments.
func DecodeArgs(vals []any) (sio.Args, error) {
	data, atts := jsval.ToPacketData(vals)
	typ := parser.Ack
	if len(atts) > 0 {
		typ = parser.BinaryAck
	}
	return (&parser.Packet{Type: typ, Data: data, Attachments: atts}).Args()
}

// EncodeSocket returns a socket as upstream's fetchSockets responses give
// it: {id, handshake, rooms, data} (data {} when the socket has none, as a
// Node.js socket's data starts).
func EncodeSocket(s server.RemoteSocket) (*jsval.Object, error) {
	hs, err := json.Marshal(s.Handshake())
	if err != nil {
		return nil, err
	}
	hv, err := jsval.ParseJSON(hs)
	if err != nil {
		return nil, err
	}
	rooms := make([]any, 0, len(s.Rooms()))
	for _, r := range s.Rooms() {
		rooms = append(rooms, r)
	}
	var data any = &jsval.Object{}
	if d := s.Data(); d != nil {
		if data, err = EncodeValue(d); err != nil {
			return nil, err
		}
	}
	return jsval.NewObject("id", s.ID(), "handshake", hv, "rooms", rooms, "data", data), nil
}

// DecodeSocket returns the remote socket of a fetchSockets response entry.
func DecodeSocket(nsp *server.Namespace, v any) (server.RemoteSocket, error) {
	o, ok := v.(*jsval.Object)
	if !ok {
		return nil, malformed("socket is not an object")
	}
	idv, _ := o.Get("id")
	id, ok := idv.(string)
	if !ok {
		return nil, malformed("socket id is not a string")
	}
	rooms, err := roomList(o, "rooms")
	if err != nil {
		return nil, err
	}
	hs := &server.Handshake{}
	if h, ok := o.Get("handshake"); ok {
		if err := json.Unmarshal(jsval.StringifyJSON(h), hs); err != nil {
			return nil, malformed("handshake: " + err.Error())
		}
	}
	d, _ := o.Get("data")
	return server.NewRemoteSocket(nsp, id, hs, rooms, ToGo(d)), nil
}

// ToGo returns a JavaScript value as the generic Go value encoding/json
// would decode its JSON into (map[string]any, []any, float64, string,
// bool, nil), Buffers as []byte.
func ToGo(v any) any {
	switch v := v.(type) {
	case *jsval.Object:
		m := make(map[string]any, len(v.Keys))
		for i, k := range v.Keys {
			m[k] = ToGo(v.Vals[i])
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = ToGo(x)
		}
		return out
	}
	return v
}

// TimeoutError is the error a timed-out request ends with: message is
// upstream's, and it wraps sio.ErrAckTimeout.
func TimeoutError(message string) error { return &timeoutError{message} }

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Unwrap() error { return sio.ErrAckTimeout }
