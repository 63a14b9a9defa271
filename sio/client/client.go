package client

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/gosio/socketio/sio/internal/errs"
)

// New returns a socket for the namespace in the path of rawURL ("/" when
// there is none), on a new Manager of its own: the counterpart of the
// official io(url, {autoConnect: false}) with forceNew. Register handlers,
// then call Socket.Connect (blocking) or Socket.Open. Disconnecting the
// socket closes its manager.
//
//	s, err := client.New("http://localhost:3000/chat", &client.Options{Transport: native.New(nil)})
func New(rawURL string, opts *Options) (*Socket, error) {
	p, err := parseServerURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := checkNamespace(p.nsp); err != nil {
		return nil, err
	}
	m, err := newManager(p, opts)
	if err != nil {
		return nil, err
	}
	return m.Socket(p.nsp, opts.socketOptions()), nil
}

// Dial is New followed by Socket.Connect: it returns a connected socket, or
// the reason it could not connect (a *ConnectError when the server refused
// it) with nothing left running. Handlers registered after Dial returns may
// miss the events the server emits at once on connection; use New and
// Connect for those.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Socket, error) {
	s, err := New(rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := s.Connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Registry shares Managers between the sockets of the same server, like the
// official io() does with its cache, but only among the sockets obtained from
// the same Registry. The zero value is ready to use.
type Registry struct {
	mu       sync.Mutex
	managers map[string]*Manager
	owned    []*Manager
}

// Socket returns a socket for the namespace in the path of rawURL, on the
// Registry's Manager for that server (scheme, host and port), creating it
// with opts if needed. A new Manager is created instead when opts.ForceNew is
// set, or when the namespace already has a socket on the shared Manager. The
// socket is not connected yet.
func (r *Registry) Socket(rawURL string, opts *Options) (*Socket, error) {
	p, err := parseServerURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := checkNamespace(p.nsp); err != nil {
		return nil, err
	}
	if opts == nil {
		return nil, ErrNoTransport
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id := p.id()
	m := r.managers[id]
	switch {
	case opts.ForceNew || m != nil && m.hasSocket(p.nsp):
		if m, err = newManager(p, opts); err != nil {
			return nil, err
		}
		r.owned = append(r.owned, m)
	case m == nil:
		if m, err = newManager(p, opts); err != nil {
			return nil, err
		}
		r.owned = append(r.owned, m)
		if r.managers == nil {
			r.managers = make(map[string]*Manager)
		}
		r.managers[id] = m
	}
	return m.Socket(p.nsp, opts.socketOptions()), nil
}

// Close closes every Manager the Registry created.
func (r *Registry) Close() {
	r.mu.Lock()
	owned := r.owned
	r.owned, r.managers = nil, nil
	r.mu.Unlock()
	for _, m := range owned {
		m.Close()
	}
}

// ErrNamespacePath is returned by New, Dial and Registry.Socket for a URL
// whose path, the namespace, looks like the Engine.IO path
// ("/socket.io/..."): a common mistake, as the official client takes the
// path of the URL as the namespace too.
var ErrNamespacePath = errors.New("client: the URL's path is the namespace, and it contains /socket.io/ (did you mean Options.Path?)")

func checkNamespace(nsp string) error {
	if nsp == "/socket.io" || strings.HasPrefix(nsp, "/socket.io/") || strings.Contains(nsp, "/socket.io/") {
		return errs.Wrap("client: namespace "+strconv.Quote(nsp)+": the URL's path is the namespace, not the Engine.IO path (did you mean Options.Path?)", ErrNamespacePath)
	}
	return nil
}
