package eio

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/gosio/socketio/sio/internal/jsonx"
)

// ErrorCode is the code of an HTTP error response of the official Engine.IO
// server, sent as {"code":N,"message":"..."}.
type ErrorCode int

// The error codes of the official server.
const (
	CodeUnknownTransport           ErrorCode = 0 // unknown or disabled transport (HTTP 400)
	CodeUnknownSID                 ErrorCode = 1 // unknown session ID (HTTP 400)
	CodeBadHandshakeMethod         ErrorCode = 2 // handshake request that is not a GET (HTTP 400)
	CodeBadRequest                 ErrorCode = 3 // any other malformed request (HTTP 400)
	CodeForbidden                  ErrorCode = 4 // request rejected by the application (HTTP 403)
	CodeUnsupportedProtocolVersion ErrorCode = 5 // EIO query parameter other than 4 (HTTP 400)
)

var codeMessages = [...]string{
	CodeUnknownTransport:           "Transport unknown",
	CodeUnknownSID:                 "Session ID unknown",
	CodeBadHandshakeMethod:         "Bad handshake method",
	CodeBadRequest:                 "Bad request",
	CodeForbidden:                  "Forbidden",
	CodeUnsupportedProtocolVersion: "Unsupported protocol version",
}

// Message returns the default message the official server sends with c, or
// "Unknown error" for a code it does not define.
func (c ErrorCode) Message() string {
	if c >= 0 && int(c) < len(codeMessages) {
		return codeMessages[c]
	}
	return "Unknown error"
}

// AppendJSON appends the JSON error body {"code":N,"message":"..."} to dst and
// returns the extended buffer. An empty message stands for c.Message().
func (c ErrorCode) AppendJSON(dst []byte, message string) []byte {
	if message == "" {
		message = c.Message()
	}
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(c), 10)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, message)
	return append(dst, '}')
}

// HTTPError is what a client gets from a non-200 Engine.IO HTTP response.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the Engine.IO error code, or -1 when the body was not the JSON
	// error form.
	Code ErrorCode
	// Message is the message of the JSON body, or else the (trimmed,
	// possibly truncated) body text.
	Message string
}

// Error implements the error interface.
func (e *HTTPError) Error() string {
	s := "eio: HTTP " + strconv.Itoa(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Code >= 0 {
		s += " (code " + strconv.Itoa(int(e.Code)) + ")"
	}
	return s
}

// maxErrorText bounds the body text kept in HTTPError.Message.
const maxErrorText = 256

// ParseHTTPError builds the error for an HTTP response with the given status
// and body. A body of the form {"code":N,"message":"..."} yields its code and
// message (c.Message() when the message is missing); any other body yields
// Code -1 and the body text, trimmed and cut to a few hundred bytes.
func ParseHTTPError(status int, body []byte) *HTTPError {
	var j struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	if jsonx.Unmarshal(body, &j) == nil && j.Code != nil {
		e := &HTTPError{Status: status, Code: ErrorCode(*j.Code)}
		if j.Message != nil {
			e.Message = *j.Message
		} else {
			e.Message = e.Code.Message()
		}
		return e
	}
	text := bytes.TrimSpace(body)
	if len(text) > maxErrorText {
		// Cut before a rune boundary so a multi-byte character is not split.
		cut := maxErrorText
		for cut > maxErrorText-utf8.UTFMax && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	return &HTTPError{Status: status, Code: -1, Message: string(text)}
}
