package sortx

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestFunc(t *testing.T) {
	for n := range 200 {
		s := make([]string, n)
		for i := range s {
			s[i] = strconv.Itoa(rand.IntN(50))
		}
		want := slices.Sorted(slices.Values(s))
		Strings(s)
		if !slices.Equal(s, want) {
			t.Fatalf("n=%d: got %v, want %v", n, s, want)
		}
	}
}
