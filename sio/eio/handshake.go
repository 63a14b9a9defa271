package eio

import (
	"encoding/json"
	"strconv"

	"github.com/gosio/socketio/sio/internal/errs"
	"github.com/gosio/socketio/sio/internal/jsonstr"
	"github.com/gosio/socketio/sio/internal/jsonx"
)

// Handshake is the JSON body of the open packet that starts a session.
type Handshake struct {
	// SID is the session ID, sent back by the client in every later request.
	SID string
	// Upgrades lists the transports the client may upgrade to ("websocket").
	Upgrades []string
	// PingInterval is the interval between two server pings, in milliseconds.
	PingInterval int64
	// PingTimeout is how long the server waits for a pong, in milliseconds.
	PingTimeout int64
	// MaxPayload is the maximum size of a long-polling payload the server
	// accepts, in bytes; 0 means unspecified.
	MaxPayload int64
}

// AppendJSON appends the compact JSON form of h to dst and returns the
// extended buffer: the keys sid, upgrades, pingInterval, pingTimeout and
// maxPayload, in that order, exactly as the official server writes them.
// Upgrades is written as [] when empty. Strings are escaped like
// JSON.stringify does; invalid UTF-8 is replaced by U+FFFD.
func (h Handshake) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"sid":`...)
	dst = appendJSONString(dst, h.SID)
	dst = append(dst, `,"upgrades":[`...)
	for i, u := range h.Upgrades {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, u)
	}
	dst = append(dst, `],"pingInterval":`...)
	dst = strconv.AppendInt(dst, h.PingInterval, 10)
	dst = append(dst, `,"pingTimeout":`...)
	dst = strconv.AppendInt(dst, h.PingTimeout, 10)
	dst = append(dst, `,"maxPayload":`...)
	dst = strconv.AppendInt(dst, h.MaxPayload, 10)
	return append(dst, '}')
}

// handshakeJSON mirrors the wire form of Handshake for decoding.
type handshakeJSON struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// ParseHandshake parses the JSON data of an open packet. Unknown keys are
// ignored. It fails with a *DecodeError wrapping ErrInvalidPacket when data is
// not a JSON object of the expected shape, sid is empty, pingInterval or
// pingTimeout is not positive, or maxPayload is negative. Upgrades is nil when
// the list is empty.
func ParseHandshake(data []byte) (Handshake, error) {
	var j handshakeJSON
	if err := jsonx.Unmarshal(data, &j); err != nil {
		off := 0
		if se, ok := err.(*json.SyntaxError); ok { // unwrapped; no errors.As (size)
			off = int(se.Offset)
		}
		return Handshake{}, decodeErr(off, errs.Wrap2(ErrInvalidPacket.Error()+": handshake: "+err.Error(), ErrInvalidPacket, err))
	}
	var problem string
	switch {
	case j.SID == "":
		problem = "missing sid"
	case j.PingInterval <= 0:
		problem = "pingInterval must be positive"
	case j.PingTimeout <= 0:
		problem = "pingTimeout must be positive"
	case j.MaxPayload < 0:
		problem = "maxPayload must not be negative"
	}
	if problem != "" {
		return Handshake{}, decodeErr(0, errs.Wrap(ErrInvalidPacket.Error()+": handshake: "+problem, ErrInvalidPacket))
	}
	h := Handshake{
		SID:          j.SID,
		PingInterval: j.PingInterval,
		PingTimeout:  j.PingTimeout,
		MaxPayload:   j.MaxPayload,
	}
	if len(j.Upgrades) > 0 {
		h.Upgrades = j.Upgrades
	}
	return h, nil
}

// appendJSONString appends s as a JSON string literal, escaping like
// JavaScript's JSON.stringify.
func appendJSONString(dst []byte, s string) []byte { return jsonstr.AppendJS(dst, s) }
