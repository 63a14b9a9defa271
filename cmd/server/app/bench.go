package app

import (
	"log/slog"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/server"
)

// NewBench returns the server of the load-test contract: on "/", event
// "echo" is acknowledged with its own arguments, and event "broadcast" is
// emitted again, with the same arguments, to every socket of the namespace.
func NewBench(logger *slog.Logger) *server.Server { return NewBenchAdapter(logger, nil) }

// NewBenchAdapter is NewBench on the adapter made by adapter (nil: the
// in-memory adapter), for a cluster of bench servers.
func NewBenchAdapter(logger *slog.Logger, adapter server.AdapterFactory) *server.Server {
	return NewBenchOptions(&server.Options{EngineOptions: server.EngineOptions{Logger: logger}, Adapter: adapter})
}

// NewBenchOptions is NewBench configured by opts (the parser, for one).
func NewBenchOptions(opts *server.Options) *server.Server {
	srv := server.New(opts)
	nsp := srv.Of("/")
	srv.OnConnection(func(s *server.Socket) {
		s.On("echo", func(e *sio.Event) { _ = e.Ack(e.Args.AsAny()...) })
		s.On("broadcast", func(e *sio.Event) { _ = nsp.Emit("broadcast", e.Args.AsAny()...) })
	})
	return srv
}
