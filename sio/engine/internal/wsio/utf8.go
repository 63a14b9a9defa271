//go:build !js

package wsio

import "encoding/binary"

// utf8Check checks UTF-8 text given in pieces, split anywhere (between
// frames, between reads), and fails at the first byte that no valid text
// can have there: a WebSocket endpoint must fail a connection on invalid
// text at once (RFC 6455, 8.1), not once the message is complete. Valid
// means what utf8.Valid accepts: shortest forms, no surrogates, nothing
// past U+10FFFF (RFC 3629). The zero value is at the start of a text.
type utf8Check struct {
	need   uint8 // continuation bytes still due for the character begun
	lo, hi byte  // the range of the next continuation byte
}

// complete reports whether the text so far ends between characters.
func (u *utf8Check) complete() bool { return u.need == 0 }

// check checks b, the next bytes of the text, and reports whether they can
// continue a valid text. It scans ASCII eight bytes at a time.
func (u *utf8Check) check(b []byte) bool {
	i := 0
	need, lo, hi := u.need, u.lo, u.hi
	for {
		// The continuation bytes of the character begun.
		for ; need > 0; need-- {
			if i == len(b) {
				u.need, u.lo, u.hi = need, lo, hi
				return true
			}
			if c := b[i]; c < lo || c > hi {
				return false
			}
			lo, hi = 0x80, 0xbf
			i++
		}
		for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 == 0 {
			i += 8
		}
		for i < len(b) && b[i] < 0x80 {
			i++
		}
		if i == len(b) {
			u.need = 0
			return true
		}
		// A leading byte: how many continuation bytes follow, and the
		// range of the first, which excludes overlong forms, surrogates
		// (U+D800-DFFF) and what lies past U+10FFFF.
		c := b[i]
		lo, hi = 0x80, 0xbf
		switch {
		case c < 0xc2: // a continuation byte, or an overlong 2-byte form
			return false
		case c < 0xe0:
			need = 1
		case c == 0xe0:
			need, lo = 2, 0xa0
		case c == 0xed:
			need, hi = 2, 0x9f
		case c < 0xf0:
			need = 2
		case c == 0xf0:
			need, lo = 3, 0x90
		case c < 0xf4:
			need = 3
		case c == 0xf4:
			need, hi = 3, 0x8f
		default:
			return false
		}
		i++
	}
}
