package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestLikeErrorf(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	e1 := Wrap("x: a", a)
	f1 := fmt.Errorf("x: %w", a)
	if e1.Error() != f1.Error() || errors.Unwrap(e1) != a || !errors.Is(e1, a) {
		t.Fatal(e1)
	}
	e2 := Wrap2("a: b", a, b)
	if e2.Error() != fmt.Errorf("%w: %w", a, b).Error() || !errors.Is(e2, a) || !errors.Is(e2, b) || errors.Unwrap(e2) != nil {
		t.Fatal(e2)
	}
	for _, s := range []string{"", "abc", "héllo wörld", "0123456789"} {
		if got, want := Trunc(s, 4), fmt.Sprintf("%.4s", s); got != want {
			t.Errorf("Trunc(%q) = %q, want %q", s, got, want)
		}
	}
}
