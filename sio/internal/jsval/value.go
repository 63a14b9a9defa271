// Package jsval models the values that the official Node.js cluster
// adapters exchange (what JSON.parse and notepack.io's decoder produce, and
// what JSON.stringify and notepack.io's encoder accept), so that Go nodes
// write and read the same bytes as Node.js nodes:
//
//   - a value is nil (null), bool, float64 (a JavaScript number), string,
//     []byte (a Buffer), []any (an array) or *Object (a plain object);
//   - an Object keeps its keys in JavaScript's order: the keys that are
//     array indices ("0", "1", … up to 2³²-2) first in ascending order,
//     then the others in insertion order, a repeated key keeping its first
//     place and its last value;
//   - EncodeMsgpack writes what notepack.io 3.0 writes for the same value,
//     DecodeMsgpack reads what it reads; StringifyJSON writes what
//     JSON.stringify writes (a Buffer as {"type":"Buffer","data":[…]}),
//     ParseJSON reads what JSON.parse reads;
//   - FromPacketData and ToPacketData convert between a value and the
//     Socket.IO form of arguments (JSON text whose binary parts are
//     placeholders, plus the attachments), as socket.io-parser does.
package jsval

import (
	"strconv"
)

// Object is a JavaScript plain object: keys in JavaScript's enumeration
// order, and their values.
type Object struct {
	Keys []string
	Vals []any
}

// NewObject returns an object with the key-value pairs kv (key, value, key,
// value, …), set in order. It panics if a key is not a string.
func NewObject(kv ...any) *Object {
	o := &Object{Keys: make([]string, 0, len(kv)/2), Vals: make([]any, 0, len(kv)/2)}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.Keys) }

// Get returns the value of key k.
func (o *Object) Get(k string) (any, bool) {
	for i, key := range o.Keys {
		if key == k {
			return o.Vals[i], true
		}
	}
	return nil, false
}

// Set sets key k to v as a JavaScript assignment does: an existing key
// keeps its place; a new array-index key goes among the index keys in
// ascending order, any other new key last.
func (o *Object) Set(k string, v any) {
	for i, key := range o.Keys {
		if key == k {
			o.Vals[i] = v
			return
		}
	}
	pos := len(o.Keys)
	if n, ok := arrayIndex(k); ok {
		pos = 0
		for pos < len(o.Keys) {
			m, isIdx := arrayIndex(o.Keys[pos])
			if !isIdx || m > n {
				break
			}
			pos++
		}
	}
	o.Keys = append(o.Keys, "")
	o.Vals = append(o.Vals, nil)
	copy(o.Keys[pos+1:], o.Keys[pos:])
	copy(o.Vals[pos+1:], o.Vals[pos:])
	o.Keys[pos], o.Vals[pos] = k, v
}

// arrayIndex reports whether k is the canonical form of an array index
// (an integer from 0 to 2³²-2), which JavaScript enumerates first.
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n > 1<<32-2 {
		return 0, false
	}
	return n, true
}

// String returns v as a string when it is one.
func String(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// Field returns the value of key k of v when v is an object.
func Field(v any, k string) (any, bool) {
	o, ok := v.(*Object)
	if !ok {
		return nil, false
	}
	return o.Get(k)
}

// HasBinary reports whether v holds a Buffer anywhere (socket.io's hasBinary).
func HasBinary(v any) bool {
	switch v := v.(type) {
	case []byte:
		return true
	case []any:
		for _, x := range v {
			if HasBinary(x) {
				return true
			}
		}
	case *Object:
		for _, x := range v.Vals {
			if HasBinary(x) {
				return true
			}
		}
	}
	return false
}

// ToKey returns the property key JavaScript makes of v (String(v)) for the
// scalar values a msgpack map may use as keys.
func ToKey(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "null"
	case bool:
		if v {
			return "true"
		}
		return "false"
	case float64:
		return NumberString(v)
	case []byte:
		return string(v) // Buffer's toString is its UTF-8 decoding
	case []any:
		b := make([]byte, 0, 16)
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if x != nil {
				b = append(b, ToKey(x)...)
			}
		}
		return string(b)
	}
	return "[object Object]"
}
