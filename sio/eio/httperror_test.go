package eio

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestErrorCodeJSON(t *testing.T) {
	for code, want := range map[ErrorCode]string{
		CodeUnknownTransport:           `{"code":0,"message":"Transport unknown"}`,
		CodeUnknownSID:                 `{"code":1,"message":"Session ID unknown"}`,
		CodeBadHandshakeMethod:         `{"code":2,"message":"Bad handshake method"}`,
		CodeBadRequest:                 `{"code":3,"message":"Bad request"}`,
		CodeForbidden:                  `{"code":4,"message":"Forbidden"}`,
		CodeUnsupportedProtocolVersion: `{"code":5,"message":"Unsupported protocol version"}`,
	} {
		assert.Equal(t, want, string(code.AppendJSON(nil, "")))
	}
	assert.Equal(t, `{"code":4,"message":"not \"you\""}`, string(CodeForbidden.AppendJSON(nil, `not "you"`)))
	assert.Equal(t, `{"code":42,"message":"Unknown error"}`, string(ErrorCode(42).AppendJSON(nil, "")))
	assert.Equal(t, "Unknown error", ErrorCode(-1).Message())
}

func TestParseHTTPError(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
		want   HTTPError
		msg    string
	}{
		"json": {400, `{"code":1,"message":"Session ID unknown"}`,
			HTTPError{400, CodeUnknownSID, "Session ID unknown"}, "eio: HTTP 400: Session ID unknown (code 1)"},
		"json custom message": {403, `{"code":4,"message":"go away"}`,
			HTTPError{403, CodeForbidden, "go away"}, "eio: HTTP 403: go away (code 4)"},
		"json without message": {400, `{"code":5}`,
			HTTPError{400, CodeUnsupportedProtocolVersion, "Unsupported protocol version"}, "eio: HTTP 400: Unsupported protocol version (code 5)"},
		"plain text": {400, "Bad request\n",
			HTTPError{400, -1, "Bad request"}, "eio: HTTP 400: Bad request"},
		"json without code": {502, `{"message":"x"}`,
			HTTPError{502, -1, `{"message":"x"}`}, `eio: HTTP 502: {"message":"x"}`},
		"empty": {500, "",
			HTTPError{500, -1, ""}, "eio: HTTP 500"},
	} {
		t.Run(name, func(t *testing.T) {
			got := ParseHTTPError(tc.status, []byte(tc.body))
			assert.Equal(t, tc.want, *got)
			assert.Equal(t, tc.msg, got.Error())
		})
	}
}

func TestParseHTTPErrorTruncates(t *testing.T) {
	body := strings.Repeat("€", 1000)
	got := ParseHTTPError(502, []byte(body))
	assert.Equal(t, ErrorCode(-1), got.Code)
	assert.LessOrEqual(t, len(got.Message), maxErrorText)
	assert.Greater(t, len(got.Message), maxErrorText-utf8.UTFMax)
	assert.True(t, utf8.ValidString(got.Message))
	assert.True(t, strings.HasPrefix(body, got.Message))
}
