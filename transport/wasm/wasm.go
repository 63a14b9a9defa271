//go:build js && wasm

// Package wasm is the client transport for Go programs compiled to
// WebAssembly and running in a browser. Long-polling requests go through the
// browser's fetch and WebSocket connections through the browser's own
// WebSocket object, both reached with syscall/js only: the package imports
// neither net/http nor a WebSocket library, which keeps the wasm binary small.
//
// Rules that every JavaScript callback in this package follows:
//   - it never blocks: results are handed to Go code through buffered channels
//     or a mutex-protected queue, and ordinary goroutines wait for them;
//   - every js.Func is released once JavaScript can no longer call it.
//
// The browser owns cookies, so the only knob is the fetch credentials mode
// (see [Options]). Request headers that the browser forbids (Cookie, Origin,
// …) are silently dropped by the browser, and a WebSocket handshake carries
// no custom headers at all.
package wasm

import (
	"errors"
	"syscall/js"

	"github.com/gosio/socketio/sio/client"
)

// Options configures the transport. The zero value (or nil) is ready to use.
type Options struct {
	// Credentials is the fetch credentials mode: "same-origin" (the default),
	// "include" to send and store cookies on cross-origin requests (the
	// server must then answer with Access-Control-Allow-Credentials), or
	// "omit".
	Credentials string
}

// New returns a client.Transport backed by the browser's fetch and WebSocket.
// opts may be nil.
func New(opts *Options) client.Transport {
	t := &transport{credentials: "same-origin"}
	if opts != nil && opts.Credentials != "" {
		t.credentials = opts.Credentials
	}
	return t
}

// transport implements client.Transport. It holds no per-request state, so
// it is safe for concurrent use.
type transport struct {
	credentials string
}

// jsError converts a JavaScript rejection reason or thrown value into a Go
// error. Error objects become js.Error, which keeps name and message.
func jsError(v js.Value) error {
	if v.Type() == js.TypeObject && v.InstanceOf(js.Global().Get("Error")) {
		return js.Error{Value: v}
	}
	return errors.New("javascript: " + jsString(v))
}

// jsString formats any JavaScript value with String(v).
func jsString(v js.Value) string {
	return js.Global().Call("String", v).String()
}

// catch runs f and turns a JavaScript exception thrown by a syscall/js call
// inside it (which syscall/js raises as a panic with a js.Error) into an
// error. Other panics propagate.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			jerr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = jerr
		}
	}()
	f()
	return nil
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

// bytesFromJS copies an ArrayBuffer or a typed array into a new Go slice.
func bytesFromJS(v js.Value) []byte {
	u := v
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		u = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, u.Get("byteLength").Int())
	js.CopyBytesToGo(b, u)
	return b
}

// wrapError is what fmt.Errorf returns for one %w verb, without fmt, whose
// code weighs about 0.4 MB in WebAssembly.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// wrap returns an error with text msg wrapping err.
func wrap(msg string, err error) error { return &wrapError{msg, err} }
