package main

import (
	"os"
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}} {
		got := h.percentile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.04 || d > 0.04 {
			t.Errorf("p%v = %v, want %v ±4%%", c.q*100, got, c.want)
		}
	}
	for i := range 59 * histSub { // past that, lower overflows a Duration
		if b := bucket(lower(i)); b != i {
			t.Fatalf("bucket(lower(%d)) = %d", i, b)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 {
		t.Errorf("RSS = %d", st.RSS)
	}
}

func TestParseFlagsRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-scenario", "nope"},
		{"-transport", "carrier-pigeon"},
		{"-n", "0"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := newDialer("http://10.1.2.3:80", "/socket.io/", "websocket", 1); err == nil {
		t.Error("a non-loopback URL was accepted")
	}
}
