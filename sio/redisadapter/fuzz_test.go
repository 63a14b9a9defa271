//go:build !js

package redisadapter

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/server"
)

// offlineClient is a client of a Redis server that is not there: the
// adapters under fuzzing publish into the void.
func offlineClient(tb testing.TB) goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// FuzzClassicMessage: whatever arrives on the classic adapter's channels is
// handled or ignored, never a panic.
func FuzzClassicMessage(f *testing.F) {
	pkt := jsval.NewObject("type", 2.0, "data", []any{"ev", []byte{1}}, "nsp", "/")
	opts := jsval.NewObject("rooms", []any{"r"}, "except", []any{}, "flags", jsval.NewObject("timeout", 100.0))
	seeds := [][]byte{
		jsval.EncodeMsgpack([]any{"other", pkt, opts}),
		jsval.EncodeMsgpack(jsval.NewObject("uid", "x", "requestId", "r", "type", 7.0, "packet", pkt, "opts", opts)),
		[]byte(`{"uid":"x","requestId":"r","type":5,"opts":{"rooms":[],"except":[]}}`),
		[]byte(`{"uid":"x","requestId":"r","type":6,"data":["ping",1]}`),
		[]byte(`{"type":2,"opts":{"rooms":[1],"except":[]},"rooms":["a"]}`),
		[]byte(`{"type":4,"opts":{"rooms":[],"except":[]},"close":true}`),
		[]byte(`{"uid":"x","requestId":"r","type":0,"rooms":["a"]}`),
		[]byte(`{"uid":"x","requestId":"r","type":1}`),
		[]byte(`{"type":2,"sid":"nobody","room":"a","requestId":"q"}`),
		[]byte(`{"type":8,"requestId":"r","clientCount":1}`),
		[]byte(`{"requestId":"r","sockets":[{"id":"x","handshake":{},"rooms":[],"data":{}}]}`),
		{0x93, 0xc0, 0xc0, 0xc0}, []byte("{"), {},
	}
	for i, s := range seeds {
		f.Add(uint8(i%4), s)
	}
	srv := server.New(&server.Options{Adapter: New(offlineClient(f), nil)})
	f.Cleanup(func() { _ = srv.Close() })
	a := srv.Of("/").Adapter().(*classicAdapter)
	// A pending request of each kind, so that responses are examined.
	a.requests.Add("r", reqRemoteFetch, 1000000)
	channels := []string{a.channel, a.channel + "r#", a.requestChannel, a.responseChannel}
	f.Fuzz(func(t *testing.T, ch uint8, payload []byte) {
		c := channels[int(ch)%len(channels)]
		if c == a.channel || c == a.channel+"r#" {
			a.onBroadcast(c, payload)
		} else {
			a.onRequest(c, payload)
		}
	})
}

// FuzzShardedMessage: whatever arrives on the sharded adapter's channels is
// handled or ignored, never a panic.
func FuzzShardedMessage(f *testing.F) {
	pkt := jsval.NewObject("type", 2.0, "data", []any{"ev", []byte{1}})
	opts := jsval.NewObject("rooms", []any{}, "except", []any{"x"}, "flags", jsval.NewObject())
	msg := func(t cluster.MessageType, data *jsval.Object) []byte {
		return jsval.EncodeMsgpack((&cluster.Message{Type: t, Data: data, UID: "other", NSP: "/"}).Value())
	}
	seeds := [][]byte{
		msg(cluster.Broadcast, jsval.NewObject("packet", pkt, "opts", opts)),
		msg(cluster.Broadcast, jsval.NewObject("packet", pkt, "requestId", "r", "opts", opts)),
		msg(cluster.SocketsJoin, jsval.NewObject("opts", opts, "rooms", []any{"a"})),
		msg(cluster.DisconnectSockets, jsval.NewObject("opts", opts, "close", true)),
		msg(cluster.FetchSockets, jsval.NewObject("opts", opts, "requestId", "r")),
		msg(cluster.ServerSideEmit, jsval.NewObject("requestId", "r", "packet", []any{"ping"})),
		msg(cluster.FetchSocketsResponse, jsval.NewObject("requestId", "r", "sockets", []any{jsval.NewObject("id", "x")})),
		msg(cluster.ServerSideEmitResponse, jsval.NewObject("requestId", "r", "packet", 1.0)),
		msg(cluster.BroadcastClientCount, jsval.NewObject("requestId", "r", "clientCount", 2.0)),
		[]byte(`{"type":3,"data":{"packet":{"type":2,"data":["e"]},"opts":{"rooms":[],"except":[]}},"uid":"u","nsp":"/"}`),
		[]byte(`{"type":99,"uid":"u","nsp":"/"}`), []byte(`[]`), {0xc1},
	}
	for i, s := range seeds {
		f.Add(i%2 == 0, s)
	}
	srv := server.New(&server.Options{Adapter: NewSharded(offlineClient(f), nil)})
	f.Cleanup(func() { _ = srv.Close() })
	a := srv.Of("/").Adapter().(*shardedAdapter)
	f.Fuzz(func(t *testing.T, response bool, payload []byte) {
		ch := a.channel
		if response {
			ch = a.responseChannel
		}
		a.onRedisMessage(&goredis.Message{Channel: ch, Payload: string(payload)})
	})
}
