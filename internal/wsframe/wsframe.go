// Package wsframe is the frame layer of the WebSocket protocol (RFC 6455)
// as this module speaks it in several places: the engine's server side and
// the load tool's client side. It holds the header layout, masking and the
// opening handshake's key, and nothing that reads or writes a connection.
package wsframe

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"strings"
)

// Opcodes (RFC 6455, 5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xa
)

// Close status codes used here (RFC 6455, 7.4.1).
const (
	CloseNormal         = 1000
	CloseProtocolError  = 1002
	CloseNoStatus       = 1005
	CloseInvalidPayload = 1007
	CloseTooBig         = 1009
)

// MaxHeaderLen is the length of the longest frame header: two bytes, an
// eight-byte length and a masking key.
const MaxHeaderLen = 14

// guid is the key suffix of the opening handshake (RFC 6455, 1.3).
const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey is the Sec-WebSocket-Accept value that answers the
// Sec-WebSocket-Key key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(strings.TrimSpace(key) + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// AppendHeader appends the header of a final, unmasked frame (a server's)
// of opcode op with a payload of n bytes.
func AppendHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// AppendMasked appends a final frame as a client sends it: the header of
// opcode op with the mask bit and key (the masking key as a little-endian
// word), then payload masked with it.
func AppendMasked(b []byte, op byte, payload []byte, key uint32) []byte {
	start := len(b)
	b = AppendHeader(b, op, len(payload))
	b[start+1] |= 0x80
	b = binary.LittleEndian.AppendUint32(b, key)
	n := len(b)
	b = append(b, payload...)
	MaskCopy(b[n:], b[n:], key, 0)
	return b
}

// HeaderLen is the length of a frame's header, from its second byte.
func HeaderLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// Header is a parsed frame header.
type Header struct {
	Fin    bool
	RSV    byte // the three reserved bits, as the low bits
	Op     byte
	Masked bool
	Len    uint64 // of the payload
	Key    uint32 // the masking key as a little-endian word, when Masked
}

// ParseHeader parses a whole header: h holds at least HeaderLen(h[1]) bytes.
func ParseHeader(h []byte) Header {
	hd := Header{
		Fin:    h[0]&0x80 != 0,
		RSV:    (h[0] >> 4) & 0x7,
		Op:     h[0] & 0x0f,
		Masked: h[1]&0x80 != 0,
		Len:    uint64(h[1] & 0x7f),
	}
	i := 2
	switch hd.Len {
	case 126:
		hd.Len, i = uint64(binary.BigEndian.Uint16(h[2:4])), 4
	case 127:
		hd.Len, i = binary.BigEndian.Uint64(h[2:10]), 10
	}
	if hd.Masked {
		hd.Key = binary.LittleEndian.Uint32(h[i : i+4])
	}
	return hd
}

// MaskCopy copies src into dst (at least as long), masked (or unmasked:
// it is the same) with key, the masking key as a little-endian word, from
// payload position pos, a word at a time (RFC 6455, 5.3). dst and src may
// be the same slice. It reports whether a byte of the result is not ASCII,
// which spares the UTF-8 check of most text.
func MaskCopy(dst, src []byte, key uint32, pos int) (nonASCII bool) {
	dst = dst[:len(src)]
	k := bits.RotateLeft32(key, -8*(pos&3))
	k64 := uint64(k) | uint64(k)<<32
	var acc uint64
	i := 0
	for ; i+32 <= len(src); i += 32 {
		s, d := src[i:i+32], dst[i:i+32]
		v0 := binary.LittleEndian.Uint64(s[0:8]) ^ k64
		v1 := binary.LittleEndian.Uint64(s[8:16]) ^ k64
		v2 := binary.LittleEndian.Uint64(s[16:24]) ^ k64
		v3 := binary.LittleEndian.Uint64(s[24:32]) ^ k64
		binary.LittleEndian.PutUint64(d[0:8], v0)
		binary.LittleEndian.PutUint64(d[8:16], v1)
		binary.LittleEndian.PutUint64(d[16:24], v2)
		binary.LittleEndian.PutUint64(d[24:32], v3)
		acc |= v0 | v1 | v2 | v3
	}
	for ; i+8 <= len(src); i += 8 {
		v := binary.LittleEndian.Uint64(src[i:i+8]) ^ k64
		binary.LittleEndian.PutUint64(dst[i:i+8], v)
		acc |= v
	}
	for j, c := range src[i:] {
		c ^= byte(k >> (8 * (j & 3)))
		dst[i+j] = c
		acc |= uint64(c)
	}
	return acc&0x8080808080808080 != 0
}

// Key4 is a masking key given as its four bytes, as a little-endian word.
func Key4(k [4]byte) uint32 { return binary.LittleEndian.Uint32(k[:]) }
