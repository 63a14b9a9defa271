package redisenv

import (
	"strings"
	"testing"
)

func TestStartRestartStop(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL())
	}
	if reply, err := s.Do("SET", "k", "v"); err != nil || reply != "+OK\r\n" {
		t.Fatalf("SET = %q, %v", reply, err)
	}
	// Restarted on the same port, without persistence: empty.
	s.Restart()
	if reply, err := s.Do("GET", "k"); err != nil || reply != "$-1\r\n" {
		t.Fatalf("GET after restart = %q, %v (want a nil bulk string)", reply, err)
	}
	s.Stop()
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("PING answered after Stop")
	}
	s.Stop() // idempotent
}
