package testutil

import (
	"testing"
)

func TestRecvAndEventually(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if got := Recv(t, ch); got != 7 {
		t.Fatalf("Recv = %d, want 7", got)
	}
	n := 0
	Eventually(t, "n reaches 3", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
}
