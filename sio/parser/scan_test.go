package parser

import (
	"strings"
	"testing"
)

// TestSkipStringWordAtATime puts a quote or an escape at every position
// of strings of several lengths, around the 8-byte words scanned at once,
// and checks where skipString ends them.
func TestSkipStringWordAtATime(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for pos := 0; pos <= n; pos++ {
			a, b := strings.Repeat("a", pos), strings.Repeat("b", n-pos)
			for _, c := range []struct {
				in   string
				want int
			}{
				{`"` + a + `"` + b, len(a) + 2},             // ends at the first quote
				{`"` + a + `\"` + b + `"`, len(a+b) + 4},    // an escaped quote does not
				{`"` + a + `\\"` + b, len(a) + 4},           // an escaped backslash does not hide it
				{`"` + a + "\x80\xff\x1f" + b + `"`, n + 5}, // other bytes are plain
				{`"` + a + b, -1},                           // unterminated
				{`"` + a + `\`, -1},                         // unterminated escape
			} {
				if got := skipString([]byte(c.in), 0); got != c.want {
					t.Errorf("skipString(%q) = %d, want %d", c.in, got, c.want)
				}
			}
		}
	}
}
