package msgpack

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/jsonstr"
	"github.com/gosio/socketio/sio/internal/jsonx"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/parser"
)

// The converters below go straight between the JSON text of a packet's
// data and msgpack, without the value tree of package jsval, for the
// packets a socket.io application exchanges all the time: events and acks
// whose payloads hold strings, numbers, booleans, null, arrays, binary and
// objects with ordinary keys. Whatever they do not handle exactly as the
// tree does (ext types, keys that JavaScript reorders or repeats,
// "_placeholder" keys, deep nesting, anything malformed) makes them give
// up, and the caller takes the tree path, which is the reference: a fuzz
// test checks that both give the same bytes. The tree path cost msgpack
// about a quarter more server CPU per acknowledgement than JSON.

// fastDepth bounds the nesting the converters take; deeper values go the
// tree's way (which bounds them at jsval's limit).
const fastDepth = 64

// errSlow makes a converter give up: the caller takes the tree path.
var errSlow = errors.New("msgpack: not on the fast path")

// appendDataFast appends the msgpack encoding of the JSON text data
// (without attachments), as jsval.AppendMsgpack(jsval.ParseJSON(data))
// would, or returns errSlow with dst unchanged in length.
func appendDataFast(dst, data []byte) ([]byte, error) {
	e := jsonToMsgpack{in: data, out: dst}
	e.space()
	if err := e.value(0); err != nil {
		return dst, err
	}
	e.space()
	if e.i != len(e.in) {
		return dst, errSlow
	}
	return e.out, nil
}

type jsonToMsgpack struct {
	in  []byte
	i   int
	out []byte
}

func (e *jsonToMsgpack) space() {
	for e.i < len(e.in) {
		switch e.in[e.i] {
		case ' ', '\t', '\n', '\r':
			e.i++
		default:
			return
		}
	}
}

func (e *jsonToMsgpack) value(depth int) error {
	if depth > fastDepth || e.i >= len(e.in) {
		return errSlow
	}
	switch c := e.in[e.i]; {
	case c == '[':
		e.i++
		return e.container(depth, ']', false)
	case c == '{':
		e.i++
		return e.container(depth, '}', true)
	case c == '"':
		return e.str()
	case c == 't':
		return e.lit("true", 0xc3)
	case c == 'f':
		return e.lit("false", 0xc2)
	case c == 'n':
		return e.lit("null", 0xc0)
	case c == '-' || (c >= '0' && c <= '9'):
		return e.num()
	}
	return errSlow
}

func (e *jsonToMsgpack) lit(s string, code byte) error {
	if len(e.in)-e.i < len(s) || string(e.in[e.i:e.i+len(s)]) != s {
		return errSlow
	}
	e.i += len(s)
	e.out = append(e.out, code)
	return nil
}

// container converts an array or an object whose opening bracket was
// read. The msgpack header comes first but holds the count: one byte is
// reserved for the fixarray/fixmap form and widened afterwards when the
// count needs it.
func (e *jsonToMsgpack) container(depth int, end byte, isMap bool) error {
	at := len(e.out)
	e.out = append(e.out, 0)
	var keys [16][]byte // the object's keys, to tell a repeated one
	n := 0
	e.space()
	if e.i < len(e.in) && e.in[e.i] == end {
		e.i++
	} else {
		for {
			e.space()
			if isMap {
				if e.i >= len(e.in) || e.in[e.i] != '"' || n == len(keys) {
					return errSlow
				}
				k, ok := e.plainKey()
				if !ok {
					return errSlow
				}
				for _, prev := range keys[:n] {
					if string(prev) == string(k) {
						return errSlow // JavaScript keeps one, at the first place
					}
				}
				keys[n] = k
				e.out = append(jsval.AppendMsgpackStrHeader(e.out, len(k)), k...)
				e.space()
				if e.i >= len(e.in) || e.in[e.i] != ':' {
					return errSlow
				}
				e.i++
				e.space()
			}
			if err := e.value(depth + 1); err != nil {
				return err
			}
			n++
			e.space()
			if e.i >= len(e.in) {
				return errSlow
			}
			if e.in[e.i] == ',' {
				e.i++
				continue
			}
			if e.in[e.i] == end {
				e.i++
				break
			}
			return errSlow
		}
	}
	fix, b16, b32 := byte(0x90), byte(0xdc), byte(0xdd)
	if isMap {
		fix, b16, b32 = 0x80, 0xde, 0xdf
	}
	switch {
	case n < 0x10:
		e.out[at] = fix | byte(n)
	case n < 0x10000:
		e.widen(at, 3)
		e.out[at], e.out[at+1], e.out[at+2] = b16, byte(n>>8), byte(n)
	default:
		e.widen(at, 5)
		e.out[at] = b32
		binary.BigEndian.PutUint32(e.out[at+1:], uint32(n))
	}
	return nil
}

// widen makes the one-byte header at out[at] size bytes long.
func (e *jsonToMsgpack) widen(at, size int) {
	e.out = append(e.out, make([]byte, size-1)...)
	copy(e.out[at+size:], e.out[at+1:len(e.out)-(size-1)])
}

// plainKey reads an object key that JavaScript keeps as it is, in
// insertion order: no escape, valid UTF-8, not an array index (JavaScript
// enumerates those first) and not "_placeholder" (which the tree path
// checks against binary data).
func (e *jsonToMsgpack) plainKey() ([]byte, bool) {
	start := e.i + 1
	for j := start; j < len(e.in); j++ {
		switch c := e.in[j]; {
		case c == '"':
			k := e.in[start:j]
			if !utf8.Valid(k) || allDigits(k) || string(k) == "_placeholder" {
				return nil, false
			}
			e.i = j + 1
			return k, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func allDigits(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// str converts a string as jsval's JSON parser reads it: as it is when
// plain, through the JSON decoder when it has escapes or invalid UTF-8.
func (e *jsonToMsgpack) str() error {
	start := e.i
	plain := true
	for j := start + 1; j < len(e.in); j++ {
		switch c := e.in[j]; {
		case c == '"':
			e.i = j + 1
			raw := e.in[start:e.i]
			if plain && utf8.Valid(raw) {
				s := raw[1 : len(raw)-1]
				e.out = append(jsval.AppendMsgpackStrHeader(e.out, len(s)), s...)
				return nil
			}
			var s string
			if jsonx.Unmarshal(raw, &s) != nil {
				return errSlow
			}
			e.out = append(jsval.AppendMsgpackStrHeader(e.out, len(s)), s...)
			return nil
		case c == '\\':
			plain = false
			j++
		case c < 0x20:
			return errSlow
		}
	}
	return errSlow
}

func (e *jsonToMsgpack) num() error {
	start := e.i
	if e.i = jsval.NumberEnd(e.in, start); e.i < 0 {
		return errSlow
	}
	f, err := strconv.ParseFloat(unsafeString(e.in[start:e.i]), 64)
	if err != nil {
		return errSlow // out of range: the tree path writes ±Infinity
	}
	e.out = jsval.AppendMsgpackNumber(e.out, f)
	return nil
}

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// decodeFast decodes an EVENT or ACK packet as the official encoder
// writes it (the keys type, data, id and nsp as fixstr), whose data
// converts on the fast path, with the same result as the tree path; it
// returns errSlow for anything else.
func decodeFast(data []byte) (*parser.Packet, error) {
	if len(data) == 0 || data[0]&0xf0 != 0x80 {
		return nil, errSlow
	}
	d := msgpackToJSON{in: data, i: 1}
	var typ, nsp, id, payload []byte // the values' encodings
	var out []byte
	var atts [][]byte
	for range int(data[0] & 0x0f) {
		k, ok := d.fixstr()
		if !ok {
			return nil, errSlow
		}
		start := d.i
		switch string(k) {
		case "type", "nsp", "id":
			if !d.skipScalar() {
				return nil, errSlow
			}
			v := data[start:d.i]
			switch string(k) {
			case "type":
				typ = v
			case "nsp":
				nsp = v
			default:
				id = v
			}
		case "data":
			d.out = make([]byte, 0, len(data)+len(data)/4+8)
			d.atts = nil
			if err := d.value(1); err != nil {
				return nil, err
			}
			payload, out, atts = data[start:d.i], d.out, d.atts
		default:
			return nil, errSlow
		}
	}
	if d.i != len(data) || len(typ) != 1 || len(payload) == 0 {
		return nil, errSlow
	}
	p := &parser.Packet{Type: parser.Type(typ[0])}
	if p.Type != parser.Event && p.Type != parser.Ack {
		return nil, errSlow
	}
	ns, ok := strBytes(nsp)
	if !ok || len(ns) == 0 || ns[0] != '/' || !utf8.Valid(ns) {
		return nil, errSlow
	}
	p.Namespace = string(ns)
	if id != nil {
		x, ok := uintValue(id)
		if !ok {
			return nil, errSlow
		}
		p.ID, p.HasID = x, true
	} else if p.Type == parser.Ack {
		return nil, errSlow
	}
	// The payload is an array; an event's starts with a name that is not
	// reserved.
	var n, hdr int
	switch c := payload[0]; {
	case c&0xf0 == 0x90:
		n, hdr = int(c&0x0f), 1
	case c == 0xdc && len(payload) >= 3:
		n, hdr = int(binary.BigEndian.Uint16(payload[1:])), 3
	default:
		return nil, errSlow
	}
	if p.Type == parser.Event {
		if n == 0 {
			return nil, errSlow
		}
		name, ok := strBytes(payload[hdr:])
		if !ok || !utf8.Valid(name) || sio.IsReserved(unsafeString(name)) {
			return nil, errSlow
		}
	}
	p.Data, p.Attachments = out, atts
	if len(p.Attachments) > 0 {
		p.Type += parser.BinaryEvent - parser.Event // and BINARY_ACK for ACK
	}
	return p, nil
}

// skipScalar steps over a positive fixint, a uint 8/16/32, a fixstr or a
// str 8: the values of type, nsp and id.
func (d *msgpackToJSON) skipScalar() bool {
	if d.i >= len(d.in) {
		return false
	}
	n := 0
	switch c := d.in[d.i]; {
	case c < 0x80:
		n = 1
	case c&0xe0 == 0xa0:
		n = 1 + int(c&0x1f)
	case c == 0xd9:
		if d.i+1 >= len(d.in) {
			return false
		}
		n = 2 + int(d.in[d.i+1])
	case c == 0xcc, c == 0xcd, c == 0xce:
		n = 1 + 1<<(c-0xcc)
	default:
		return false
	}
	if len(d.in)-d.i < n {
		return false
	}
	d.i += n
	return true
}

// strBytes returns the bytes of the fixstr or str 8 at the start of b.
func strBytes(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n, at := 0, 1
	switch c := b[0]; {
	case c&0xe0 == 0xa0:
		n = int(c & 0x1f)
	case c == 0xd9 && len(b) >= 2:
		n, at = int(b[1]), 2
	default:
		return nil, false
	}
	if len(b) < at+n {
		return nil, false
	}
	return b[at : at+n], true
}

// uintValue returns the ack id encoded in b, a non-negative integer of up
// to 32 bits (larger ids go the tree's way).
func uintValue(b []byte) (uint64, bool) {
	switch c := b[0]; {
	case c < 0x80 && len(b) == 1:
		return uint64(c), true
	case c == 0xcc && len(b) == 2:
		return uint64(b[1]), true
	case c == 0xcd && len(b) == 3:
		return uint64(binary.BigEndian.Uint16(b[1:])), true
	case c == 0xce && len(b) == 5:
		return uint64(binary.BigEndian.Uint32(b[1:])), true
	}
	return 0, false
}

type msgpackToJSON struct {
	in   []byte
	i    int
	out  []byte
	atts [][]byte
}

// fixstr reads a fixstr (the keys of the packet's map).
func (d *msgpackToJSON) fixstr() ([]byte, bool) {
	if d.i >= len(d.in) || d.in[d.i]&0xe0 != 0xa0 {
		return nil, false
	}
	n := int(d.in[d.i] & 0x1f)
	if len(d.in)-d.i-1 < n {
		return nil, false
	}
	s := d.in[d.i+1 : d.i+1+n]
	d.i += 1 + n
	return s, true
}

// take returns the next n bytes.
func (d *msgpackToJSON) take(n int) ([]byte, error) {
	if n < 0 || len(d.in)-d.i < n {
		return nil, errSlow
	}
	s := d.in[d.i : d.i+n]
	d.i += n
	return s, nil
}

func (d *msgpackToJSON) length(size int) (int, error) {
	s, err := d.take(size)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range s {
		n = n<<8 | int(c)
	}
	return n, nil
}

// value converts one msgpack value to JSON as jsval's tree would write it
// (binary data as placeholders, numbered depth first).
func (d *msgpackToJSON) value(depth int) error {
	if depth > fastDepth || d.i >= len(d.in) {
		return errSlow
	}
	c := d.in[d.i]
	d.i++
	switch {
	case c < 0x80:
		d.out = strconv.AppendUint(d.out, uint64(c), 10)
		return nil
	case c < 0x90:
		return d.object(int(c&0x0f), depth)
	case c < 0xa0:
		return d.array(int(c&0x0f), depth)
	case c < 0xc0:
		return d.str(int(c & 0x1f))
	case c > 0xdf:
		d.out = strconv.AppendInt(d.out, int64(int8(c)), 10)
		return nil
	}
	switch c {
	case 0xc0:
		d.out = append(d.out, "null"...)
	case 0xc2:
		d.out = append(d.out, "false"...)
	case 0xc3:
		d.out = append(d.out, "true"...)
	case 0xc4, 0xc5, 0xc6:
		n, err := d.length(1 << (c - 0xc4))
		if err != nil {
			return err
		}
		b, err := d.take(n)
		if err != nil {
			return err
		}
		d.out = append(d.out, `{"_placeholder":true,"num":`...)
		d.out = strconv.AppendInt(d.out, int64(len(d.atts)), 10)
		d.out = append(d.out, '}')
		d.atts = append(d.atts, append(make([]byte, 0, len(b)), b...))
	case 0xca:
		b, err := d.take(4)
		if err != nil {
			return err
		}
		d.out = jsval.AppendJSONNumber(d.out, float64(math.Float32frombits(binary.BigEndian.Uint32(b))))
	case 0xcb:
		b, err := d.take(8)
		if err != nil {
			return err
		}
		d.out = jsval.AppendJSONNumber(d.out, math.Float64frombits(binary.BigEndian.Uint64(b)))
	case 0xcc, 0xcd, 0xce:
		n, err := d.length(1 << (c - 0xcc))
		if err != nil {
			return err
		}
		d.out = strconv.AppendUint(d.out, uint64(n), 10)
	case 0xd0:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		d.out = strconv.AppendInt(d.out, int64(int8(b[0])), 10)
	case 0xd1:
		b, err := d.take(2)
		if err != nil {
			return err
		}
		d.out = strconv.AppendInt(d.out, int64(int16(binary.BigEndian.Uint16(b))), 10)
	case 0xd2:
		b, err := d.take(4)
		if err != nil {
			return err
		}
		d.out = strconv.AppendInt(d.out, int64(int32(binary.BigEndian.Uint32(b))), 10)
	case 0xcf, 0xd3: // as notepack computes them (timestamps in ms are here)
		b, err := d.take(8)
		if err != nil {
			return err
		}
		x := binary.BigEndian.Uint64(b)
		hi := float64(x >> 32)
		if c == 0xd3 {
			hi = float64(int32(x >> 32))
		}
		d.out = jsval.AppendJSONNumber(d.out, hi*4294967296+float64(uint32(x)))
	case 0xd9, 0xda, 0xdb:
		n, err := d.length(1 << (c - 0xd9))
		if err != nil {
			return err
		}
		return d.str(n)
	case 0xdc, 0xdd:
		n, err := d.length(2 << (c - 0xdc))
		if err != nil {
			return err
		}
		return d.array(n, depth)
	case 0xde, 0xdf:
		n, err := d.length(2 << (c - 0xde))
		if err != nil {
			return err
		}
		return d.object(n, depth)
	default:
		return errSlow // extensions, 0xc1
	}
	return nil
}

// str converts a valid UTF-8 string (the tree replaces invalid bytes).
func (d *msgpackToJSON) str(n int) error {
	s, err := d.take(n)
	if err != nil || !utf8.Valid(s) {
		return errSlow
	}
	d.out = jsonstr.AppendJS(d.out, unsafeString(s))
	return nil
}

func (d *msgpackToJSON) array(n, depth int) error {
	if n > len(d.in)-d.i {
		return errSlow
	}
	d.out = append(d.out, '[')
	for i := range n {
		if i > 0 {
			d.out = append(d.out, ',')
		}
		if err := d.value(depth + 1); err != nil {
			return err
		}
	}
	d.out = append(d.out, ']')
	return nil
}

// object converts a map whose keys are strings that JavaScript keeps as
// they are (see plainKey), none repeated.
func (d *msgpackToJSON) object(n, depth int) error {
	if n > 16 || n > (len(d.in)-d.i)/2 {
		return errSlow
	}
	var keys [16][]byte
	d.out = append(d.out, '{')
	for i := range n {
		if d.i >= len(d.in) {
			return errSlow
		}
		var k []byte
		var ok bool
		switch c := d.in[d.i]; {
		case c&0xe0 == 0xa0 || c == 0xd9:
			k, ok = strBytes(d.in[d.i:])
			if c == 0xd9 {
				d.i++
			}
			d.i += 1 + len(k)
		}
		if !ok || !utf8.Valid(k) || allDigits(k) || string(k) == "_placeholder" {
			return errSlow
		}
		for _, prev := range keys[:i] {
			if string(prev) == string(k) {
				return errSlow
			}
		}
		keys[i] = k
		if i > 0 {
			d.out = append(d.out, ',')
		}
		d.out = jsonstr.AppendJS(d.out, unsafeString(k))
		d.out = append(d.out, ':')
		if err := d.value(depth + 1); err != nil {
			return err
		}
	}
	d.out = append(d.out, '}')
	return nil
}
