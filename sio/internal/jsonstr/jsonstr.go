// Package jsonstr writes JSON string literals without reflection, for the
// codecs of sio/eio and sio/parser.
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// Append appends s as a JSON string literal exactly like encoding/json with
// HTML escaping off (and like JSON.stringify, except that U+2028 and U+2029
// are escaped, which is still valid JSON): invalid UTF-8 becomes U+FFFD and U+2028/U+2029 are
// escaped.
func Append(dst []byte, s string) []byte { return appendString(dst, s, true, false) }

// AppendHTML appends s as a JSON string literal exactly like encoding/json
// with its default HTML escaping: like Append, and <, > and & are escaped
// too.
func AppendHTML(dst []byte, s string) []byte { return appendString(dst, s, true, true) }

// AppendJS appends s as a JSON string literal exactly like JavaScript's
// JSON.stringify: only quote, backslash and control characters are escaped
// (invalid UTF-8 becomes U+FFFD).
func AppendJS(dst []byte, s string) []byte { return appendString(dst, s, false, false) }

func appendString(dst []byte, s string, escapeLineSeparators, html bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case escapeLineSeparators && (r == '\u2028' || r == '\u2029'):
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
