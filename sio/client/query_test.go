package client

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueryLikeNetURL: the client's URL and query helpers agree with
// net/url, which the client does not import (WebAssembly size).
func TestQueryLikeNetURL(t *testing.T) {
	for _, raw := range []string{
		"http://example.com", "https://user:pw@example.com:8443/admin?x=1&y=a+b&y=%26&z&=v&bad=%zz#frag",
		"ws://[::1]:3000/a%2Fb?q=%C3%A9", "http://h/?a=1;b=2&c=3", "HTTP://Host/",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err, raw)
		scheme, host, path, query, err := splitServerURL(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, u.Scheme, scheme, raw)
		assert.Equal(t, u.Host, host, raw)
		assert.Equal(t, u.Path, path, raw)
		assert.Equal(t, map[string][]string(u.Query()), query, raw)
		assert.Equal(t, u.Port() != "", hasPort(host), raw)
	}
	for _, raw := range []string{"http://h/%zz", "http://h/\x7f"} {
		_, err := url.Parse(raw)
		require.Error(t, err, raw)
		_, _, _, _, err = splitServerURL(raw)
		assert.Error(t, err, raw)
	}
	q := url.Values{"b": {"1", "x y"}, "a": {"&=?/é~-_."}, "EIO": {"4"}, "": {""}}
	assert.Equal(t, q.Encode(), encodeQuery(q))
}
