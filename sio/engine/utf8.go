package engine

import "unicode/utf8"

// toValidUTF8 returns b decoded as Node.js decodes a request body it reads
// as a UTF-8 string (upstream's polling transport does): each maximal
// ill-formed subsequence, in the sense of the Unicode standard and the
// WHATWG decoder, becomes one U+FFFD. b itself is returned when it is
// valid, the common case, after one utf8.Valid pass. The engine never
// passes invalid UTF-8 on: a message from a polling client may be relayed
// to WebSocket clients, whose text frames must be valid UTF-8 (RFC 6455
// §5.6).
func toValidUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		out = append(out, "\uFFFD"...)
		i += illFormedLen(b[i:])
	}
	return out
}

// illFormedLen returns the length of the maximal ill-formed subsequence
// b starts with: a lead byte and the continuation bytes that may follow
// it, up to the first that may not. utf8.DecodeRune takes one byte at a
// time instead, which makes more replacement characters than Node.js
// (two for a truncated three-byte sequence where Node.js makes one).
func illFormedLen(b []byte) int {
	need := 0
	lo, hi := byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F // not a surrogate
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F // at most U+10FFFF
	default:
		return 1 // a continuation byte, or a byte never in UTF-8
	}
	n := 1
	for n <= need && n < len(b) && b[n] >= lo && b[n] <= hi {
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}
