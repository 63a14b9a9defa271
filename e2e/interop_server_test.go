package e2e

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/internal/nodeenv"
	"github.com/gosio/socketio/sio/server"
)

// startInteropServer serves conformance.New with opts on a test server.
func startInteropServer(t *testing.T, opts *server.Options) string {
	t.Helper()
	c := conformance.New(nil, opts)
	ts := httptest.NewServer(c.Handler())
	t.Cleanup(func() {
		c.Close()
		ts.Close()
	})
	return ts.URL
}

// TestOfficialClientAgainstGoServer runs every scenario of the official
// socket.io-client (e2e/testdata/node/client.js) against this project's
// server configured as the interop test app (CONTRACT.md).
func TestOfficialClientAgainstGoServer(t *testing.T) {
	nodeenv.Require(t)
	url := startInteropServer(t, conformance.TestOptions(false))
	for _, sc := range nodeenv.Scenarios() {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			if err := nodeenv.RunClient(t, url, sc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOfficialClientRecoversFromGoServer runs the scenarios against the Go
// server with connection state recovery on (as server.js with
// SIO_RECOVERY=1): the recovery scenario must really recover there (it fails
// when the server sends no session pid), and every other scenario must cope
// with the offsets recovery appends to events.
func TestOfficialClientRecoversFromGoServer(t *testing.T) {
	nodeenv.Require(t)
	opts := conformance.TestOptions(false)
	opts.ConnectionStateRecovery = &server.RecoveryOptions{
		MaxDisconnectionDuration: time.Minute,
		SkipMiddlewares:          true,
	}
	url := startInteropServer(t, opts)
	for _, sc := range nodeenv.Scenarios() {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			if err := nodeenv.RunClientEnv(t, url, sc, nodeenv.ExpectRecovery); err != nil {
				t.Fatal(err)
			}
		})
	}
}
