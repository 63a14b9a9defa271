// Package client is a Socket.IO v4 client (Engine.IO protocol 4, Socket.IO
// protocol 5), wire-compatible with the official socket.io 4.x server and
// modelled on the official socket.io-client: same options and defaults, same
// events, same reconnection, buffering, acknowledgement and connection state
// recovery behaviour.
//
// The package does no I/O itself: a Transport performs the HTTP requests and
// WebSocket connections, so the same client runs natively (transport/native)
// and in the browser (transport/wasm, GOOS=js GOARCH=wasm).
//
// # Connecting
//
// Dial connects and returns a connected Socket:
//
//	s, err := client.Dial(ctx, "http://localhost:3000/chat", &client.Options{Transport: native.New(nil)})
//
// To see the events the server emits as soon as the connection is made,
// create the socket with New, register handlers, then call Socket.Connect
// (blocking) or Socket.Open (returns at once, like io() in JavaScript). A
// Manager multiplexes the sockets of several namespaces over one connection
// (NewManager, Manager.Socket); a Registry shares Managers by server like the
// official io() cache, but only among the sockets it hands out.
//
// # Transports
//
// By default the client connects with HTTP long-polling then upgrades to
// WebSocket (Options.Transports, DisableUpgrade, RememberUpgrade,
// TryAllTransports). Over polling, everything queued goes in one POST, one
// POST at a time, within the server's maxPayload; an emit larger than the
// server accepts fails with sio.ErrPayloadTooLarge instead of getting the
// connection closed. The server's pings are answered, and a server silent for
// pingInterval+pingTimeout is detected (reason sio.ReasonPingTimeout).
//
// # Reconnection and buffering
//
// A lost connection is re-established with exponential back-off (1 s to 5 s,
// randomised by ±50%, unlimited attempts by default) and every socket that
// was connected connects again. There is no reconnection after the server
// disconnected the socket (sio.ReasonServerDisconnect), refused it
// (*ConnectError), or after Socket.Disconnect or Manager.Close.
//
// Emits made while a socket is not connected are buffered and sent in order
// on (re)connection; volatile emits are dropped instead. The buffer holds
// Options.MaxBufferedPackets packets (1000 by default); beyond, emits fail
// with ErrBufferFull and the buffered ones are kept. Acknowledgements of
// packets sent on a lost connection fail with sio.ErrDisconnected; with
// SocketOptions.Retries, emits are instead re-sent until acknowledged
// (at-least-once delivery).
//
// # Handlers and ordering
//
// Socket handlers (OnConnect, OnConnectError, OnDisconnect, On, OnAny,
// OnAnyOutgoing, EmitWithAckFunc callbacks) run one at a time on a goroutine
// of the socket, in the order the events happened; Manager handlers likewise
// on a goroutine of the manager. Handlers never run on the goroutines reading
// the connection: a slow handler delays the following handlers of its socket
// only, and a handler may block on EmitWithAck (acknowledgements are matched
// on the read path, not on the handler goroutine). These goroutines exist
// only while there are handlers to run.
//
// A panic in a handler is recovered and logged at Error level through
// Options.Logger, with its stack ("socket.io client: handler panicked"):
// the other handlers of that event are skipped, those of the next events
// run as usual, and the connection is left as it is.
package client
