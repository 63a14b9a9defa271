package parser

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/gosio/socketio/sio/internal/errs"
	"github.com/gosio/socketio/sio/internal/jsonx"
)

// Value is one received argument: the raw JSON exactly as received and the
// attachments of its packet.
//
// Placeholders in Raw refer to Attachments by index. Values of a packet
// without attachments have none, and an object looking like a placeholder
// in them is an ordinary object, as with the official parser.
type Value struct {
	// Raw is the JSON text of the argument.
	Raw json.RawMessage
	// Attachments are all the attachments of the packet.
	Attachments [][]byte
}

// Decode stores the argument in the value pointed to by dst like
// json.Unmarshal does, placeholders becoming the []byte of their attachment:
//
//   - in *any, and in the maps, slices and interfaces that encoding/json
//     fills with generic values, a placeholder becomes a []byte value;
//   - a []byte (such as a struct field) receives the attachment;
//   - a string receives the base64 encoding of the attachment, as it would
//     if the sender had sent a []byte with encoding/json;
//   - a type with an UnmarshalJSON or UnmarshalText method sees the
//     placeholder as the base64 string encoding/json encodes []byte to.
//
// The []byte values alias the attachments: they are not copied. A *Value
// dst receives v itself.
//
// A placeholder whose num is not an integer, points at no attachment, or
// points at an attachment already used by another placeholder is reported
// as a [*DecodeError] wrapping [ErrInvalidAttachments]; the errors of
// encoding/json are returned wrapped.
func (v Value) Decode(dst any) error {
	if pv, ok := dst.(*Value); ok && pv != nil {
		*pv = v
		return nil
	}
	if len(v.Attachments) == 0 || !mayHavePlaceholder(v.Raw) {
		return unmarshal(v.Raw, dst)
	}
	spans, err := placeholders(v.Raw)
	if err != nil {
		if uerr := unmarshal(v.Raw, dst); uerr != nil {
			return uerr // the error of encoding/json is the more precise
		}
		return err
	}
	if len(spans) == 0 {
		return unmarshal(v.Raw, dst)
	}
	nums, err := resolve(spans, len(v.Attachments))
	if err != nil {
		return err
	}

	if pb, ok := dst.(*[]byte); ok && pb != nil && len(spans) == 1 &&
		spans[0].start == skipSpace(v.Raw, 0) && skipSpace(v.Raw, spans[0].end) == len(v.Raw) {
		*pb = v.Attachments[nums[0]] // the whole value is one placeholder
		return nil
	}
	if pa, ok := dst.(*any); ok && pa != nil && !holdsPointer(*pa) {
		var tree any
		if err := unmarshal(v.Raw, &tree); err != nil {
			return err
		}
		*pa = v.substitute(tree)
		return nil
	}

	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return unmarshal(v.Raw, dst) // reports the invalid destination
	}
	target := rv.Elem()
	if target.Kind() == reflect.Interface && holdsPointer(target.Interface()) {
		target = target.Elem().Elem() // encoding/json decodes into the pointee
	}
	info := decodeInfoOf(target.Type())

	// encoding/json decodes the JSON with each placeholder replaced by a
	// string: empty, or the base64 encoding of the attachment when a type
	// decoding itself may see it. fill then stores the attachments where
	// encoding/json stored those strings.
	size := len(v.Raw)
	if info.custom {
		for _, n := range nums {
			size += base64.StdEncoding.EncodedLen(len(v.Attachments[n]))
		}
	}
	buf := make([]byte, 0, size)
	last := 0
	for k, sp := range spans {
		buf = append(buf, v.Raw[last:sp.start]...)
		buf = append(buf, '"')
		if info.custom {
			buf = base64.StdEncoding.AppendEncode(buf, v.Attachments[nums[k]])
		}
		buf = append(buf, '"')
		last = sp.end
	}
	buf = append(buf, v.Raw[last:]...)
	if err := unmarshal(buf, dst); err != nil {
		return err
	}
	if info.fill {
		var tree any
		if err := unmarshal(v.Raw, &tree); err != nil {
			return err
		}
		fill(target, v.substitute(tree))
	}
	return nil
}

func unmarshal(data []byte, dst any) error {
	if err := jsonx.Unmarshal(data, dst); err != nil {
		return errs.Wrap("socket.io parser: "+err.Error(), err)
	}
	return nil
}

// holdsPointer reports whether x is a non-nil pointer, which encoding/json
// decodes into rather than replacing it.
func holdsPointer(x any) bool {
	v := reflect.ValueOf(x)
	return v.Kind() == reflect.Pointer && !v.IsNil()
}

// substitute replaces the placeholders of the generic value x by their
// attachment. The placeholders have been checked by resolve.
func (v Value) substitute(x any) any {
	switch x := x.(type) {
	case map[string]any:
		if x["_placeholder"] == true {
			if f, ok := x["num"].(float64); ok && f >= 0 && f < float64(len(v.Attachments)) && f == math.Trunc(f) {
				return v.Attachments[int(f)]
			}
			return x
		}
		for k, el := range x {
			x[k] = v.substitute(el)
		}
	case []any:
		for i, el := range x {
			x[i] = v.substitute(el)
		}
	}
	return x
}

// containsBytes reports whether the generic value x holds a []byte.
func containsBytes(x any) bool {
	switch x := x.(type) {
	case []byte:
		return true
	case map[string]any:
		for _, el := range x {
			if containsBytes(el) {
				return true
			}
		}
	case []any:
		for _, el := range x {
			if containsBytes(el) {
				return true
			}
		}
	}
	return false
}

// fill walks v, just decoded by encoding/json from the JSON of node with
// placeholders replaced by strings, and stores the attachments, which are
// []byte in node: into []byte and strings, and into the empty interfaces
// whose generic value holds attachments, as node's corresponding value.
func fill(v reflect.Value, node any) {
	t := v.Type()
	if t.Kind() != reflect.Interface && t.Kind() != reflect.Pointer && isUnmarshaler(t) {
		return
	}
	if b, ok := node.([]byte); ok {
		switch {
		case !v.CanSet():
		case isByteSlice(t):
			v.SetBytes(b) // not Convert: reflect's conversion tables are large in WebAssembly
			return
		case t.Kind() == reflect.String:
			v.SetString(base64.StdEncoding.EncodeToString(b))
			return
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return
		}
		if !v.IsNil() {
			// encoding/json decodes into a non-nil pointer held by an
			// interface rather than replacing it.
			if e := v.Elem(); e.Kind() == reflect.Pointer && !e.IsNil() {
				fill(e, node)
				return
			}
		}
		if v.CanSet() && containsBytes(node) {
			v.Set(reflect.ValueOf(node))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			fill(v.Elem(), node)
		}
	case reflect.Struct:
		m, ok := node.(map[string]any)
		if !ok {
			return
		}
		fields := structFields(t)
		for i := range fields {
			f := &fields[i]
			if !fillable(f.Type) {
				continue
			}
			el, ok := m[f.Name]
			if !ok {
				for k, kv := range m {
					if strings.EqualFold(k, f.Name) {
						el, ok = kv, true
						break
					}
				}
			}
			if !ok {
				continue
			}
			if fv, ok := jsonx.FieldByIndex(v, f.Index); ok {
				fill(fv, el)
			}
		}
	case reflect.Map:
		m, ok := node.(map[string]any)
		if !ok || v.IsNil() || !fillable(t.Elem()) {
			return
		}
		for k, el := range m {
			if !containsBytes(el) {
				continue
			}
			kv, ok := mapKeyValue(t.Key(), k)
			if !ok {
				continue
			}
			ev := v.MapIndex(kv)
			if !ev.IsValid() {
				continue
			}
			c := reflect.New(t.Elem()).Elem()
			c.Set(ev)
			fill(c, el)
			v.SetMapIndex(kv, c)
		}
	case reflect.Slice, reflect.Array:
		s, ok := node.([]any)
		if !ok {
			return
		}
		for i := range min(v.Len(), len(s)) {
			fill(v.Index(i), s[i])
		}
	}
}

// mapKeyValue converts the object key k to a map key of type t as
// encoding/json does, for string and integer keys.
func mapKeyValue(t reflect.Type, k string) (reflect.Value, bool) {
	if isUnmarshaler(t) {
		return reflect.Value{}, false
	}
	kv := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		kv.SetString(k)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(k, 10, t.Bits())
		if err != nil {
			return reflect.Value{}, false
		}
		kv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(k, 10, t.Bits())
		if err != nil {
			return reflect.Value{}, false
		}
		kv.SetUint(n)
	default:
		return reflect.Value{}, false
	}
	return kv, true
}

// attachments returns the attachments the arguments of p refer to.
func (p *Packet) attachments() [][]byte {
	if p.Type.binary() {
		return p.Attachments
	}
	return nil
}

// Event splits the payload of an EVENT or BINARY_EVENT packet into the event
// name and the arguments. Each argument's Raw is the exact bytes from the
// wire, aliasing p.Data, and its Attachments are those of p.
func (p *Packet) Event() (name string, args []Value, err error) {
	if p.Type != Event && p.Type != BinaryEvent {
		return "", nil, decodeErr(ErrInvalidPayload, p.Type.String()+" packet is not an event")
	}
	head, args, err := splitArrayHead(p.Data, p.attachments(), true)
	if err != nil {
		return "", nil, err
	}
	if head == nil {
		return "", nil, decodeErr(ErrInvalidPayload, "EVENT payload is an empty array")
	}
	name, ok := unquote(head)
	if !ok {
		return "", nil, decodeErr(ErrInvalidPayload, "event name is not a string")
	}
	return name, args, nil
}

// Args splits the payload of an ACK or BINARY_ACK packet into the
// arguments, like [Packet.Event].
func (p *Packet) Args() ([]Value, error) {
	if p.Type != Ack && p.Type != BinaryAck {
		return nil, decodeErr(ErrInvalidPayload, p.Type.String()+" packet is not an ack")
	}
	return splitArray(p.Data, p.attachments())
}

// Elems splits a Value holding a JSON array into its elements, each kept
// as its exact bytes with the attachments of the packet, so a nested list
// of arguments can be passed on with its binary parts intact.
func (v Value) Elems() ([]Value, error) { return splitArray(v.Raw, v.Attachments) }
