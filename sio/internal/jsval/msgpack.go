package jsval

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// EncodeMsgpack returns v encoded as notepack.io 3.0 encodes the same
// JavaScript value: integers (numbers without fraction) in the smallest
// msgpack width, other numbers as float 64, strings as fixstr/str 8/16/32,
// Buffers as bin 8/16/32, arrays and objects with the smallest header.
func EncodeMsgpack(v any) []byte { return AppendMsgpack(nil, v) }

// AppendMsgpack appends the msgpack encoding of v (see EncodeMsgpack).
func AppendMsgpack(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, 0xc0)
	case bool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case float64:
		return appendNumberMsgpack(b, v)
	case string:
		return append(AppendMsgpackStrHeader(b, len(v)), v...)
	case []byte:
		n := len(v)
		switch {
		case n < 0x100:
			b = append(b, 0xc4, byte(n))
		case n < 0x10000:
			b = append(b, 0xc5, byte(n>>8), byte(n))
		default:
			b = append(b, 0xc6)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return append(b, v...)
	case []any:
		b = appendHeader(b, len(v), 0x90, 0xdc, 0xdd)
		for _, x := range v {
			b = AppendMsgpack(b, x)
		}
		return b
	case *Object:
		b = appendHeader(b, len(v.Keys), 0x80, 0xde, 0xdf)
		for i, k := range v.Keys {
			b = AppendMsgpack(b, k)
			b = AppendMsgpack(b, v.Vals[i])
		}
		return b
	}
	return append(b, 0xc0)
}

func appendHeader(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 0x10:
		return append(b, fix|byte(n))
	case n < 0x10000:
		return append(b, b16, byte(n>>8), byte(n))
	}
	b = append(b, b32)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// appendNumberMsgpack writes a number as notepack.io does, including what
// its arithmetic does to integers beyond 64 bits (ToInt32/ToUint32 of the
// two halves).
func appendNumberMsgpack(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Floor(f) != f {
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	if f >= 0 { // -0 included, as in JavaScript
		switch {
		case f < 0x80:
			return append(b, byte(f))
		case f < 0x100:
			return append(b, 0xcc, byte(f))
		case f < 0x10000:
			return append(b, 0xcd, byte(uint16(f)>>8), byte(uint16(f)))
		case f < 0x100000000:
			b = append(b, 0xce)
			return binary.BigEndian.AppendUint32(b, uint32(f))
		}
		hi := toUint32(f / 4294967296) // (value / 2^32) >> 0, seen as bytes
		lo := toUint32(f)
		b = append(b, 0xcf)
		b = binary.BigEndian.AppendUint32(b, hi)
		return binary.BigEndian.AppendUint32(b, lo)
	}
	switch {
	case f >= -0x20:
		return append(b, byte(int8(f)))
	case f >= -0x80:
		return append(b, 0xd0, byte(int8(f)))
	case f >= -0x8000:
		return append(b, 0xd1, byte(uint16(int16(f))>>8), byte(int16(f)))
	case f >= -0x80000000:
		b = append(b, 0xd2)
		return binary.BigEndian.AppendUint32(b, uint32(int32(f)))
	}
	hi := toUint32(math.Floor(f / 4294967296))
	lo := toUint32(f)
	b = append(b, 0xd3)
	b = binary.BigEndian.AppendUint32(b, hi)
	return binary.BigEndian.AppendUint32(b, lo)
}

// toUint32 is JavaScript's ToUint32 (also the bits of ToInt32) of a finite
// number.
func toUint32(f float64) uint32 {
	f = math.Trunc(f)
	m := math.Mod(f, 4294967296)
	if m < 0 {
		m += 4294967296
	}
	return uint32(m)
}

// DecodeMsgpack decodes data as notepack.io 3.0 does: integers and floats
// become numbers, str becomes a string (invalid UTF-8 replaced by U+FFFD),
// bin a Buffer, map keys property keys (String(key)); a timestamp
// extension becomes the ISO 8601 string of the date (what JSON.stringify
// writes for it), ext type 0 a Buffer (notepack's ArrayBuffer), the
// "undefined" fixext null in an array and nothing in a map, any other
// extension [type, Buffer]. Trailing bytes are an error, as there.
func DecodeMsgpack(data []byte) (any, error) {
	d := mpDecoder{b: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.i != len(d.b) {
		return nil, syntaxErr("trailing bytes", d.i)
	}
	if _, ok := v.(undefined); ok {
		return nil, nil
	}
	return v, nil
}

// undefined is JavaScript's undefined, which notepack decodes from its
// fixext 0 and which JSON and notepack leave out of objects.
type undefined struct{}

type mpDecoder struct {
	b []byte
	i int
}

func (d *mpDecoder) take(n int) ([]byte, error) {
	if n < 0 || len(d.b)-d.i < n {
		return nil, syntaxErr("unexpected end", d.i)
	}
	s := d.b[d.i : d.i+n]
	d.i += n
	return s, nil
}

func (d *mpDecoder) uint(n int) (uint64, error) {
	s, err := d.take(n)
	if err != nil {
		return 0, err
	}
	var x uint64
	for _, c := range s {
		x = x<<8 | uint64(c)
	}
	return x, nil
}

func (d *mpDecoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, syntaxErr("nested too deep", d.i)
	}
	if d.i >= len(d.b) {
		return nil, syntaxErr("unexpected end", d.i)
	}
	c := d.b[d.i]
	d.i++
	switch {
	case c < 0x80:
		return float64(c), nil
	case c < 0x90:
		return d.mapOf(int(c&0x0f), depth)
	case c < 0xa0:
		return d.array(int(c&0x0f), depth)
	case c < 0xc0:
		return d.str(int(c & 0x1f))
	case c > 0xdf:
		return float64(int8(c)), nil
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		return d.bin(int(n))
	case 0xc7, 0xc8, 0xc9:
		n, err := d.uint(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		t, err := d.take(1)
		if err != nil {
			return nil, err
		}
		if int8(t[0]) == -1 && c == 0xc7 {
			// notepack reads a timestamp 96 whatever the length says.
			s, err := d.take(12)
			if err != nil {
				return nil, err
			}
			ns := binary.BigEndian.Uint32(s)
			sec := float64(int32(binary.BigEndian.Uint32(s[4:])))*4294967296 + float64(binary.BigEndian.Uint32(s[8:]))
			return dateString(sec*1e3 + float64(ns)/1e6), nil
		}
		return d.ext(int8(t[0]), int(n))
	case 0xca:
		x, err := d.uint(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(uint32(x))), nil
	case 0xcb:
		x, err := d.uint(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(x), nil
	case 0xcc, 0xcd, 0xce:
		x, err := d.uint(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		return float64(x), nil
	case 0xcf:
		x, err := d.uint(8)
		if err != nil {
			return nil, err
		}
		return float64(x>>32)*4294967296 + float64(uint32(x)), nil
	case 0xd0:
		x, err := d.uint(1)
		return float64(int8(x)), err
	case 0xd1:
		x, err := d.uint(2)
		return float64(int16(x)), err
	case 0xd2:
		x, err := d.uint(4)
		return float64(int32(x)), err
	case 0xd3:
		x, err := d.uint(8)
		if err != nil {
			return nil, err
		}
		return float64(int32(x>>32))*4294967296 + float64(uint32(x)), nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		t, err := d.take(1)
		if err != nil {
			return nil, err
		}
		size := 1 << (c - 0xd4)
		typ := int8(t[0])
		switch {
		case c == 0xd4 && typ == 0:
			if _, err := d.take(1); err != nil {
				return nil, err
			}
			return undefined{}, nil
		case c == 0xd6 && typ == -1:
			x, err := d.uint(4)
			if err != nil {
				return nil, err
			}
			return dateString(float64(x) * 1e3), nil
		case c == 0xd7 && typ == 0:
			x, err := d.uint(8)
			if err != nil {
				return nil, err
			}
			return dateString(float64(int32(x>>32))*4294967296 + float64(uint32(x))), nil
		case c == 0xd7 && typ == -1:
			x, err := d.uint(8)
			if err != nil {
				return nil, err
			}
			hi, lo := uint32(x>>32), uint32(x)
			sec := float64(hi&3)*4294967296 + float64(lo)
			return dateString(sec*1e3 + float64(hi>>2)/1e6), nil
		}
		return d.ext(typ, size)
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(int(n))
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.array(int(n), depth)
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapOf(int(n), depth)
	}
	return nil, syntaxErr("could not parse", d.i-1)
}

func (d *mpDecoder) ext(typ int8, n int) (any, error) {
	b, err := d.bin(n)
	if err != nil {
		return nil, err
	}
	if typ == 0 {
		return b, nil // notepack's ArrayBuffer
	}
	return []any{float64(typ), b}, nil
}

func (d *mpDecoder) bin(n int) (any, error) {
	s, err := d.take(n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), s...), nil
}

func (d *mpDecoder) str(n int) (any, error) {
	s, err := d.take(n)
	if err != nil {
		return nil, err
	}
	return validString(s), nil
}

// validString returns s as a string, each invalid byte replaced by U+FFFD.
func validString(s []byte) string {
	if utf8.Valid(s) {
		return string(s)
	}
	out := make([]rune, 0, len(s))
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		out = append(out, r)
		s = s[size:]
	}
	return string(out)
}

func (d *mpDecoder) array(n, depth int) (any, error) {
	if n > len(d.b)-d.i {
		return nil, syntaxErr("unexpected end", d.i)
	}
	a := make([]any, n)
	for i := range a {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, ok := v.(undefined); ok {
			v = nil
		}
		a[i] = v
	}
	return a, nil
}

func (d *mpDecoder) mapOf(n, depth int) (any, error) {
	if n > (len(d.b)-d.i)/2 {
		return nil, syntaxErr("unexpected end", d.i)
	}
	o := &Object{Keys: make([]string, 0, n), Vals: make([]any, 0, n)}
	for range n {
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, ok := k.(undefined); ok {
			k = "undefined"
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key := ToKey(k)
		if _, ok := v.(undefined); ok {
			o.del(key)
			continue
		}
		o.Set(key, v)
	}
	return o, nil
}

// del removes key k (a key set to undefined is left out by JSON and
// notepack alike).
func (o *Object) del(k string) {
	for i, key := range o.Keys {
		if key == k {
			o.Keys = append(o.Keys[:i], o.Keys[i+1:]...)
			o.Vals = append(o.Vals[:i], o.Vals[i+1:]...)
			return
		}
	}
}

// dateString returns what JSON.stringify writes for new Date(ms): its ISO
// 8601 form, or null for an invalid date.
func dateString(ms float64) any {
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return nil
	}
	ms = math.Trunc(ms)
	t := time.UnixMilli(int64(ms)).UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		// JavaScript's extended years: a sign and six digits.
		sign := byte('+')
		if y < 0 {
			sign, y = '-', -y
		}
		return string(sign) + strconv.Itoa(1000000 + y)[1:] + t.Format("-01-02T15:04:05.000Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// AppendMsgpackNumber appends f as AppendMsgpack does, for converters that
// write numbers without boxing them in an interface.
func AppendMsgpackNumber(b []byte, f float64) []byte { return appendNumberMsgpack(b, f) }

// AppendMsgpackStrHeader appends the header of a msgpack str of n bytes, as
// AppendMsgpack writes it.
func AppendMsgpackStrHeader(b []byte, n int) []byte {
	switch {
	case n < 0x20:
		return append(b, 0xa0|byte(n))
	case n < 0x100:
		return append(b, 0xd9, byte(n))
	case n < 0x10000:
		return append(b, 0xda, byte(n>>8), byte(n))
	}
	b = append(b, 0xdb)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}
