package eio

// The names of the transports, as the "transport" query parameter, the
// handshake's "upgrades" and the errors of the official server give them.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)
