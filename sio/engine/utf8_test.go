package engine

import (
	"encoding/hex"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toValidUTF8Cases are inputs and what Node.js makes of them
// (Buffer.from(hex, "hex").toString("utf8"), re-encoded), in hex.
var toValidUTF8Cases = []struct{ in, want string }{
	{"61ff62", "61efbfbd62"},
	{"e282", "efbfbd"},
	{"e28241", "efbfbd41"},
	{"f09f98", "efbfbd"},
	{"eda080", "efbfbdefbfbdefbfbd"},
	{"c0af", "efbfbdefbfbd"},
	{"f4908080", "efbfbdefbfbdefbfbdefbfbd"},
	{"efbfbd", "efbfbd"},
	{"e0808041", "efbfbdefbfbdefbfbd41"},
	{"f0908080", "f0908080"},
	{"80", "efbfbd"},
	{"fe", "efbfbd"},
	{"e2", "efbfbd"},
	{"f09f", "efbfbd"},
	{"cdff", "efbfbdefbfbd"},
	{"f09f9880e282ac", "f09f9880e282ac"},
	{"e2e282ac", "efbfbde282ac"},
	{"f8888080", "efbfbdefbfbdefbfbdefbfbd"},
	{"c2", "efbfbd"},
	{"dfbf", "dfbf"},
	{"eda0bd", "efbfbdefbfbdefbfbd"},
	{"edbfbf", "efbfbdefbfbdefbfbd"},
	{"ee8080", "ee8080"},
	{"f4bfbfbf", "efbfbdefbfbdefbfbdefbfbd"},
	{"f48fbfbf", "f48fbfbf"},
	{"c1bf", "efbfbdefbfbd"},
	{"", ""},
}

func TestToValidUTF8LikeNode(t *testing.T) {
	for _, tc := range toValidUTF8Cases {
		in, err := hex.DecodeString(tc.in)
		require.NoError(t, err)
		got := toValidUTF8(in)
		assert.Equal(t, tc.want, hex.EncodeToString(got), "input %s", tc.in)
		assert.Equal(t, tc.want, hex.EncodeToString(whatwgDecode(in)), "reference, input %s", tc.in)
	}
	valid := []byte("héllo €𝄞")
	assert.Same(t, &valid[0], &toValidUTF8(valid)[0], "valid input is returned as is")
}

// whatwgDecode is the UTF-8 decoder of the WHATWG Encoding standard, step
// by step as the standard writes it: the reference toValidUTF8 is held to.
func whatwgDecode(b []byte) []byte {
	var out []byte
	needed, seen := 0, 0
	var cp rune
	lower, upper := byte(0x80), byte(0xBF)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if needed == 0 {
			switch {
			case c <= 0x7F:
				out = append(out, c)
			case c >= 0xC2 && c <= 0xDF:
				needed, cp = 1, rune(c&0x1F)
			case c >= 0xE0 && c <= 0xEF:
				if c == 0xE0 {
					lower = 0xA0
				}
				if c == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(c&0xF)
			case c >= 0xF0 && c <= 0xF4:
				if c == 0xF0 {
					lower = 0x90
				}
				if c == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(c&0x7)
			default:
				out = utf8.AppendRune(out, utf8.RuneError)
			}
			continue
		}
		if c < lower || c > upper {
			needed, seen, cp = 0, 0, 0
			lower, upper = 0x80, 0xBF
			out = utf8.AppendRune(out, utf8.RuneError)
			i-- // the byte is processed again
			continue
		}
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(c&0x3F)
		seen++
		if seen == needed {
			out = utf8.AppendRune(out, cp)
			needed, seen, cp = 0, 0, 0
		}
	}
	if needed != 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return out
}

func FuzzToValidUTF8(f *testing.F) {
	for _, tc := range toValidUTF8Cases {
		in, _ := hex.DecodeString(tc.in)
		f.Add(in)
	}
	f.Add([]byte("4[\"chat\",\"a\xffb\xed\xa0\x80c\xe2\x82\"]"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got := toValidUTF8(in)
		if !utf8.Valid(got) {
			t.Fatalf("invalid output %q for %q", got, in)
		}
		if want := whatwgDecode(in); string(got) != string(want) {
			t.Fatalf("toValidUTF8(%q) = %q, the WHATWG decoder gives %q", in, got, want)
		}
		if utf8.Valid(in) && string(got) != string(in) {
			t.Fatalf("valid input changed: %q -> %q", in, got)
		}
	})
}

func BenchmarkToValidUTF8(b *testing.B) {
	valid := []byte(`4["chat",{"text":"a message of some length, with an accent: é, and a symbol: €","room":"lobby"}]`)
	b.SetBytes(int64(len(valid)))
	for b.Loop() {
		toValidUTF8(valid)
	}
}
