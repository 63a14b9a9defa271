//go:build js && wasm

package wasm

import (
	"context"

	"github.com/gosio/socketio/sio/client"
)

// Dial is client.Dial over the browser's fetch and WebSocket (this package): a connected socket
// without naming a transport. opts may be nil; its Transport, when nil, is
// New(nil) (opts itself is not modified).
//
//	s, err := wasm.Dial(ctx, "http://localhost:3000/chat", nil)
func Dial(ctx context.Context, rawURL string, opts *client.Options) (*client.Socket, error) {
	return client.Dial(ctx, rawURL, withTransport(opts))
}

// NewSocket is client.New over the browser's fetch and WebSocket (this package), like Dial: a
// socket not connected yet, to register handlers before Connect or Open.
func NewSocket(rawURL string, opts *client.Options) (*client.Socket, error) {
	return client.New(rawURL, withTransport(opts))
}

func withTransport(opts *client.Options) *client.Options {
	var o client.Options
	if opts != nil {
		o = *opts
	}
	if o.Transport == nil {
		o.Transport = New(nil)
	}
	return &o
}
