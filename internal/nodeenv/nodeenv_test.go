package nodeenv_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/nodeenv"
)

func TestDir(t *testing.T) {
	dir := nodeenv.Dir()
	require.True(t, filepath.IsAbs(dir), dir)
	for _, f := range []string{"CONTRACT.md", "package.json", "package-lock.json", "server.js", "client.js"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, f)
	}
}

// The Go list of scenarios must match the one client.js implements.
func TestScenariosMatchClientJS(t *testing.T) {
	nodeenv.Require(t)
	cmd := exec.Command("node", "client.js", "--list")
	cmd.Dir = nodeenv.Dir()
	out, err := cmd.Output()
	require.NoError(t, err)
	var names []string
	require.NoError(t, json.Unmarshal(out, &names), string(out))
	assert.Equal(t, nodeenv.Scenarios(), names)
}

// Every scenario of the official client passes against the official server:
// this validates both the scenarios and CONTRACT.md.
func TestOfficialClientAgainstOfficialServer(t *testing.T) {
	for _, mode := range []struct {
		name      string
		env       []string
		clientEnv []string
	}{
		{"default", nil, nil},
		// The recovery scenario must really recover there, not skip.
		{"recovery", []string{"SIO_RECOVERY=1"}, []string{nodeenv.ExpectRecovery}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			url, _ := nodeenv.StartServer(t, mode.env...)
			require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
			for _, sc := range nodeenv.Scenarios() {
				t.Run(sc, func(t *testing.T) {
					t.Parallel()
					assert.NoError(t, nodeenv.RunClientEnv(t, url, sc, mode.clientEnv...))
				})
			}
		})
	}
}

func TestRunClientReportsFailure(t *testing.T) {
	url, _ := nodeenv.StartServer(t)
	err := nodeenv.RunClient(t, url, "no-such-scenario")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown scenario "no-such-scenario"`)
}

// Against a server without recovery, the recovery scenario skips, unless
// told the server has recovery: then it fails.
func TestRecoveryScenarioDetectsMissingRecovery(t *testing.T) {
	url, _ := nodeenv.StartServer(t)
	require.NoError(t, nodeenv.RunClient(t, url, "recovery"))
	err := nodeenv.RunClientEnv(t, url, "recovery", nodeenv.ExpectRecovery)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no pid in CONNECT")
}

func TestStopIsIdempotentAndStopsTheServer(t *testing.T) {
	url, stop := nodeenv.StartServer(t)
	require.NoError(t, nodeenv.RunClient(t, url, "polling"))
	stop()
	stop()
	err := nodeenv.RunClient(t, url, "polling")
	require.Error(t, err, "the server must be gone after stop")
}
