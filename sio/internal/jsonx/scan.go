// Package jsonx is a small JSON codec following encoding/json, for the
// WebAssembly builds of the client, where encoding/json's code weighs about
// 0.7 MB. Marshal, Unmarshal and Valid are those of encoding/json on other
// platforms (see std_other.go) and this package's own in js/wasm builds.
//
// The own codec follows encoding/json (v1): the same struct field rules,
// Marshaler/Unmarshaler and TextMarshaler/TextUnmarshaler methods, []byte as
// base64, sorted map keys, the ",string" option, the same error types
// (*json.SyntaxError, *json.UnmarshalTypeError, *json.MarshalerError, ...).
package jsonx

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds nesting like encoding/json.
const maxDepth = 10000

// syntaxError has the layout of json.SyntaxError, whose message field is
// unexported: the own codec reports syntax errors as *json.SyntaxError, with
// the messages and offsets of encoding/json (TestSyntaxErrorLayout checks
// the layout).
type syntaxError struct {
	msg    string
	Offset int64
}

func newSyntaxError(msg string, off int) error {
	return (*json.SyntaxError)(unsafe.Pointer(&syntaxError{msg, int64(off)}))
}

// scanner validates JSON text.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) eof() error {
	return newSyntaxError("unexpected end of JSON input", len(s.b))
}

// eofIn reports the end of the input inside a literal, number or escape,
// which encoding/json sees as a space there.
func (s *scanner) eofIn(context string) error {
	return newSyntaxError("invalid character ' ' "+context, len(s.b))
}

func (s *scanner) fail(context string) error {
	if s.i >= len(s.b) {
		return s.eofIn(context)
	}
	return newSyntaxError("invalid character "+quoteChar(s.b[s.i])+" "+context, s.i+1)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}

func (s *scanner) space() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// checkValid reports the first syntax error of b, as encoding/json does.
func checkValid(b []byte) error {
	s := scanner{b: b}
	if err := s.value(0); err != nil {
		return err
	}
	s.space()
	if s.i < len(b) {
		return s.fail("after top-level value")
	}
	return nil
}

func (s *scanner) value(depth int) error {
	s.space()
	if s.i >= len(s.b) {
		return s.eof()
	}
	switch c := s.b[s.i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return newSyntaxError("exceeded max depth", s.i+1)
		}
		if c == '{' {
			return s.object(depth + 1)
		}
		return s.array(depth + 1)
	case c == '"':
		return s.str()
	case c == '-' || isDigit(c):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail("looking for beginning of value")
}

func (s *scanner) literal(lit string) error {
	s.i++
	for k := 1; k < len(lit); k++ {
		if s.i >= len(s.b) || s.b[s.i] != lit[k] {
			return s.fail("in literal " + lit + " (expecting " + quoteChar(lit[k]) + ")")
		}
		s.i++
	}
	return nil
}

func (s *scanner) str() error {
	s.i++ // '"'
	for {
		if s.i >= len(s.b) {
			return s.eof()
		}
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return nil
		case c < 0x20:
			return s.fail("in string literal")
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return s.fail("in string escape code")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for range 4 {
					s.i++
					if s.i >= len(s.b) || unhex(s.b[s.i]) < 0 {
						return s.fail("in \\u hexadecimal character escape")
					}
				}
			default:
				return s.fail("in string escape code")
			}
		}
		s.i++
	}
}

func (s *scanner) digits() {
	for s.i < len(s.b) && isDigit(s.b[s.i]) {
		s.i++
	}
}

func (s *scanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return s.fail("in numeric literal")
		}
	}
	if s.b[s.i] == '0' {
		s.i++
	} else {
		s.digits()
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return s.fail("after decimal point in numeric literal")
		}
		s.digits()
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return s.fail("in exponent of numeric literal")
		}
		s.digits()
	}
	return nil
}

func (s *scanner) object(depth int) error {
	s.i++ // '{'
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.space()
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] != '"' {
			return s.fail("looking for beginning of object key string")
		}
		if err := s.str(); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] != ':' {
			return s.fail("after object key")
		}
		s.i++
		if err := s.value(depth); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.eof()
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("after object key:value pair")
		}
	}
}

func (s *scanner) array(depth int) error {
	s.i++ // '['
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.eof()
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("after array element")
		}
	}
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// skip returns the index just after the valid JSON value starting at b[i]
// (not whitespace).
func skip(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != ']' && b[i] != '}' {
		i++
	}
	return i
}

func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// unquote decodes the valid JSON string literal b like encoding/json:
// invalid UTF-8 and unpaired surrogates become U+FFFD.
func unquote(b []byte) []byte {
	b = b[1 : len(b)-1]
	simple := true
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return b
	}
	out := make([]byte, 0, len(b)+2*utf8.UTFMax)
	for i := 0; i < len(b); {
		c := b[i]
		if c == '\\' {
			i++
			switch c := b[i]; c {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(b[i+1:])
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						r2 = hex4(b[i+3:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default: // '"', '\\', '/'
				out = append(out, c)
			}
			i++
			continue
		}
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		d := unhex(c)
		if d < 0 {
			return -1
		}
		r = r<<4 | d
	}
	return r
}
