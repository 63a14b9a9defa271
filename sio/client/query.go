package client

import (
	"errors"
	"strings"

	"github.com/gosio/socketio/sio/internal/sortx"
)

// This file replaces the few net/url functions the client needs (Parse,
// Values.Encode, ParseQuery): net/url and the packages it pulls in (net/netip,
// unique...) weigh about 0.2 MB in a WebAssembly build. Only the map[string][]string
// type is kept, for the API.

var errURLControl = errors.New("client: invalid control character in URL")

// splitServerURL splits raw ("scheme://[user@]host[:port][/path][?query][#fragment]")
// like url.Parse does for the URLs the client accepts: scheme is lowered and
// path unescaped.
// Without "//" after the scheme, host is empty.
func splitServerURL(raw string) (scheme, host, path string, query map[string][]string, err error) {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c == 0x7f {
			return "", "", "", nil, errURLControl
		}
	}
	rest := raw
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == ':' && i > 0 {
			scheme, rest = asciiLower(rest[:i]), rest[i+1:]
			break
		}
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			break
		}
	}
	rawQuery := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, rawQuery = rest[:i], rest[i+1:]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			i = len(rest)
		}
		host, rest = rest[:i], rest[i:]
		if j := strings.LastIndexByte(host, '@'); j >= 0 {
			host = host[j+1:]
		}
		if strings.ContainsAny(host, " \"<>\\^`{|}") {
			return "", "", "", nil, errors.New("client: invalid host in URL")
		}
	}
	path, ok := unescape(rest, false)
	if !ok {
		return "", "", "", nil, errors.New("client: invalid escape in URL path")
	}
	return scheme, host, path, parseQuery(rawQuery), nil
}

// hasPort reports whether host ("host", "host:port", "[v6]:port") has a port.
func hasPort(host string) bool {
	i := strings.LastIndexByte(host, ':')
	return i >= 0 && i > strings.LastIndexByte(host, ']') && i < len(host)-1
}

// parseQuery parses a URL query like url.ParseQuery, ignoring the pairs that
// url.ParseQuery would reject as url.URL.Query does.
func parseQuery(q string) map[string][]string {
	v := map[string][]string{}
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if kv == "" || strings.Contains(kv, ";") {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		k, ok1 := unescape(k, true)
		val, ok2 := unescape(val, true)
		if ok1 && ok2 {
			v[k] = append(v[k], val)
		}
	}
	return v
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescape decodes %XX escapes, and '+' as a space when query is set.
func unescape(s string, query bool) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) {
				return "", false
			}
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, h<<4|l)
			i += 2
		case c == '+' && query:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// encodeQuery encodes q like url.Values.Encode: sorted by key.
func encodeQuery(q map[string][]string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sortx.Strings(keys)
	var b []byte
	for _, k := range keys {
		for _, v := range q[k] {
			if len(b) > 0 {
				b = append(b, '&')
			}
			b = appendQueryEscape(b, k)
			b = append(b, '=')
			b = appendQueryEscape(b, v)
		}
	}
	return string(b)
}

// appendQueryEscape appends s escaped like url.QueryEscape.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
