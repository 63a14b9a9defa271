package app

import (
	"testing"

	"github.com/gosio/socketio/sio/server"
)

func TestAdapterKinds(t *testing.T) {
	for _, kind := range []string{"", AdapterRedis, AdapterSharded, AdapterStreams} {
		f, closer, err := Adapter(kind, "", nil)
		if err != nil || f == nil || closer == nil {
			t.Fatalf("Adapter(%q, no Redis) = %v, %v, %v; want the in-memory adapter", kind, f != nil, closer, err)
		}
		srv := server.New(&server.Options{Adapter: f})
		if _, ok := srv.Sockets().Adapter().(*server.MemoryAdapter); !ok {
			t.Errorf("Adapter(%q, no Redis) made a %T", kind, srv.Sockets().Adapter())
		}
		srv.Close()
		if err := closer.Close(); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := Adapter("kafka", "", nil); err == nil {
		t.Error("Adapter(kafka) accepted an unknown kind")
	}
}
