package eio

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandshakeJSONSpecExample(t *testing.T) {
	h := Handshake{
		SID:          "lv_VI97HAXpY6yYWAAAC",
		Upgrades:     []string{"websocket"},
		PingInterval: 25000,
		PingTimeout:  20000,
		MaxPayload:   1000000,
	}
	assert.Equal(t, specHandshake, string(h.AppendJSON(nil)))

	got, err := ParseHandshake([]byte(specHandshake))
	require.NoError(t, err)
	assert.Equal(t, h, got)

	// As carried by an open packet.
	assert.Equal(t, "0"+specHandshake, string(AppendFrame(nil, Packet{Type: Open, Data: h.AppendJSON(nil)})))
}

func TestHandshakeJSONEmptyUpgrades(t *testing.T) {
	h := Handshake{SID: "s", PingInterval: 300, PingTimeout: 200, MaxPayload: 1000000}
	want := `{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`
	assert.Equal(t, want, string(h.AppendJSON(nil)))
	h.Upgrades = []string{}
	assert.Equal(t, want, string(h.AppendJSON(nil)))

	got, err := ParseHandshake([]byte(want))
	require.NoError(t, err)
	assert.Nil(t, got.Upgrades)
}

func TestHandshakeJSONMultipleUpgrades(t *testing.T) {
	h := Handshake{SID: "x", Upgrades: []string{"websocket", "webtransport"}, PingInterval: 1, PingTimeout: 2}
	assert.Equal(t, `{"sid":"x","upgrades":["websocket","webtransport"],"pingInterval":1,"pingTimeout":2,"maxPayload":0}`, string(h.AppendJSON(nil)))
}

func TestAppendJSONStringEscaping(t *testing.T) {
	for in, want := range map[string]string{
		``:                 `""`,
		`plain`:            `"plain"`,
		`a"b`:              `"a\"b"`,
		`a\b`:              `"a\\b"`,
		"\b\f\n\r\t":       `"\b\f\n\r\t"`,
		"\x00\x01\x1e\x1f": `"\u0000\u0001\u001e\u001f"`,
		"\x7f":             "\"\x7f\"",
		"<>&":              `"<>&"`,
		"é€😀":              `"é€😀"`,
		"\u2028":           "\"\u2028\"",
		"a\xffb":           `"a\ufffdb"`,
		"\xe2\x82":         `"\ufffd\ufffd"`,
	} {
		got := appendJSONString(nil, in)
		assert.Equal(t, want, string(got), "%q", in)
		require.True(t, json.Valid(got), "%q", got)
	}
}

func TestAppendJSONStringMatchesDecoder(t *testing.T) {
	for _, s := range []string{"sid-with-\"quotes\"", "tab\there", "\x00\x1f", "日本語", "back\\slash/"} {
		var back string
		require.NoError(t, json.Unmarshal(appendJSONString(nil, s), &back))
		assert.Equal(t, s, back)
	}
}

func TestParseHandshakeTolerant(t *testing.T) {
	// Key order, spacing and unknown keys do not matter; maxPayload is optional.
	got, err := ParseHandshake([]byte(` {"pingTimeout":2, "extra":true, "sid":"a\"b", "pingInterval":1, "upgrades":null} `))
	require.NoError(t, err)
	assert.Equal(t, Handshake{SID: `a"b`, PingInterval: 1, PingTimeout: 2}, got)
}

func TestParseHandshakeErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":                 ``,
		"not json":              `hello`,
		"array":                 `[]`,
		"truncated":             `{"sid":"a"`,
		"missing sid":           `{"upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":1}`,
		"empty sid":             `{"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":1}`,
		"sid not string":        `{"sid":1,"upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":1}`,
		"zero pingInterval":     `{"sid":"a","upgrades":[],"pingInterval":0,"pingTimeout":1,"maxPayload":1}`,
		"missing pingTimeout":   `{"sid":"a","upgrades":[],"pingInterval":1,"maxPayload":1}`,
		"negative pingTimeout":  `{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":-5,"maxPayload":1}`,
		"fractional interval":   `{"sid":"a","upgrades":[],"pingInterval":1.5,"pingTimeout":1,"maxPayload":1}`,
		"negative maxPayload":   `{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":-1}`,
		"upgrades not an array": `{"sid":"a","upgrades":"websocket","pingInterval":1,"pingTimeout":1}`,
		"trailing data":         `{"sid":"a","pingInterval":1,"pingTimeout":1}x`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseHandshake([]byte(in))
			require.ErrorIs(t, err, ErrInvalidPacket)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}

func TestHandshakeRoundTrip(t *testing.T) {
	h := Handshake{SID: "x\"y\\z\u00e9", Upgrades: []string{"websocket"}, PingInterval: 1 << 40, PingTimeout: 7, MaxPayload: 1 << 50}
	got, err := ParseHandshake(h.AppendJSON(nil))
	require.NoError(t, err)
	assert.Equal(t, h, got)
}
