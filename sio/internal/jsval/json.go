package jsval

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/gosio/socketio/sio/internal/jsonstr"
	"github.com/gosio/socketio/sio/internal/jsonx"
)

// ErrSyntax is wrapped by the errors of ParseJSON and DecodeMsgpack.
var ErrSyntax = errors.New("jsval: malformed input")

// maxDepth bounds the nesting of decoded values, so that hostile input
// cannot exhaust the stack.
const maxDepth = 1000

func syntaxErr(what string, off int) error {
	return &syntaxError{what: what, off: off}
}

type syntaxError struct {
	what string
	off  int
}

func (e *syntaxError) Error() string {
	return "jsval: " + e.what + " at offset " + strconv.Itoa(e.off)
}

func (e *syntaxError) Unwrap() error { return ErrSyntax }

// ParseJSON parses data as JSON.parse does.
func ParseJSON(data []byte) (any, error) {
	p := jsonParser{b: data}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, syntaxErr("trailing data", p.i)
	}
	return v, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, syntaxErr("nested too deep", p.i)
	}
	if p.i >= len(p.b) {
		return nil, syntaxErr("unexpected end", p.i)
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		o := &Object{}
		p.space()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return o, nil
		}
		for {
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, syntaxErr("expected a key", p.i)
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, syntaxErr("expected a colon", p.i)
			}
			p.i++
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
			p.space()
			if p.i >= len(p.b) {
				return nil, syntaxErr("unexpected end", p.i)
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == '}' {
				p.i++
				return o, nil
			}
			return nil, syntaxErr("expected a comma or }", p.i)
		}
	case c == '[':
		p.i++
		a := []any{}
		p.space()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			p.space()
			if p.i >= len(p.b) {
				return nil, syntaxErr("unexpected end", p.i)
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == ']' {
				p.i++
				return a, nil
			}
			return nil, syntaxErr("expected a comma or ]", p.i)
		}
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.num()
	}
	return nil, syntaxErr("unexpected character", p.i)
}

func (p *jsonParser) lit(s string) error {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return syntaxErr("bad literal", p.i)
	}
	p.i += len(s)
	return nil
}

func (p *jsonParser) num() (any, error) {
	start := p.i
	end := NumberEnd(p.b, start)
	if end < 0 {
		return nil, syntaxErr("bad number", start)
	}
	p.i = end
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		// Out of range: JavaScript gives ±Infinity, as ParseFloat does
		// along with the error.
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return nil, syntaxErr("bad number", start)
		}
	}
	return f, nil
}

func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	plain := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			raw := p.b[start:p.i]
			if plain && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := jsonx.Unmarshal(raw, &s); err != nil {
				return "", syntaxErr("bad string", start)
			}
			return s, nil
		case c == '\\':
			plain = false
			p.i += 2
		case c < 0x20:
			return "", syntaxErr("control character in string", p.i)
		default:
			p.i++
		}
	}
	return "", syntaxErr("unterminated string", start)
}

// StringifyJSON returns v as JSON.stringify writes it.
func StringifyJSON(v any) []byte { return AppendJSON(nil, v) }

// AppendJSON appends v as JSON.stringify writes it: NaN and ±Infinity as
// null, -0 as 0, a Buffer as {"type":"Buffer","data":[bytes]}.
func AppendJSON(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if v {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case float64:
		return AppendJSONNumber(dst, v)
	case string:
		return jsonstr.AppendJS(dst, v)
	case []byte:
		dst = append(dst, `{"type":"Buffer","data":[`...)
		for i, c := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, uint64(c), 10)
		}
		return append(dst, "]}"...)
	case []any:
		dst = append(dst, '[')
		for i, x := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, x)
		}
		return append(dst, ']')
	case *Object:
		dst = append(dst, '{')
		for i, k := range v.Keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonstr.AppendJS(dst, k)
			dst = append(dst, ':')
			dst = AppendJSON(dst, v.Vals[i])
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// NumberEnd returns where the JSON number that starts at b[i] ends, or -1
// when b[i:] does not start with one.
func NumberEnd(b []byte, i int) int {
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return -1
		}
	}
	return i
}

// AppendJSONNumber appends f as AppendJSON does (NaN and ±Infinity as
// null), for converters that write numbers without boxing them.
func AppendJSONNumber(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return appendNumber(dst, f)
}

// appendNumber appends a finite number as JavaScript writes it.
func appendNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0') // -0 too
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	dst, _ = jsonx.AppendFloat(dst, f, 64)
	return dst
}

// NumberString returns f as JavaScript's String(f) does.
func NumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return string(appendNumber(nil, f))
}
