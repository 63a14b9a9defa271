package engine

import (
	"net/url"

	"github.com/gosio/socketio/sio/eio"
)

// codec is the Engine.IO protocol revision a session speaks, chosen once
// at its handshake (see codecFor): how its packets look on a WebSocket and
// in long-polling payloads, and which side pings.
type codec interface {
	// protocol is the revision: 4, or 3.
	protocol() int
	// wsMessage returns the WebSocket message that carries f: its kind,
	// and its payload, pre then data.
	wsMessage(f Frame) (binary bool, pre, data []byte)
	// decodeMessage decodes a WebSocket message into a packet.
	decodeMessage(data []byte, binary bool) (eio.Packet, error)
	// encodePayload encodes frames (none makes a noop) as the body of a
	// long-polling GET, with its content type.
	encodePayload(frames []Frame) (body []byte, contentType string)
	// decodePayload decodes the body of a long-polling POST, binary when
	// its content type says so; at most limit bytes of packets.
	decodePayload(body []byte, binary bool, limit int64) ([]eio.Packet, error)
	// binaryPayloads reports whether a POST may have a binary body.
	binaryPayloads() bool
	// clientPings is true when the client pings and the server answers
	// (revision 3), false when the server pings (revision 4).
	clientPings() bool
}

// The codecs, one value each: a session holds a pointer to one of them.
var (
	codec4       codec = codecV4{}
	codec3       codec = &codecV3{}
	codec3Base64 codec = &codecV3{base64: true}
)

// codecFor returns the codec of a handshake's query: revision 4 for
// EIO=4, 3 for anything else, as upstream; a revision 3 client that sent
// "b64" gets binary as base64 text.
func codecFor(q url.Values) codec {
	switch {
	case requestProtocol(q) != protocol3:
		return codec4
	case q.Has("b64"):
		return codec3Base64
	default:
		return codec3
	}
}

// codecV4 is Engine.IO revision 4: a binary message is a binary frame of
// the raw data, and a polling payload joins packets with a record
// separator, binary ones in base64.
type codecV4 struct{}

func (codecV4) protocol() int { return 4 }

func (codecV4) wsMessage(f Frame) (bool, []byte, []byte) { return f.Binary, nil, f.Data }

func (codecV4) decodeMessage(data []byte, binary bool) (eio.Packet, error) {
	return eio.DecodeFrame(data, binary)
}

func (codecV4) encodePayload(frames []Frame) ([]byte, string) {
	return encodePayload(frames), textPlain
}

func (codecV4) decodePayload(body []byte, _ bool, limit int64) ([]eio.Packet, error) {
	return eio.DecodePayload(nil, body, eio.Limits{MaxBytes: int(limit)})
}

// binaryPayloads is false: binary polling bodies are Engine.IO v3 only.
func (codecV4) binaryPayloads() bool { return false }

func (codecV4) clientPings() bool { return false }

// codecV3 is Engine.IO revision 3 (see eio3.go); base64 is set for a
// client that asked for binary as base64 text.
type codecV3 struct{ base64 bool }

func (*codecV3) protocol() int { return protocol3 }

// v3MessageType is the type byte a binary message starts with.
var v3MessageType = []byte{byte(eio.Message)}

func (c *codecV3) wsMessage(f Frame) (bool, []byte, []byte) {
	switch {
	case !f.Binary:
		return false, nil, f.Data
	case c.base64:
		return false, nil, appendPacketTextV3(nil, f)
	default:
		return true, v3MessageType, f.Data
	}
}

func (*codecV3) decodeMessage(data []byte, binary bool) (eio.Packet, error) {
	if binary {
		return decodeBinaryPacketV3(data)
	}
	return decodePacketV3(data)
}

func (c *codecV3) encodePayload(frames []Frame) ([]byte, string) {
	body, binary := encodePayloadV3(frames, !c.base64)
	if binary {
		return body, "application/octet-stream"
	}
	return body, textPlain
}

func (*codecV3) decodePayload(body []byte, binary bool, _ int64) ([]eio.Packet, error) {
	return decodePayloadV3(body, binary)
}

func (*codecV3) binaryPayloads() bool { return true }

func (*codecV3) clientPings() bool { return true }
