package eio

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"

	"github.com/gosio/socketio/sio/internal/errs"
)

var errEmptyPacket = errs.Wrap(ErrInvalidPacket.Error()+": empty packet", ErrInvalidPacket)

// AppendFrame appends the WebSocket frame payload of p to dst and returns the
// extended buffer.
//
// A text packet is encoded as its type digit followed by Data, to be sent in a
// text frame. A binary message (p.Binary) is encoded as the raw Data bytes, to
// be sent in a binary frame: the caller picks the frame type from p.Binary.
// AppendFrame does not allocate when dst has enough capacity.
func AppendFrame(dst []byte, p Packet) []byte {
	if p.Binary {
		return append(dst, p.Data...)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// DecodeFrame decodes the payload of one WebSocket frame. binary reports
// whether it arrived in a binary frame.
//
// A binary frame always decodes to a binary message whose Data aliases data.
// A text frame decodes to a text packet whose Data aliases data, except for
// the form "b<base64>", which decodes (as in the official engine.io-parser)
// to a binary message held in a newly allocated buffer (base64 padding is
// optional, line breaks are rejected).
//
// An empty text frame, an unknown type character and invalid base64 fail
// with a *DecodeError wrapping ErrInvalidPacket.
func DecodeFrame(data []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: Message, Data: nonEmpty(data), Binary: true}, nil
	}
	if len(data) == 0 {
		return Packet{}, decodeErr(0, errEmptyPacket)
	}
	if data[0] == binaryPrefix {
		src := data[1:]
		buf := make([]byte, decodedLen(src))
		n, off, err := decodeBase64(buf, src)
		if err != nil {
			return Packet{}, decodeErr(1+off, err)
		}
		return Packet{Type: Message, Data: nonEmpty(buf[:n]), Binary: true}, nil
	}
	if !validType(data[0]) {
		return Packet{}, unknownTypeErr(0, data[0])
	}
	return Packet{Type: PacketType(data[0] - '0'), Data: nonEmpty(data[1:])}, nil
}

// unknownTypeErr reports an invalid packet type character c at offset off.
// It is kept out of line so that the decoding fast path stays small.
//
//go:noinline
func unknownTypeErr(off int, c byte) error {
	return decodeErr(off, errs.Wrap(ErrInvalidPacket.Error()+": unknown packet type "+strconv.QuoteRune(rune(c)), ErrInvalidPacket))
}

// nonEmpty returns b, or nil when b is empty, so that decoded packets without
// data compare equal whatever their origin.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// AppendPayload appends the HTTP long-polling payload made of pkts to dst and
// returns the extended buffer.
//
// Packets are separated by RecordSeparator. Text packets are written as in
// AppendFrame and must not contain RecordSeparator. Binary messages are
// written as "b" followed by their standard, padded base64 encoding. With no
// packets, dst is returned unchanged. AppendPayload does not allocate when
// dst has enough capacity.
func AppendPayload(dst []byte, pkts ...Packet) []byte {
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, RecordSeparator)
		}
		if p.Binary {
			dst = append(dst, binaryPrefix)
			dst = base64.StdEncoding.AppendEncode(dst, p.Data)
			continue
		}
		dst = append(dst, '0'+byte(p.Type))
		dst = append(dst, p.Data...)
	}
	return dst
}

// Limits bounds the work DecodePayload accepts to do. A zero (or negative)
// field means no limit.
type Limits struct {
	// MaxPackets is the maximum number of packets in one payload.
	MaxPackets int
	// MaxBytes is the maximum length of the encoded payload, in bytes.
	MaxBytes int
}

// DecodePayload decodes an HTTP long-polling payload, appends its packets to
// dst and returns the extended slice.
//
// The payload is checked against lim before any packet is decoded: a payload
// longer than lim.MaxBytes fails with ErrPayloadTooLarge, and one holding more
// than lim.MaxPackets packets fails with ErrTooManyPackets as soon as the
// excess packet is found, without allocating for the rest. An empty payload,
// an empty or unknown packet and invalid base64 fail with ErrInvalidPacket.
// Errors are *DecodeError values; on error no packet is appended to dst.
//
// The Data of text packets aliases data. Binary messages are decoded from
// base64 into a single buffer allocated for the whole payload; base64 padding
// is optional.
func DecodePayload(dst []Packet, data []byte, lim Limits) ([]Packet, error) {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return dst, decodeErr(lim.MaxBytes, errs.Wrap(ErrPayloadTooLarge.Error()+": "+strconv.Itoa(len(data))+" bytes, limit "+strconv.Itoa(lim.MaxBytes), ErrPayloadTooLarge))
	}
	if len(data) == 0 {
		return dst, decodeErr(0, errs.Wrap(ErrInvalidPacket.Error()+": empty payload", ErrInvalidPacket))
	}
	n, err := countPackets(data, lim.MaxPackets)
	if err != nil {
		return dst, err
	}
	base := len(dst)
	dst = slices.Grow(dst, n)

	// First pass: split and decode text packets; binary messages temporarily
	// hold their base64 text while the size of their shared buffer is summed.
	binSize, nBin := 0, 0
	for off := 0; off <= len(data); {
		end := bytes.IndexByte(data[off:], RecordSeparator)
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		pkt := data[off:end]
		switch {
		case len(pkt) == 0:
			return dst[:base], decodeErr(off, errEmptyPacket)
		case pkt[0] == binaryPrefix:
			binSize += decodedLen(pkt[1:])
			nBin++
			dst = append(dst, Packet{Type: Message, Data: pkt[1:], Binary: true})
		case !validType(pkt[0]):
			return dst[:base], unknownTypeErr(off, pkt[0])
		default:
			dst = append(dst, Packet{Type: PacketType(pkt[0] - '0'), Data: nonEmpty(pkt[1:])})
		}
		off = end + 1
	}
	if nBin == 0 {
		return dst, nil
	}

	// Second pass: decode all binary messages into one buffer.
	buf := make([]byte, binSize)
	for i := base; i < len(dst); i++ {
		p := &dst[i]
		if !p.Binary {
			continue
		}
		n, off, err := decodeBase64(buf, p.Data)
		if err != nil {
			return dst[:base], decodeErr(inputOffset(data, p.Data)+off, err)
		}
		p.Data = nonEmpty(buf[:n:n])
		buf = buf[n:]
	}
	return dst, nil
}

// countPackets returns the number of packets in the non-empty payload data,
// failing as soon as it exceeds limit (when limit > 0).
func countPackets(data []byte, limit int) (int, error) {
	if limit <= 0 {
		return bytes.Count(data, []byte{RecordSeparator}) + 1, nil
	}
	n := 1
	for off := 0; ; {
		i := bytes.IndexByte(data[off:], RecordSeparator)
		if i < 0 {
			return n, nil
		}
		off += i + 1
		if n++; n > limit {
			return 0, decodeErr(off, errs.Wrap(ErrTooManyPackets.Error()+": limit "+strconv.FormatInt(int64(limit), 10), ErrTooManyPackets))
		}
	}
}

// inputOffset returns the offset of sub within data; sub must have been
// sliced from data.
func inputOffset(data, sub []byte) int { return cap(data) - cap(sub) }

// base64For picks the padded or unpadded standard alphabet for src.
func base64For(src []byte) *base64.Encoding {
	if len(src)%4 == 0 {
		return base64.StdEncoding
	}
	return base64.RawStdEncoding
}

// decodedLen returns the maximum decoded length of the base64 text src.
func decodedLen(src []byte) int { return base64For(src).DecodedLen(len(src)) }

// decodeBase64 decodes the standard base64 text src (padding optional) into
// dst, which must hold decodedLen(src) bytes. On error it returns the offset
// of the bad byte in src.
func decodeBase64(dst, src []byte) (n, off int, err error) {
	// encoding/base64 silently skips line breaks; the protocol has none.
	if i := indexLineBreak(src); i >= 0 {
		return 0, i, errs.Wrap(ErrInvalidPacket.Error()+": line break in base64 data", ErrInvalidPacket)
	}
	n, err = base64For(src).Decode(dst, src)
	if err != nil {
		// A type assertion, not errors.As: Decode returns the error
		// unwrapped, and errors.As costs about 40 kB of WebAssembly.
		if cie, ok := err.(base64.CorruptInputError); ok {
			off = int(cie)
		}
		return 0, off, errs.Wrap2(ErrInvalidPacket.Error()+": "+err.Error(), ErrInvalidPacket, err)
	}
	return n, 0, nil
}

// indexLineBreak returns the index of the first '\r' or '\n' in b, or -1.
func indexLineBreak(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i >= 0 {
		b = b[:i]
	}
	if j := bytes.IndexByte(b, '\r'); j >= 0 {
		return j
	}
	return i
}
