package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandshakeJSONUpstreamShape(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	h := &Handshake{
		Headers: http.Header{"Host": {"x"}, "Accept": {"a", "b"}, "Cookie": {"c=1", "d=2"}, "Set-Cookie": {"e=1"}},
		Time:    at, Issued: at.UnixMilli(), Address: "127.0.0.1", XDomain: true,
		URL: "/socket.io/?EIO=4&transport=polling", Query: url.Values{"EIO": {"4"}, "k": {"1", "2"}},
		Auth: json.RawMessage(`{"token":"t"}`),
	}
	b, err := json.Marshal(h)
	require.NoError(t, err)
	assert.JSONEq(t, `{"headers":{"host":"x","accept":"a, b","cookie":"c=1; d=2","set-cookie":["e=1"]},
		"time":"Tue Mar 04 2025 10:00:00 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1",
		"xdomain":true,"secure":false,"issued":1741082400000,"url":"/socket.io/?EIO=4&transport=polling",
		"query":{"EIO":"4","k":["1","2"]},"auth":{"token":"t"}}`, string(b))

	var back Handshake
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, "a, b", back.Headers.Get("Accept"))
	assert.Equal(t, []string{"e=1"}, back.Headers.Values("Set-Cookie"))
	assert.Equal(t, url.Values{"EIO": {"4"}, "k": {"1", "2"}}, back.Query)
	assert.True(t, back.Time.Equal(at))
	assert.Equal(t, h.Issued, back.Issued)
	assert.JSONEq(t, `{"token":"t"}`, string(back.Auth))
	assert.True(t, back.XDomain)
}
