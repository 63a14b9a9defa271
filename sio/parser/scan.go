package parser

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/gosio/socketio/sio/internal/jsonx"
)

// maxDepth bounds the nesting of the JSON this package walks, like the
// limit of encoding/json.
const maxDepth = 10000

// errMalformed reports JSON whose structure is broken.
func errMalformed() error { return decodeErr(ErrInvalidPayload, "malformed JSON") }

// isSpace reports whether c is JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-whitespace byte of b at or
// after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just after the JSON string starting at
// b[i] == '"', or -1 if it is not terminated.
func skipString(b []byte, i int) int {
	for j := quoteRun(b, i+1); j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just after the JSON value starting at b[i],
// which is not whitespace. It checks the structure loosely (it is meant for
// JSON already validated) and returns -1 when the value is truncated.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '[', '{':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := skipString(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != ']' && b[j] != '}' && b[j] != ':' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// splitArray returns the elements of the JSON array b as Values sharing
// atts. Each Raw is the exact bytes of the element, without the surrounding
// whitespace.
func splitArray(b []byte, atts [][]byte) ([]Value, error) {
	_, vals, err := splitArrayHead(b, atts, false)
	return vals, err
}

// splitArrayHead is splitArray; with head, the first element (an event's
// name) is returned apart, as its bytes, and is not in the Values (nil
// when the array is empty). The elements are gathered on the stack in one
// pass, then copied into a slice of their exact number.
func splitArrayHead(b []byte, atts [][]byte, head bool) ([]byte, []Value, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, nil, decodeErr(ErrInvalidPayload, "payload is not an array")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		if skipSpace(b, i+1) != len(b) {
			return nil, nil, errMalformed()
		}
		return nil, []Value{}, nil
	}
	var (
		first []byte
		small [8]Value
	)
	vals := small[:0]
	for {
		e := skipValue(b, i)
		if e < 0 {
			return nil, nil, errMalformed()
		}
		if head && first == nil {
			first = b[i:e:e] // not empty: a value has at least one byte
		} else {
			vals = append(vals, Value{Raw: b[i:e:e], Attachments: atts})
		}
		i = skipSpace(b, e)
		if i >= len(b) {
			return nil, nil, errMalformed()
		}
		if b[i] == ']' {
			if skipSpace(b, i+1) != len(b) {
				return nil, nil, errMalformed()
			}
			out := make([]Value, len(vals))
			copy(out, vals)
			return first, out, nil
		}
		if b[i] != ',' {
			return nil, nil, errMalformed()
		}
		i = skipSpace(b, i+1)
	}
}

// unquote decodes the JSON string literal b.
func unquote(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1]), true
	}
	var s string
	if jsonx.Unmarshal(b, &s) != nil {
		return "", false
	}
	return s, true
}

// keyEquals reports whether the JSON string literal b decodes to s, without
// allocating when b has no escape sequence.
func keyEquals(b []byte, s string) bool {
	if len(b) < 2 {
		return false
	}
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b[1:len(b)-1]) == s
	}
	u, ok := unquote(b)
	return ok && u == s
}

var (
	placeholderKey = []byte("_placeholder")
	unicodeEscape  = []byte(`\u`)
)

// mayHavePlaceholder reports whether b may contain a placeholder object.
// A false answer is certain: the key "_placeholder" is either literally
// present or spelled with \u escapes.
func mayHavePlaceholder(b []byte) bool {
	return bytes.Contains(b, placeholderKey) || bytes.Contains(b, unicodeEscape)
}

// span locates one placeholder object in a JSON text.
type span struct {
	start, end int    // the object is b[start:end]
	num        []byte // raw value of its "num" member; nil when absent
}

// placeholders returns the placeholder objects of the JSON text b in order.
// Like the official parser, an object is a placeholder when its
// "_placeholder" member is true (the last occurrence of a key counts, as in
// JSON.parse), whatever its other members; placeholders nested inside a
// placeholder are ignored since the whole object is replaced.
func placeholders(b []byte) ([]span, error) {
	s := phScanner{b: b}
	i, err := s.value(skipSpace(b, 0), 0)
	if err != nil {
		return nil, err
	}
	if skipSpace(b, i) != len(b) {
		return nil, errMalformed()
	}
	return s.spans, nil
}

// phScanner finds placeholders by recursive descent.
type phScanner struct {
	b     []byte
	spans []span
}

// value scans the value at b[i] (no leading whitespace) and returns the
// index just after it.
func (s *phScanner) value(i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, decodeErr(ErrInvalidPayload, "JSON nested too deeply")
	}
	b := s.b
	if i >= len(b) {
		return 0, errMalformed()
	}
	switch b[i] {
	case '{':
		return s.object(i, depth)
	case '[':
		j := skipSpace(b, i+1)
		if j < len(b) && b[j] == ']' {
			return j + 1, nil
		}
		for {
			e, err := s.value(j, depth+1)
			if err != nil {
				return 0, err
			}
			j = skipSpace(b, e)
			if j >= len(b) {
				return 0, errMalformed()
			}
			switch b[j] {
			case ']':
				return j + 1, nil
			case ',':
				j = skipSpace(b, j+1)
			default:
				return 0, errMalformed()
			}
		}
	}
	e := skipValue(b, i)
	if e < 0 {
		return 0, errMalformed()
	}
	return e, nil
}

// object scans the object at b[i] == '{'.
func (s *phScanner) object(i, depth int) (int, error) {
	b := s.b
	mark := len(s.spans)
	isPlaceholder := false
	var num []byte
	j := skipSpace(b, i+1)
	if j < len(b) && b[j] == '}' {
		return j + 1, nil
	}
	for {
		if j >= len(b) || b[j] != '"' {
			return 0, errMalformed()
		}
		ke := skipString(b, j)
		if ke < 0 {
			return 0, errMalformed()
		}
		key := b[j:ke]
		j = skipSpace(b, ke)
		if j >= len(b) || b[j] != ':' {
			return 0, errMalformed()
		}
		vs := skipSpace(b, j+1)
		ve, err := s.value(vs, depth+1)
		if err != nil {
			return 0, err
		}
		switch {
		case keyEquals(key, "_placeholder"):
			isPlaceholder = string(b[vs:ve]) == "true"
		case keyEquals(key, "num"):
			num = b[vs:ve:ve]
		}
		j = skipSpace(b, ve)
		if j >= len(b) {
			return 0, errMalformed()
		}
		if b[j] == '}' {
			if isPlaceholder {
				s.spans = append(s.spans[:mark], span{start: i, end: j + 1, num: num})
			}
			return j + 1, nil
		}
		if b[j] != ',' {
			return 0, errMalformed()
		}
		j = skipSpace(b, j+1)
	}
}

// resolve checks the placeholders against n attachments and returns the
// attachment index of each. Like the official parser it requires num to be
// a number in [0, n); it also requires an integer and forbids two
// placeholders sharing an attachment, which no official encoder produces and
// which would let a small payload expand into a large decoded value.
func resolve(spans []span, n int) ([]int, error) {
	nums := make([]int, len(spans))
	var small uint64     // used attachments when n <= 64
	var big map[int]bool // used attachments otherwise
	if n > 64 {
		big = make(map[int]bool, len(spans))
	}
	for k, sp := range spans {
		if len(sp.num) == 0 || (sp.num[0] != '-' && (sp.num[0] < '0' || sp.num[0] > '9')) {
			return nil, decodeErr(ErrInvalidAttachments, "placeholder num is not a number")
		}
		f, err := strconv.ParseFloat(string(sp.num), 64)
		if err != nil || f != math.Trunc(f) {
			return nil, decodeErr(ErrInvalidAttachments, "placeholder num is not an integer")
		}
		if f < 0 || f >= float64(n) {
			return nil, decodeErr(ErrInvalidAttachments, "placeholder num "+string(sp.num)+" is out of range")
		}
		i := int(f)
		if n <= 64 {
			if small&(1<<i) != 0 {
				return nil, decodeErr(ErrInvalidAttachments, "attachment "+strconv.Itoa(i)+" used twice")
			}
			small |= 1 << i
		} else {
			if big[i] {
				return nil, decodeErr(ErrInvalidAttachments, "attachment "+strconv.Itoa(i)+" used twice")
			}
			big[i] = true
		}
		nums[k] = i
	}
	return nums, nil
}

// quoteRun returns the index of the first 8-byte word from b[i] on that
// holds a quote or a backslash (or the last index from which fewer than 8
// bytes are left): the bytes before it are plain string bytes. A word has
// a zero byte when (w-0x01..)&^w&0x80.. is not zero (exact as a yes or no).
func quoteRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ (ones * '"')
		bs := w ^ (ones * '\\')
		if ((q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			return i
		}
		i += 8
	}
	return i
}
