// Package testutil holds the waiting helpers the tests of every package
// share: they poll or wait with a deadline, never sleep in place of
// synchronisation.
package testutil

import (
	"testing"
	"time"
)

// Wait is how long a helper waits before it fails the test: generous, so
// that a loaded CI machine under -race does not fail a healthy test.
const Wait = 10 * time.Second

// Recv returns the next value of ch, failing the test after Wait.
func Recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(Wait)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out waiting for %T", *new(T))
		panic("unreachable")
	}
}

// Eventually polls cond until it holds, failing the test after Wait with
// what it waited for.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, bounded by the deadline
	}
}
