//go:build !js

package jsonx

import "encoding/json"

// Own reports whether Marshal, Unmarshal and Valid are this package's own
// codec rather than encoding/json's.
const Own = false

// Marshal is json.Marshal.
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal is json.Unmarshal.
func Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Valid is json.Valid, by a faster validator of this package (valid.go).
func Valid(data []byte) bool { return valid(data) }
