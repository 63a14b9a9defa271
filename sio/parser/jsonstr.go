package parser

import (
	"github.com/gosio/socketio/sio/internal/jsonstr"
	"github.com/gosio/socketio/sio/internal/jsonx"
)

func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s) }

// appendFloat appends f like encoding/json (and JSON.stringify): the
// shortest representation, in exponent form below 1e-6 and from 1e21.
func appendFloat(dst []byte, f float64) ([]byte, error) { return jsonx.AppendFloat(dst, f, 64) }
