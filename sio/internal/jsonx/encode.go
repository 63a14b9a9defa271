package jsonx

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"

	"github.com/gosio/socketio/sio/internal/jsonstr"
	"github.com/gosio/socketio/sio/internal/sortx"
)

var isZeroerType = reflect.TypeFor[interface{ IsZero() bool }]()

// marshal is the own json.Marshal.
func marshal(v any) ([]byte, error) {
	return AppendValue(nil, reflect.ValueOf(v), true)
}

// AppendValue appends the JSON encoding of v to dst like encoding/json,
// escaping <, > and & in strings when html is set (as json.Marshal does).
// On error, dst is returned unchanged.
func AppendValue(dst []byte, v reflect.Value, html bool) ([]byte, error) {
	return AppendValueHook(dst, v, html, nil)
}

// Hook sees each value the encoder is about to write: it either appends its
// encoding of v to dst and reports true, or reports false and leaves v to the
// encoder.
type Hook func(dst []byte, v reflect.Value) ([]byte, bool, error)

// AppendValueHook is AppendValue with a hook, which sees every value of v
// (v itself, elements, fields, map values and pointees) before the encoder.
func AppendValueHook(dst []byte, v reflect.Value, html bool, hook Hook) ([]byte, error) {
	e := encoder{buf: dst, html: html, hook: hook}
	if err := e.value(v, 0); err != nil {
		return dst, err
	}
	return e.buf, nil
}

type encoder struct {
	buf  []byte
	html bool
	hook Hook
}

func (e *encoder) str(s string) {
	if e.html {
		e.buf = jsonstr.AppendHTML(e.buf, s)
	} else {
		e.buf = jsonstr.Append(e.buf, s)
	}
}

func (e *encoder) null() { e.buf = append(e.buf, "null"...) }

func (e *encoder) value(v reflect.Value, depth int) error {
	if !v.IsValid() {
		e.null()
		return nil
	}
	t := v.Type()
	if depth > maxDepth {
		return &json.UnsupportedValueError{Value: v, Str: "encountered a cycle via " + t.String()}
	}
	if e.hook != nil {
		b, ok, err := e.hook(e.buf, v)
		if ok || err != nil {
			e.buf = b
			return err
		}
	}
	k := t.Kind()
	if k != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(marshalerType) {
		return e.marshaler(v.Addr())
	}
	if t.Implements(marshalerType) {
		return e.marshaler(v)
	}
	if k != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(textMarshalerType) {
		return e.textMarshaler(v.Addr())
	}
	if t.Implements(textMarshalerType) {
		return e.textMarshaler(v)
	}
	switch k {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		var err error
		e.buf, err = AppendFloat(e.buf, v.Float(), t.Bits())
		return err
	case reflect.String:
		if t == numberType {
			n := v.String()
			if n == "" {
				n = "0"
			}
			if !isValidNumber(n) {
				return errors.New("json: invalid number literal " + strconv.Quote(n))
			}
			e.buf = append(e.buf, n...)
			return nil
		}
		e.str(v.String())
	case reflect.Interface:
		if v.IsNil() {
			e.null()
			return nil
		}
		return e.value(v.Elem(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			e.null()
			return nil
		}
		return e.value(v.Elem(), depth+1)
	case reflect.Struct:
		return e.structValue(v, depth)
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Slice:
		if v.IsNil() {
			e.null()
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			p := reflect.PointerTo(t.Elem())
			if !p.Implements(marshalerType) && !p.Implements(textMarshalerType) {
				e.buf = append(e.buf, '"')
				e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
				e.buf = append(e.buf, '"')
				return nil
			}
		}
		fallthrough
	case reflect.Array:
		e.buf = append(e.buf, '[')
		for i := range v.Len() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(v.Index(i), depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	default:
		return &json.UnsupportedTypeError{Type: t}
	}
	return nil
}

func (e *encoder) marshaler(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.null()
		return nil
	}
	m, ok := v.Interface().(json.Marshaler)
	if !ok {
		e.null()
		return nil
	}
	b, err := m.MarshalJSON()
	if err == nil {
		err = checkValid(b)
		if err == nil {
			e.buf = compact(e.buf, b, e.html)
			return nil
		}
	}
	return &json.MarshalerError{Type: v.Type(), Err: err}
}

func (e *encoder) textMarshaler(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.null()
		return nil
	}
	m, ok := v.Interface().(encoding.TextMarshaler)
	if !ok {
		e.null()
		return nil
	}
	b, err := m.MarshalText()
	if err != nil {
		return &json.MarshalerError{Type: v.Type(), Err: err}
	}
	e.str(string(b))
	return nil
}

// compact appends the valid JSON b without insignificant whitespace.
func compact(dst, b []byte, html bool) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case isSpace(c):
		case c == '"':
			end := skipString(b, i)
			s := b[i:end]
			if html {
				for _, c := range s {
					if c == '<' || c == '>' || c == '&' {
						dst = append(dst, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
					} else {
						dst = append(dst, c)
					}
				}
			} else {
				dst = append(dst, s...)
			}
			i = end - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func (e *encoder) structValue(v reflect.Value, depth int) error {
	e.buf = append(e.buf, '{')
	first := true
	fields := Fields(v.Type())
	for i := range fields {
		f := &fields[i]
		fv, ok := FieldByIndex(v, f.Index)
		if !ok || (f.OmitEmpty && IsEmpty(fv)) || (f.OmitZero && IsZero(fv)) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		if e.html {
			e.str(f.Name)
			e.buf = append(e.buf, ':')
		} else {
			e.buf = append(e.buf, f.Key...)
		}
		if f.Quoted {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					e.null()
					continue
				}
				fv = fv.Elem()
			}
			mark := len(e.buf)
			if err := e.value(fv, depth+1); err != nil {
				return err
			}
			enc := string(e.buf[mark:])
			e.buf = e.buf[:mark]
			e.str(enc)
			continue
		}
		if err := e.value(fv, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) mapValue(v reflect.Value, depth int) error {
	switch kt := v.Type().Key(); kt.Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !kt.Implements(textMarshalerType) {
			return &json.UnsupportedTypeError{Type: v.Type()}
		}
	}
	if v.IsNil() {
		e.null()
		return nil
	}
	entries, err := SortedMap(v)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(en.Key)
		e.buf = append(e.buf, ':')
		if err := e.value(en.Val, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// MapKey returns the JSON object key of the map key k like encoding/json.
func MapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if k.Type().Implements(textMarshalerType) {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		if !k.CanInterface() {
			return "", &json.UnsupportedTypeError{Type: k.Type()}
		}
		b, err := k.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return "", &json.MarshalerError{Type: k.Type(), Err: err}
		}
		return string(b), nil
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", &json.UnsupportedTypeError{Type: k.Type()}
}

// FieldByIndex returns the field of struct v at index, following embedded
// pointers; it reports false when one of them is nil.
func FieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for k, i := range index {
		if k > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// IsEmpty reports whether omitempty omits v.
func IsEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// IsZero reports whether omitzero omits v: its IsZero method says so, or it
// is the zero value.
func IsZero(v reflect.Value) bool {
	t := v.Type()
	switch {
	case (t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface) && v.IsNil():
		return true
	case t.Implements(isZeroerType) && v.CanInterface():
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case reflect.PointerTo(t).Implements(isZeroerType) && v.CanInterface():
		if !v.CanAddr() {
			c := reflect.New(t).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

// AppendFloat appends f like encoding/json (and JSON.stringify): the
// shortest representation of its bits (32 or 64), in exponent form below
// 1e-6 and from 1e21.
func AppendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		if bits == 64 && (a < 1e-6 || a >= 1e21) || bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Drop the leading zero of a two-digit negative exponent: e-07 -> e-7.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// MapEntry is one entry of a map being encoded: its key as a JSON object
// key, and its value.
type MapEntry struct {
	Key string
	Val reflect.Value
}

// SortedMap returns the entries of the map v sorted by key, the order in
// which encoding/json writes them.
func SortedMap(v reflect.Value) ([]MapEntry, error) {
	entries := make([]MapEntry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := MapKey(it.Key())
		if err != nil {
			return nil, err
		}
		entries = append(entries, MapEntry{k, it.Value()})
	}
	sortx.Func(len(entries), func(i, j int) bool { return entries[i].Key < entries[j].Key },
		func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	return entries, nil
}
