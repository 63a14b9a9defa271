package parser

import (
	"encoding/json"
	"github.com/gosio/socketio/sio/internal/jsonstr"
	"math"
	"reflect"
	"strconv"
)

// appendString appends s as a JSON string literal like encoding/json.
func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s) }

// appendFloat appends f like encoding/json (and JSON.stringify): the
// shortest representation, in exponent form below 1e-6 and from 1e21.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Drop the leading zero of a two-digit negative exponent: e-07 -> e-7.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}
