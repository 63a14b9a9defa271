package app

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gosio/socketio/sio/server"
)

// Demo is the demo chat server: the web app and the Socket.IO endpoint.
type Demo struct {
	IO  *server.Server
	mux *http.ServeMux
}

// NewDemo builds the demo. webDir is the folder of the web app ("" finds
// web/ of this module).
func NewDemo(logger *slog.Logger, webDir string) (*Demo, error) {
	srv := server.New(&server.Options{Logger: logger})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	return &Demo{IO: srv, mux: mux}, nil
}

// Handler returns the demo's HTTP handler.
func (d *Demo) Handler() http.Handler { return d.mux }

// Shutdown shuts the demo down gracefully.
func (d *Demo) Shutdown(ctx context.Context) error { return d.IO.Shutdown(ctx) }
