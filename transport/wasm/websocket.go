//go:build js && wasm

package wasm

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"syscall/js"

	"github.com/gosio/socketio/sio/client"
)

var (
	// ErrClosed is returned by Read and Write once the connection is closed,
	// by either side. A close by the peer or the network is wrapped with its
	// close code and reason.
	ErrClosed = errors.New("wasm: websocket closed")
	// ErrHandshake reports a WebSocket that closed before it opened: a wrong
	// path, a refused handshake or a network error. The browser does not
	// expose the HTTP status, so these cannot be told apart.
	ErrHandshake = errors.New("wasm: websocket failed before it opened (the browser does not expose why)")
)

// DialWebSocket implements client.Transport with the browser's WebSocket.
// header is ignored: a browser sends no custom headers with the handshake,
// only the cookies it holds for the target.
func (t *transport) DialWebSocket(ctx context.Context, url string, _ map[string][]string) (client.WebSocket, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("wasm: websocket "+url+": "+context.Cause(ctx).Error(), context.Cause(ctx))
	}
	c := &conn{
		opened:  make(chan struct{}),
		done:    make(chan struct{}),
		closing: make(chan struct{}),
		notify:  make(chan struct{}, 1),
	}
	// The constructor throws a SyntaxError for a malformed URL.
	if err := catch(func() { c.ws = js.Global().Get("WebSocket").New(url) }); err != nil {
		return nil, wrap("wasm: websocket "+url+": "+err.Error(), err)
	}
	c.ws.Set("binaryType", "arraybuffer")
	c.listen()

	select {
	case <-c.opened:
		return c, nil
	case <-c.done:
		return nil, wrap("wasm: websocket "+url+": "+ErrHandshake.Error()+" (close code "+strconv.Itoa(c.code)+")", ErrHandshake)
	case <-ctx.Done():
		// Fails the pending handshake; the close event releases the funcs.
		c.ws.Call("close")
		return nil, wrap("wasm: websocket "+url+": "+context.Cause(ctx).Error(), context.Cause(ctx))
	}
}

// message is one received frame.
type message struct {
	binary bool
	data   []byte
}

// conn implements client.WebSocket over a browser WebSocket.
//
// The JavaScript event handlers never block: onmessage appends to queue
// under mu (held only for slice operations, never across a channel or JS
// operation) and pokes notify without waiting; onopen and onclose close a
// channel. Read waits on those channels in an ordinary goroutine. The
// queue has no limit: a browser WebSocket cannot be paused, and the
// Engine.IO layer above bounds each message.
type conn struct {
	ws      js.Value
	opened  chan struct{} // closed by the open event
	done    chan struct{} // closed by the close event; code and reason are set first
	closing chan struct{} // closed by Close
	notify  chan struct{} // capacity 1: a message was queued

	closeOnce sync.Once
	// handlers are the event callbacks, released by the close event.
	handlers []js.Func

	mu     sync.Mutex
	queue  []message
	code   int
	reason string
}

// listen installs the event handlers.
func (c *conn) listen() {
	on := func(event string, f func(ev js.Value)) {
		fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
			f(arg(args))
			return nil
		})
		c.handlers = append(c.handlers, fn)
		c.ws.Set(event, fn)
	}
	on("onopen", func(js.Value) { close(c.opened) })
	on("onmessage", func(ev js.Value) {
		data := ev.Get("data")
		var m message
		if data.Type() == js.TypeString {
			m.data = []byte(data.String())
		} else {
			m.binary, m.data = true, bytesFromJS(data)
		}
		c.mu.Lock()
		c.queue = append(c.queue, m)
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default: // a wake-up is already pending
		}
	})
	on("onclose", func(ev js.Value) {
		c.mu.Lock()
		c.code, c.reason = ev.Get("code").Int(), ev.Get("reason").String()
		c.mu.Unlock()
		close(c.done)
		// No event follows close: detach and release every handler.
		for _, name := range [...]string{"onopen", "onmessage", "onclose"} {
			c.ws.Set(name, js.Null())
		}
		for _, fn := range c.handlers {
			fn.Release()
		}
	})
}

// closedErr returns the error for a connection the close event ended.
func (c *conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return wrap(ErrClosed.Error()+" (code "+strconv.Itoa(c.code)+", reason "+strconv.Quote(c.reason)+")", ErrClosed)
}

// Read implements client.WebSocket. Messages that arrived before the peer
// closed are returned before the close error; after Close, Read returns
// ErrClosed at once.
func (c *conn) Read(ctx context.Context) (bool, []byte, error) {
	for {
		select {
		case <-c.closing:
			return false, nil, ErrClosed
		default:
		}
		// Look at done before the queue: the close event comes after every
		// message event, so if done was already closed, the queue is final.
		finished := isClosed(c.done)
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = message{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return m.binary, m.data, nil
		}
		c.mu.Unlock()
		if finished {
			return false, nil, c.closedErr()
		}
		select {
		case <-c.notify:
		case <-c.done:
		case <-c.closing:
		case <-ctx.Done():
			return false, nil, wrap("wasm: websocket read: "+context.Cause(ctx).Error(), context.Cause(ctx))
		}
	}
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Write implements client.WebSocket. The browser buffers outgoing data
// without limit (see WebSocket.bufferedAmount), so Write does not wait for
// the network.
func (c *conn) Write(ctx context.Context, binary bool, data []byte) error {
	if err := ctx.Err(); err != nil {
		return wrap("wasm: websocket write: "+context.Cause(ctx).Error(), context.Cause(ctx))
	}
	if isClosed(c.closing) {
		return ErrClosed
	}
	if isClosed(c.done) {
		return c.closedErr()
	}
	// CLOSING or CLOSED: send would drop the data silently.
	if c.ws.Get("readyState").Int() != 1 {
		return ErrClosed
	}
	var payload any = string(data)
	if binary {
		payload = bytesToJS(data)
	}
	if err := catch(func() { c.ws.Call("send", payload) }); err != nil {
		return wrap("wasm: websocket write: "+err.Error(), err)
	}
	return nil
}

// Close implements client.WebSocket: it starts the closing handshake with
// code 1000 and returns at once, unblocking Read. It is idempotent.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.ws.Call("close", 1000)
	})
	return nil
}
