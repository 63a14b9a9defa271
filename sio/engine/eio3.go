package engine

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/gosio/socketio/sio/eio"
)

// This file is the Engine.IO protocol revision 3 codec (engine.io 3.x,
// the transport of socket.io 2.x), used when Options.AllowEIO3 is set. It
// differs from revision 4 in the long-polling payloads and in binary
// packets:
//
//   - a text payload is each packet prefixed with its length, in UTF-16
//     code units as JavaScript counts them, and a colon: "6:4hello2:4x";
//   - a binary message in text is "b4" and standard base64;
//   - a client that supports binary (no "b64" query parameter) gets the
//     payloads that hold a binary message in binary form: for each packet,
//     a 0 (text) or 1 (binary) byte, the decimal digits of its length as
//     bytes 0 to 9, a 255 byte, then the packet (text in UTF-8, binary as
//     the type byte 4 and the data);
//   - over WebSocket, a binary message is a binary frame starting with the
//     type byte 4.

// protocol3 is the Engine.IO protocol revision 3.
const protocol3 = 3

var errV3Payload = fmt.Errorf("%w: invalid protocol 3 payload", eio.ErrInvalidPacket)

// utf16Len returns the length of the UTF-8 text b in UTF-16 code units, as
// JavaScript's String.length counts it. An invalid byte counts as one unit
// (the U+FFFD Node.js decodes it to).
func utf16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// appendPacketTextV3 appends the text form of f: the frame itself for text,
// "b4" and base64 for binary.
func appendPacketTextV3(dst []byte, f Frame) []byte {
	if !f.Binary {
		return append(dst, f.Data...)
	}
	dst = append(dst, 'b', '4')
	return base64.StdEncoding.AppendEncode(dst, f.Data)
}

// encodePayloadV3 encodes frames as a protocol 3 long-polling payload. It
// is binary (and binary reports it) when supportsBinary is true and a
// frame is binary. No frame makes a noop.
func encodePayloadV3(frames []Frame, supportsBinary bool) (body []byte, binary bool) {
	if len(frames) == 0 {
		frames = []Frame{{Data: noopFrame}}
	}
	if supportsBinary {
		for _, f := range frames {
			if f.Binary {
				binary = true
				break
			}
		}
	}
	var pkt []byte
	for _, f := range frames {
		if binary {
			n := len(f.Data)
			if f.Binary {
				body = append(body, 1)
				n++ // the type byte
			} else {
				body = append(body, 0)
			}
			for _, d := range strconv.Itoa(n) {
				body = append(body, byte(d-'0'))
			}
			body = append(body, 255)
			if f.Binary {
				body = append(body, byte(eio.Message))
			}
			body = append(body, f.Data...)
			continue
		}
		pkt = appendPacketTextV3(pkt[:0], f)
		body = strconv.AppendInt(body, int64(utf16Len(pkt)), 10)
		body = append(body, ':')
		body = append(body, pkt...)
	}
	return body, binary
}

// decodePacketV3 decodes the text form of one packet: a type digit and
// data, or "b", a type digit and base64 for a binary message.
func decodePacketV3(b []byte) (eio.Packet, error) {
	if len(b) == 0 {
		return eio.Packet{}, errV3Payload
	}
	if b[0] == 'b' {
		if len(b) < 2 || b[1] != '4' {
			return eio.Packet{}, fmt.Errorf("%w: binary packet that is not a message", errV3Payload)
		}
		data, err := base64.StdEncoding.DecodeString(string(b[2:]))
		if err != nil {
			return eio.Packet{}, errors.Join(errV3Payload, err)
		}
		return eio.Packet{Type: eio.Message, Data: data, Binary: true}, nil
	}
	if b[0] < '0' || b[0] > '6' {
		return eio.Packet{}, fmt.Errorf("%w: unknown packet type %q", errV3Payload, b[0])
	}
	p := eio.Packet{Type: eio.PacketType(b[0] - '0')}
	if len(b) > 1 {
		p.Data = b[1:]
	}
	return p, nil
}

// decodeBinaryPacketV3 decodes a binary packet: the type byte, which must
// be a message, and the data.
func decodeBinaryPacketV3(b []byte) (eio.Packet, error) {
	if len(b) == 0 || b[0] != byte(eio.Message) {
		return eio.Packet{}, fmt.Errorf("%w: binary packet that is not a message", errV3Payload)
	}
	return eio.Packet{Type: eio.Message, Data: b[1:], Binary: true}, nil
}

// maxLengthDigits bounds the length prefixes of protocol 3 payloads.
const maxLengthDigits = 10

// decodePayloadV3 decodes a protocol 3 long-polling payload, in binary
// form when binary is true. Any error rejects the whole payload.
func decodePayloadV3(body []byte, binary bool) ([]eio.Packet, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty", errV3Payload)
	}
	var packets []eio.Packet
	for len(body) > 0 {
		var (
			p   eio.Packet
			err error
		)
		if binary {
			p, body, err = nextBinaryPacketV3(body)
		} else {
			var empty bool
			p, body, empty, err = nextTextPacketV3(body)
			if empty {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		packets = append(packets, p)
	}
	return packets, nil
}

// nextTextPacketV3 decodes the first "<length>:<packet>" of body. A zero
// length is skipped (empty is true), as upstream does.
func nextTextPacketV3(body []byte) (p eio.Packet, rest []byte, empty bool, err error) {
	i := 0
	n := 0
	for ; i < len(body) && body[i] != ':'; i++ {
		c := body[i]
		if c < '0' || c > '9' || i >= maxLengthDigits {
			return p, nil, false, fmt.Errorf("%w: bad length", errV3Payload)
		}
		n = n*10 + int(c-'0')
	}
	if i == 0 || i == len(body) {
		return p, nil, false, fmt.Errorf("%w: missing length", errV3Payload)
	}
	body = body[i+1:]
	// Take n UTF-16 code units.
	end, units := 0, 0
	for units < n && end < len(body) {
		r, size := utf8.DecodeRune(body[end:])
		end += size
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	if units != n {
		return p, nil, false, fmt.Errorf("%w: length %d does not match the data", errV3Payload, n)
	}
	if n == 0 {
		return p, body, true, nil
	}
	p, err = decodePacketV3(body[:end])
	return p, body[end:], false, err
}

// nextBinaryPacketV3 decodes the first packet of a binary payload.
func nextBinaryPacketV3(body []byte) (p eio.Packet, rest []byte, err error) {
	isText := body[0] == 0
	i := 1
	n := 0
	for ; i < len(body) && body[i] != 255; i++ {
		if body[i] > 9 || i > maxLengthDigits {
			return p, nil, fmt.Errorf("%w: bad length", errV3Payload)
		}
		n = n*10 + int(body[i])
	}
	if i == 1 || i == len(body) || len(body)-i-1 < n {
		return p, nil, fmt.Errorf("%w: bad length", errV3Payload)
	}
	msg := body[i+1 : i+1+n]
	rest = body[i+1+n:]
	if isText {
		// Text in a binary payload is UTF-8, decoded as the body of a
		// text payload is (see serveData); binary packets are not.
		p, err = decodePacketV3(toValidUTF8(msg))
	} else {
		p, err = decodeBinaryPacketV3(msg)
	}
	return p, rest, err
}
