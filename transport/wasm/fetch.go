//go:build js && wasm

package wasm

import (
	"context"
	"strings"
	"syscall/js"

	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/eio"
)

// Do implements client.Transport with the browser's fetch. Cancelling ctx
// aborts the request through an AbortController, which also ends the
// server's view of it. Do must not be called from a JavaScript callback: it
// waits for the fetch promises.
func (t *transport) Do(ctx context.Context, req *client.Request) ([]byte, error) {
	body, err := t.do(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			// The abort surfaces as a DOMException; report the reason.
			err = context.Cause(ctx)
		}
		return nil, wrap("wasm: "+req.Method+" "+req.URL+": "+err.Error(), err)
	}
	return body, nil
}

func (t *transport) do(ctx context.Context, req *client.Request) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ac := js.Global().Get("AbortController").New()
	stop := context.AfterFunc(ctx, func() { ac.Call("abort") })
	defer stop()

	// A plain object: a header name the browser forbids is dropped by
	// fetch, an invalid one makes the promise reject (not a Go panic).
	headers := js.Global().Get("Object").New()
	init := map[string]any{
		"method":      req.Method,
		"credentials": t.credentials,
		"cache":       "no-store",
		"signal":      ac.Get("signal"),
		"headers":     headers,
	}
	if req.Body != nil || req.Method == "POST" {
		headers.Set("Content-Type", "text/plain;charset=UTF-8")
		init["body"] = bytesToJS(req.Body)
	}
	for name, values := range req.Header {
		headers.Set(name, strings.Join(values, ", "))
	}

	var promise js.Value
	if err := catch(func() { promise = js.Global().Call("fetch", req.URL, init) }); err != nil {
		return nil, err
	}
	resp, err := await(promise)
	if err != nil {
		return nil, err
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, wrap("reading body: "+err.Error(), err)
	}
	body := bytesFromJS(buf)
	if status := resp.Get("status").Int(); status != 200 {
		return nil, eio.ParseHTTPError(status, body)
	}
	return body, nil
}

// await waits until promise settles and returns its value or its rejection
// reason as an error. The two callbacks only send into a buffered channel
// (exactly one of them runs, once), so they never block, and both are
// released afterwards. await does not watch a context: callers abort the
// underlying operation instead, which settles the promise.
func await(promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	resolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg(args)}
		return nil
	})
	reject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: jsError(arg(args))}
		return nil
	})
	promise.Call("then", resolve, reject)
	r := <-ch
	resolve.Release()
	reject.Release()
	return r.v, r.err
}

// arg returns the first callback argument, or undefined.
func arg(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}
