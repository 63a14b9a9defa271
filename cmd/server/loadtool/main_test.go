package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gosio/socketio/cmd/server/app"
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

// TestScenariosAgainstBenchServer runs the echo and broadcast scenarios
// briefly against the bench server, with the sessions read by the poller
// (Linux) and by goroutines, and checks that acks and deliveries were
// counted and that every connection was opened.
func TestScenariosAgainstBenchServer(t *testing.T) {
	srv := app.NewBench(slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	for _, scenario := range []string{"echo", "broadcast"} {
		for _, goroutines := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/goroutines=%v", scenario, goroutines), func(t *testing.T) {
				cfg, err := parseFlags([]string{"-url", hs.URL, "-scenario", scenario, "-n", "20",
					"-duration", "300ms", "-warmup", "100ms", fmt.Sprintf("-goroutines=%v", goroutines)})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res, err := run(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if res.ConnectErrors != 0 {
					t.Errorf("%d connections failed", res.ConnectErrors)
				}
				if res.Ops <= 0 {
					t.Errorf("no %s measured: %+v", scenario, res)
				}
			})
		}
	}
}
