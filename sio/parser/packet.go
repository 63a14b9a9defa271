// Package parser implements the Socket.IO v5 packet codec: the text frame
// format of the official socket.io-parser, binary attachments carried as
// placeholders, and the splitting of event and ack payloads into arguments.
//
// The package is pure: it does no I/O. A packet travels as one text frame
// (see [AppendPacket] and [Decoder.Text]) followed, for the binary types,
// by one binary frame per attachment (see [Decoder.Binary]).
//
// Payloads are built with [AppendEvent] and [AppendArgs], which replace
// every []byte found in the arguments by a placeholder object
// {"_placeholder":true,"num":N} and return the bytes as attachments.
// Received arguments are [Value]s that decode placeholders back into
// []byte.
package parser

import "strconv"

// Type is the type of a Socket.IO packet, the first character of its text
// frame.
type Type byte

// The packet types of the Socket.IO v5 protocol.
const (
	Connect      Type = iota // CONNECT: connection to a namespace
	Disconnect               // DISCONNECT: disconnection from a namespace
	Event                    // EVENT: an event without binary data
	Ack                      // ACK: an acknowledgement without binary data
	ConnectError             // CONNECT_ERROR: a refused namespace connection
	BinaryEvent              // BINARY_EVENT: an event with attachments
	BinaryAck                // BINARY_ACK: an acknowledgement with attachments
)

// String returns the protocol name of the type, such as "BINARY_EVENT".
func (t Type) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// binary reports whether packets of type t carry attachments.
func (t Type) binary() bool { return t == BinaryEvent || t == BinaryAck }

// Packet is one Socket.IO packet. The type is what is on the wire
// (BinaryEvent/BinaryAck when there are attachments).
type Packet struct {
	// Type is the packet type.
	Type Type
	// Namespace is the namespace, such as "/admin". Decoding yields "/"
	// when it is absent; encoding treats "" like "/" and omits it.
	Namespace string
	// ID is the acknowledgement id; it is meaningful only if HasID is set.
	ID uint64
	// HasID reports whether the packet carries an acknowledgement id.
	HasID bool
	// Data is the raw JSON payload exactly as on the wire, placeholders
	// included; nil when absent.
	Data []byte
	// Attachments are the binary attachments in order (binary types only).
	Attachments [][]byte
}

// AppendPacket appends the text frame of p to dst and returns the extended
// buffer:
//
//	<type>[<n>-][<namespace>,][<id>][<data>]
//
// byte for byte like the official encoder: n is len(p.Attachments) and is
// written for the binary types only, and the namespace is omitted when it is
// "" or "/". The attachments are not written: the caller sends them as
// separate binary frames after the text frame.
//
// AppendPacket does not validate p. The caller must make sure that the type
// is one of the constants, that the type is BinaryEvent or BinaryAck exactly
// when there are attachments, that the namespace starts with '/' and
// contains no ',' (the namespace ends at the first comma on the wire), and
// that Data is valid JSON, as produced by [AppendEvent] or [AppendArgs].
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	if p.Type.binary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}
