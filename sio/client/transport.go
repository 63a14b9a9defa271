package client

import "context"

// Transport does the client's I/O and nothing else: HTTP requests for
// long-polling and WebSocket connections. Everything above it (Engine.IO
// handshake, heartbeat, upgrade, reconnection, Socket.IO) is written once in
// this package and runs unchanged natively and in the browser.
//
// Implementations: transport/native (net/http and coder/websocket) and
// transport/wasm (the browser's fetch and WebSocket). A Transport must be
// safe for concurrent use: a long-poll GET and a POST run at the same time.
type Transport interface {
	// Do performs one HTTP request and returns the body of a 200 response.
	// For any other status it returns an *eio.HTTPError built with
	// eio.ParseHTTPError. Cancelling ctx aborts the request.
	Do(ctx context.Context, req *Request) ([]byte, error)
	// DialWebSocket opens a WebSocket to url (ws:// or wss://).
	DialWebSocket(ctx context.Context, url string, header map[string][]string) (WebSocket, error)
}

// Request is one long-polling request.
type Request struct {
	// Method is "GET" or "POST".
	Method string
	// URL is the absolute http:// or https:// URL, query included.
	URL string
	// Header holds extra request headers (ignored where the platform forbids them).
	Header map[string][]string
	// Body is the POST body, sent as text/plain;charset=UTF-8.
	Body []byte
}

// WebSocket is one open WebSocket connection. Read is called from one
// goroutine at a time and Write from one goroutine at a time; Close may be
// called concurrently with both and unblocks them.
type WebSocket interface {
	// Read returns the next message and whether it was a binary frame.
	Read(ctx context.Context) (binary bool, data []byte, err error)
	// Write sends one message as a binary or a text frame.
	Write(ctx context.Context, binary bool, data []byte) error
	// Close closes the connection normally.
	Close() error
}
