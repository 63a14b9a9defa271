package browser

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that also keeps what the harness logs, and can
// pretend that the test failed.
type recorder struct {
	testing.TB
	failed bool

	mu    sync.Mutex
	lines []string
	added chan struct{} // capacity 1: a line was logged
}

func newRecorder(t testing.TB, failed bool) *recorder {
	return &recorder{TB: t, failed: failed, added: make(chan struct{}, 1)}
}

func (r *recorder) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.TB.Log(line)
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	select {
	case r.added <- struct{}{}:
	default:
	}
}

func (r *recorder) Failed() bool { return r.failed || r.TB.Failed() }

// find returns the first logged line matching re, if any.
func (r *recorder) find(re *regexp.Regexp) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if re.MatchString(l) {
			return l, true
		}
	}
	return "", false
}

// waitLog waits until a logged line matches re.
func (r *recorder) waitLog(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if l, ok := r.find(re); ok {
			return l
		}
		select {
		case <-r.added:
		case <-deadline:
			t.Fatalf("no log line matching %s within %v", re, timeout)
		}
	}
}

const page = `<!doctype html>
<title>harness</title>
<p id="x">initial</p>
<script>
console.log("hello from the page", 42);
setTimeout(() => { document.getElementById("x").textContent = "ready"; }, 100);
</script>`

func servePage(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHarness(t *testing.T) {
	srv := servePage(t)
	rec := newRecorder(t, false)
	ctx := Start(rec)

	Navigate(rec, ctx, srv.URL)
	WaitTrue(rec, ctx, `document.getElementById("x").textContent === "ready"`, 10*time.Second)
	assert.Equal(t, 3, Eval[int](rec, ctx, `1 + 2`))
	assert.Equal(t, "ready", Eval[string](rec, ctx, `document.getElementById("x").textContent`))
	assert.Equal(t, "late", Eval[string](rec, ctx, `new Promise(r => setTimeout(() => r("late"), 10))`))

	// Console messages and uncaught exceptions reach the test log.
	rec.waitLog(t, regexp.MustCompile(`tab 1: .*hello from the page 42`), 10*time.Second)
	Eval[any](rec, ctx, `setTimeout(() => { throw new Error("boom-7") }), null`)
	rec.waitLog(t, regexp.MustCompile(`tab 1: .*boom-7`), 10*time.Second)

	// A timeout is an error, not a hang.
	start := time.Now()
	err := Poll(ctx, `false`, 200*time.Millisecond)
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestSecondTab(t *testing.T) {
	srv := servePage(t)
	ctx := Start(t)
	Navigate(t, ctx, srv.URL)
	tab := NewPage(t, ctx)
	Navigate(t, tab, srv.URL+"/other")

	Eval[any](t, tab, `window.mark = "tab2", null`)
	assert.Equal(t, "tab2", Eval[string](t, tab, `window.mark`))
	assert.Equal(t, "undefined", Eval[string](t, ctx, `typeof window.mark`), "tabs share no globals")
	assert.True(t, strings.HasSuffix(Eval[string](t, tab, `location.href`), "/other"))
	// Both tabs keep running timers and polls.
	WaitTrue(t, tab, `document.getElementById("x").textContent === "ready"`, 10*time.Second)
	WaitTrue(t, ctx, `document.getElementById("x").textContent === "ready"`, 10*time.Second)
}

func TestScreenshotOnFailure(t *testing.T) {
	srv := servePage(t)
	var rec *recorder
	t.Run("failing", func(t *testing.T) {
		rec = newRecorder(t, true) // the harness sees a failed test
		ctx := Start(rec)
		Navigate(rec, ctx, srv.URL)
	})
	// The subtest's cleanups have run: the screenshot was taken and logged.
	line, ok := rec.find(regexp.MustCompile(`screenshot of tab 1 saved to `))
	require.True(t, ok, "no screenshot logged")
	path := line[strings.LastIndex(line, " ")+1:]
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(path)) })
	png, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "not a PNG")
}
