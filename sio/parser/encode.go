package parser

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"

	"github.com/gosio/socketio/sio/internal/errs"
	"github.com/gosio/socketio/sio/internal/jsonx"
	"github.com/gosio/socketio/sio/internal/sortx"
)

// AppendEvent appends the payload of an event, ["name",arg1,...], to dst and
// returns the extended buffer with the attachments extracted from args.
//
// Arguments are encoded like encoding/json with HTML escaping off (like
// JSON.stringify), except that every []byte found anywhere in them (at the
// top level or nested in []any, map[string]any, slices, arrays, maps,
// pointers or exported struct fields) becomes the placeholder
// {"_placeholder":true,"num":N} and is appended to the attachments, N being
// its index. The attachments alias the caller's slices. A nil []byte is
// null, as with encoding/json; an empty one is an empty attachment. As in
// JavaScript, where only byte buffers are
// binary, byte arrays ([N]byte) are not binary: they are encoded like
// encoding/json does, as arrays of numbers.
//
// Struct fields follow encoding/json: the json tag gives the name, "-",
// omitempty, omitzero and string are honored, and embedded structs promote
// their fields. Types implementing json.Marshaler or encoding.TextMarshaler
// are left to their own method; a []byte inside their output is not
// extracted.
//
// A json.RawMessage argument is written verbatim. So is a [Value] (or a
// *Value), but the placeholders inside it are renumbered into the
// attachments of the new payload, so that a received binary argument sent
// back stays binary.
//
// When there is at least one attachment, the packet must be sent as a
// BinaryEvent. On error, dst is returned unchanged.
func AppendEvent(dst []byte, name string, args []any) (data []byte, attachments [][]byte, err error) {
	e := encoder{buf: append(dst, '[')}
	e.buf = appendString(e.buf, name)
	for i, a := range args {
		e.buf = append(e.buf, ',')
		if err := e.any(a, 0); err != nil {
			return dst, nil, errs.Wrap("socket.io parser: argument "+strconv.Itoa(i)+": "+err.Error(), err)
		}
	}
	return append(e.buf, ']'), e.atts, nil
}

// AppendArgs appends the payload of an acknowledgement, [arg1,...], to dst
// like [AppendEvent] does. When there is at least one attachment, the packet
// must be sent as a BinaryAck.
func AppendArgs(dst []byte, args []any) (data []byte, attachments [][]byte, err error) {
	e := encoder{buf: append(dst, '[')}
	for i, a := range args {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.any(a, 0); err != nil {
			return dst, nil, errs.Wrap("socket.io parser: argument "+strconv.Itoa(i)+": "+err.Error(), err)
		}
	}
	return append(e.buf, ']'), e.atts, nil
}

// encoder writes a payload and collects its attachments.
type encoder struct {
	buf  []byte
	atts [][]byte
}

// errRawInvalid reports an argument of raw JSON that is not valid JSON.
var errRawInvalid = errs.Wrap("raw JSON argument is not valid JSON: "+ErrInvalidPayload.Error(), ErrInvalidPayload)

// marshal appends x encoded by encoding/json, without HTML escaping.
//
// json.Marshal, whose HTML escapes are then undone, rather than a
// json.Encoder with SetEscapeHTML(false): the Encoder brings indentation code
// along, which WebAssembly builds pay for.
func (e *encoder) marshal(x any) error {
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	e.buf = appendUnescapeHTML(e.buf, b)
	return nil
}

// appendUnescapeHTML appends the JSON text b with the escapes \u003c, \u003e
// and \u0026 that json.Marshal writes for <, > and & replaced by the
// characters themselves, as JSON.stringify writes them.
func appendUnescapeHTML(dst, b []byte) []byte {
	for {
		i := bytes.IndexByte(b, '\\')
		if i < 0 || i+1 == len(b) {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		b = b[i:]
		if len(b) >= 6 && b[1] == 'u' && b[2] == '0' && b[3] == '0' {
			switch string(b[4:6]) {
			case "3c":
				dst, b = append(dst, '<'), b[6:]
				continue
			case "3e":
				dst, b = append(dst, '>'), b[6:]
				continue
			case "26":
				dst, b = append(dst, '&'), b[6:]
				continue
			}
		}
		dst, b = append(dst, b[:2]...), b[2:] // an escape left as it is
	}
}

// attach writes a placeholder for b and records b as the next attachment.
func (e *encoder) attach(b []byte) {
	e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
	e.buf = strconv.AppendInt(e.buf, int64(len(e.atts)), 10)
	e.buf = append(e.buf, '}')
	e.atts = append(e.atts, b)
}

// raw writes raw JSON verbatim.
func (e *encoder) raw(b []byte) error {
	if len(b) == 0 {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if !jsonx.Valid(b) {
		return errRawInvalid
	}
	e.buf = append(e.buf, b...)
	return nil
}

// value writes v verbatim, renumbering its placeholders.
func (e *encoder) value(v Value) error {
	if len(v.Attachments) == 0 || !mayHavePlaceholder(v.Raw) {
		return e.raw(v.Raw)
	}
	if !jsonx.Valid(v.Raw) {
		return errRawInvalid
	}
	spans, err := placeholders(v.Raw)
	if err != nil {
		return err
	}
	nums, err := resolve(spans, len(v.Attachments))
	if err != nil {
		return err
	}
	last := 0
	for k, sp := range spans {
		e.buf = append(e.buf, v.Raw[last:sp.start]...)
		e.attach(v.Attachments[nums[k]])
		last = sp.end
	}
	e.buf = append(e.buf, v.Raw[last:]...)
	return nil
}

// any writes x, with fast paths for the generic values of encoding/json.
func (e *encoder) any(x any, depth int) error {
	switch x := x.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case float64:
		var err error
		e.buf, err = appendFloat(e.buf, x)
		return err
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case []byte:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.attach(x)
	case json.RawMessage:
		return e.raw(x)
	case Value:
		return e.value(x)
	case *Value:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(*x)
	case []any:
		if depth > maxDepth {
			return errTooDeep(x)
		}
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.any(el, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		if depth > maxDepth {
			return errTooDeep(x)
		}
		return e.mapAny(x, depth)
	default:
		if jsonx.Own {
			// js/wasm: the own codec of jsonx walks the value, the hook
			// extracting the binary data, instead of this package's walk
			// plus encoding/json (whose code is large in WebAssembly).
			b, err := jsonx.AppendValueHook(e.buf, reflect.ValueOf(x), false, e.hook)
			e.buf = b
			return err
		}
		return e.reflect(reflect.ValueOf(x), depth)
	}
	return nil
}

// hook is the jsonx.Hook of the js/wasm encoder: it writes raw JSON, Values
// and binary data as the reflect method does.
func (e *encoder) hook(dst []byte, v reflect.Value) ([]byte, bool, error) {
	t := v.Type()
	e.buf = dst
	switch {
	case t == rawMessageType:
		return e.buf, true, e.raw(v.Bytes())
	case t == valueType:
		if !v.CanInterface() {
			return e.buf, true, &json.UnsupportedTypeError{Type: t}
		}
		err := e.value(v.Interface().(Value))
		return e.buf, true, err
	case isByteSlice(t) && !isMarshaler(t):
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
		} else {
			e.attach(v.Bytes())
		}
		return e.buf, true, nil
	}
	return dst, false, nil
}

func errTooDeep(x any) error {
	return &json.UnsupportedValueError{Value: reflect.ValueOf(x), Str: "value nested too deeply or cyclic"}
}

// mapAny writes m with its keys sorted like encoding/json does.
func (e *encoder) mapAny(m map[string]any, depth int) error {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	sortx.Strings(keys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := e.any(m[k], depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// reflect writes v, walking it if its type may hold binary data.
func (e *encoder) reflect(v reflect.Value, depth int) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	if t == rawMessageType {
		return e.raw(v.Bytes())
	}
	if !needsWalk(t) {
		return e.leaf(v)
	}
	if depth > maxDepth {
		return errTooDeep(v)
	}
	if t == valueType {
		if !v.CanInterface() {
			return &json.UnsupportedTypeError{Type: t}
		}
		return e.value(v.Interface().(Value))
	}
	if isByteSlice(t) {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.attach(v.Bytes())
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if v.CanInterface() {
			return e.any(v.Interface(), depth+1)
		}
		return e.reflect(v.Elem(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.reflect(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i := range v.Len() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.reflect(v.Index(i), depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
		return nil
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Struct:
		return e.structValue(v, depth)
	}
	return e.leaf(v)
}

// leaf writes v, which holds no binary data, with encoding/json.
func (e *encoder) leaf(v reflect.Value) error {
	if !v.CanInterface() {
		return &json.UnsupportedTypeError{Type: v.Type()}
	}
	t := v.Type()
	if t.PkgPath() == "" && t.Name() != "" { // predeclared type, no methods
		switch t.Kind() {
		case reflect.String:
			e.buf = appendString(e.buf, v.String())
			return nil
		case reflect.Bool:
			e.buf = strconv.AppendBool(e.buf, v.Bool())
			return nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
			return nil
		case reflect.Float64:
			var err error
			e.buf, err = appendFloat(e.buf, v.Float())
			return err
		}
	}
	if v.CanAddr() {
		// Like encoding/json, let an addressable value use a marshal method
		// declared on its pointer type.
		return e.marshal(v.Addr().Interface())
	}
	return e.marshal(v.Interface())
}

// mapValue writes the map v with its keys sorted like encoding/json does.
func (e *encoder) mapValue(v reflect.Value, depth int) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	entries, err := jsonx.SortedMap(v)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, en.Key)
		e.buf = append(e.buf, ':')
		if err := e.reflect(en.Val, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// structValue writes the struct v as an object of its fields in order.
func (e *encoder) structValue(v reflect.Value, depth int) error {
	e.buf = append(e.buf, '{')
	first := true
	fields := structFields(v.Type())
	for i := range fields {
		f := &fields[i]
		fv, ok := jsonx.FieldByIndex(v, f.Index)
		if !ok || (f.OmitEmpty && jsonx.IsEmpty(fv)) || (f.OmitZero && jsonx.IsZero(fv)) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, f.Key...)
		var err error
		if f.Quoted {
			err = e.quoted(fv, depth)
		} else {
			err = e.reflect(fv, depth+1)
		}
		if err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// quoted writes a scalar field tagged with the "string" option: its JSON
// encoding inside a JSON string.
func (e *encoder) quoted(v reflect.Value, depth int) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		v = v.Elem()
	}
	mark := len(e.buf)
	if err := e.reflect(v, depth+1); err != nil {
		return err
	}
	enc := string(e.buf[mark:])
	e.buf = appendString(e.buf[:mark], enc)
	return nil
}
