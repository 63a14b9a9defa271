package wsframe

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// The example of RFC 6455, 1.3.
	assert.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
}

func TestAppendHeader(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		b := AppendHeader(nil, OpText, tc.n)
		assert.Equal(t, tc.want, b, "n=%d", tc.n)
		require.Equal(t, len(b), HeaderLen(b[1]), "n=%d", tc.n)
		h := ParseHeader(b)
		assert.Equal(t, Header{Fin: true, Op: OpText, Len: uint64(tc.n)}, h, "n=%d", tc.n)
	}
}

// TestMaskCopy checks the word-at-a-time masking against the definition,
// at every length and starting position of the payload up to a few words.
func TestMaskCopy(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for n := range 80 {
		for pos := range 4 {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i * 7)
			}
			dst := make([]byte, n)
			nonASCII := MaskCopy(dst, src, Key4(key), pos)
			want := false
			for i := range src {
				c := src[i] ^ key[(pos+i)%4]
				require.Equal(t, c, dst[i], "n=%d pos=%d i=%d", n, pos, i)
				want = want || c >= 0x80
			}
			require.Equal(t, want, nonASCII, "n=%d pos=%d", n, pos)
		}
	}
}

func TestAppendMaskedRoundTrip(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 70000} {
		payload := bytes.Repeat([]byte("ab€"), n/5+1)[:n]
		f := AppendMasked([]byte("x"), OpBinary, payload, 0xdeadbeef)[1:]
		hl := HeaderLen(f[1])
		h := ParseHeader(f)
		require.True(t, h.Masked && h.Fin)
		require.Equal(t, byte(OpBinary), h.Op)
		require.Equal(t, uint64(n), h.Len)
		require.Equal(t, uint32(0xdeadbeef), h.Key)
		got := make([]byte, n)
		MaskCopy(got, f[hl:], h.Key, 0)
		require.Equal(t, payload, got, "n=%d", n)
	}
}

func TestParseHeaderReservedBits(t *testing.T) {
	h := ParseHeader([]byte{0x70 | OpPing, 0})
	assert.Equal(t, Header{RSV: 7, Op: OpPing}, h)
}
