package parser

import (
	"encoding"
	"encoding/json"
	"github.com/gosio/socketio/sio/internal/jsonx"
	"reflect"
	"sync"
)

var (
	valueType           = reflect.TypeFor[Value]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
)

// Type caches. They only ever grow with the set of types a program uses.
var (
	walkCache   sync.Map // reflect.Type -> bool, see needsWalk
	decodeCache sync.Map // reflect.Type -> decodeInfo, see decodeInfoOf
)

// needsWalk reports whether a value of type t may hold binary data, a
// Value, or an interface (which may hold either): such values are encoded by
// walking them; all others are handed to encoding/json directly.
func needsWalk(t reflect.Type) bool {
	if v, ok := walkCache.Load(t); ok {
		return v.(bool)
	}
	// Results computed while a recursive type is in progress may be partial,
	// so only the root's result is cached.
	r := containsWalk(t, map[reflect.Type]bool{})
	walkCache.Store(t, r)
	return r
}

func containsWalk(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch {
	case t == valueType:
		return true
	case isMarshaler(t):
		return false
	case isByteSlice(t):
		return true
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return containsWalk(t.Elem(), seen)
	case reflect.Struct:
		for _, f := range structFields(t) {
			if containsWalk(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// isMarshaler reports whether encoding/json may hand values of type t to a
// marshal method of their own.
func isMarshaler(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		p := reflect.PointerTo(t)
		if p.Implements(marshalerType) || p.Implements(textMarshalerType) {
			return true
		}
	}
	return t.Implements(marshalerType) || t.Implements(textMarshalerType)
}

// isByteSlice reports whether encoding/json encodes type t as a base64
// string, which this package sends as an attachment instead.
func isByteSlice(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	p := reflect.PointerTo(t.Elem())
	return !p.Implements(marshalerType) && !p.Implements(textMarshalerType)
}

// decodeInfo tells how Value.Decode handles placeholders for a type.
type decodeInfo struct {
	// fill: values of the type may hold an empty interface, a []byte or a
	// string that encoding/json fills from a placeholder, which fill must
	// then set from the attachment.
	fill bool
	// custom: values of the type may hold a type decoding itself (with
	// UnmarshalJSON or UnmarshalText), which must see placeholders as base64
	// strings like encoding/json encodes []byte.
	custom bool
}

// decodeInfoOf returns the decodeInfo of type t.
func decodeInfoOf(t reflect.Type) decodeInfo {
	if v, ok := decodeCache.Load(t); ok {
		return v.(decodeInfo)
	}
	var di decodeInfo
	walkDecode(t, map[reflect.Type]bool{}, &di)
	decodeCache.Store(t, di)
	return di
}

// fillable reports whether fill has work to do in values of type t.
func fillable(t reflect.Type) bool { return decodeInfoOf(t).fill }

func walkDecode(t reflect.Type, seen map[reflect.Type]bool, di *decodeInfo) {
	if seen[t] {
		return
	}
	seen[t] = true
	if isUnmarshaler(t) {
		di.custom = true
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		di.fill = di.fill || t.NumMethod() == 0
	case reflect.String:
		di.fill = true
	case reflect.Slice:
		if isByteSlice(t) {
			di.fill = true
			return
		}
		walkDecode(t.Elem(), seen, di)
	case reflect.Pointer, reflect.Array, reflect.Map:
		walkDecode(t.Elem(), seen, di)
	case reflect.Struct:
		for _, f := range structFields(t) {
			walkDecode(f.Type, seen, di)
		}
	}
}

// isUnmarshaler reports whether encoding/json hands values of type t to an
// unmarshal method of their own.
func isUnmarshaler(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		t = reflect.PointerTo(t)
	}
	return t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType)
}

// field is a struct field as encoding/json sees it.
type field = jsonx.Field

// structFields returns the fields encoding/json encodes for struct type t.
func structFields(t reflect.Type) []field { return jsonx.Fields(t) }
