package native

import (
	"context"

	"github.com/gosio/socketio/sio/client"
)

// Dial is client.Dial over this package's transport: a connected socket
// without naming a transport. opts may be nil; its Transport, when nil, is
// New(nil) (opts itself is not modified).
//
//	s, err := native.Dial(ctx, "http://localhost:3000/chat", nil)
func Dial(ctx context.Context, rawURL string, opts *client.Options) (*client.Socket, error) {
	return client.Dial(ctx, rawURL, withTransport(opts))
}

// NewSocket is client.New over this package's transport, like Dial: a
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
