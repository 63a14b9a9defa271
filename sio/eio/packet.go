package eio

import "strconv"

// Protocol is the Engine.IO protocol revision implemented by this package,
// sent by clients as the EIO query parameter.
const Protocol = 4

// RecordSeparator is the byte that separates packets in an HTTP long-polling
// payload. Text packets sent over long-polling must not contain it.
const RecordSeparator = 0x1e

// binaryPrefix introduces a base64-encoded binary message in a text encoding.
const binaryPrefix = 'b'

// PacketType identifies the kind of an Engine.IO packet. On the wire it is a
// single ASCII digit.
type PacketType byte

// The Engine.IO packet types, in wire order ("0" to "6").
const (
	Open    PacketType = iota // Open carries the handshake JSON, sent by the server.
	Close                     // Close asks the peer to close the transport.
	Ping                      // Ping is sent by the server (or as the "probe" during an upgrade by the client).
	Pong                      // Pong answers a Ping with the same data.
	Message                   // Message carries application data.
	Upgrade                   // Upgrade completes a transport upgrade.
	Noop                      // Noop does nothing; it ends a pending poll during an upgrade.
)

// numTypes is the number of valid packet types.
const numTypes = 7

var typeNames = [numTypes]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol name of t ("open", "close", "ping", "pong",
// "message", "upgrade" or "noop"), or "PacketType(N)" for an invalid type.
func (t PacketType) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// Packet is one Engine.IO packet.
//
// Packets returned by the decoders may alias the decoder input: see
// [DecodeFrame] and [DecodePayload].
type Packet struct {
	// Type is the packet type. It is always Message when Binary is true.
	Type PacketType
	// Data is the text following the type character of a text packet, or the
	// raw bytes of a binary message. Decoders set it to nil when the packet
	// carries no data.
	Data []byte
	// Binary marks a binary message. The encoders treat a packet with Binary
	// set as a binary message whatever its Type.
	Binary bool
}

// validType reports whether c is the wire digit of a packet type.
func validType(c byte) bool { return c >= '0' && c < '0'+numTypes }
