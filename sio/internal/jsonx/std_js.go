//go:build js

package jsonx

// Own reports whether Marshal, Unmarshal and Valid are this package's own
// codec rather than encoding/json's: in js/wasm builds they are, so that
// encoding/json's code stays out of the binary.
const Own = true

// Marshal is json.Marshal, by the own codec.
func Marshal(v any) ([]byte, error) { return marshal(v) }

// Unmarshal is json.Unmarshal, by the own codec.
func Unmarshal(data []byte, v any) error { return unmarshal(data, v) }

// Valid is json.Valid, by the own codec.
func Valid(data []byte) bool { return valid(data) }
