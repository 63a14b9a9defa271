//go:build !js

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/nodefixture"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
)

// nodeDir returns the directory of the interop fixture whose node_modules
// hold the official client, skipping the test when Node.js or the client
// is not available.
func nodeDir(t *testing.T) string {
	t.Helper()
	_, dir := nodefixture.Require(t, "socket.io-client")
	return dir
}

// recoveryScript drives the official client: it connects to "/" (and to
// "/control" with a second manager), gets "e" 1, drops its transport,
// waits for the server's "ready" on /control, reconnects and reports what
// it got. The last line of stdout is the JSON result.
const recoveryScript = `
const { io } = require("socket.io-client");
const url = process.argv[1];
const fail = (e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); };
setTimeout(() => fail("timeout"), 8000);
const control = io(url + "/control", { forceNew: true, transports: ["websocket"] });
const socket = io(url, { forceNew: true, transports: ["websocket"], reconnection: false });
const got = [];
let firstID, pid;
socket.on("e", (...args) => {
  got.push(args);
  if (got.length === 1) {
    firstID = socket.id;
    pid = socket._pid;
    socket.io.engine.close(); // cut the transport
  }
});
control.on("ready", () => socket.connect());
let connects = 0;
socket.on("connect", () => {
  connects++;
  if (connects === 2) {
    socket.emit("done", (n) => {
      console.log(JSON.stringify({ ok: true, recovered: socket.recovered, sameID: socket.id === firstID, hasPid: typeof pid === "string" && pid.length > 0, got }));
      process.exit(0);
    });
  }
});
`

func TestRecoveryWithOfficialClient(t *testing.T) {
	dir := nodeDir(t)
	ts := newTestServer(t, &Options{ConnectionStateRecovery: &RecoveryOptions{SkipMiddlewares: true}})
	control := make(chan *Socket, 1)
	ts.Of("/control").OnConnection(func(s *Socket) { control <- s })
	recovered := make(chan bool, 2)
	ts.OnConnection(func(s *Socket) {
		recovered <- s.Recovered()
		if !s.Recovered() {
			s.Join("room")
			_ = s.Emit("e", 1)
		}
		s.OnDisconnect(func(reason sio.Reason) {
			if reason != sio.ReasonTransportClose {
				return
			}
			// Missed while disconnected, then tell the client to come back.
			_ = ts.To(s.ID()).Emit("e", 2)
			_ = ts.To("room").Emit("e", 3, []byte{7})
			_ = ts.Emit("e", 4)
			c := <-control
			_ = c.Emit("ready")
			control <- c
		})
		s.On("done", func(e *sio.Event) { _ = e.Ack(1) })
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "-e", recoveryScript, ts.hs.URL)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	require.NoError(t, err, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	assert.JSONEq(t, `{"ok":true,"recovered":true,"sameID":true,"hasPid":true,"got":[[1],[2],[3,{"type":"Buffer","data":[7]}],[4]]}`,
		stripOffsets(t, last))
	assert.False(t, testutil.Recv(t, recovered))
	assert.True(t, testutil.Recv(t, recovered))
}

// stripOffsets removes the offsets (the last, string, argument of each
// event) from the script's result.
func stripOffsets(t *testing.T, line string) string {
	t.Helper()
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &res), line)
	if got, ok := res["got"].([]any); ok {
		for i, ev := range got {
			args := ev.([]any)
			if len(args) > 0 {
				if _, isStr := args[len(args)-1].(string); isStr {
					args = args[:len(args)-1]
				} else {
					t.Errorf("event %d lacks its offset: %v", i, args)
				}
			}
			got[i] = args
		}
	}
	b, err := json.Marshal(res)
	require.NoError(t, err)
	return string(b)
}
