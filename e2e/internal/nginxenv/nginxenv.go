// Package nginxenv runs nginx for a test, as the test's user: in a
// temporary prefix (pid file, temporary files), logging to the test log,
// in the foreground (daemon off), stopped when the test ends.
//
// When nginx is not installed the tests using it are skipped, except under
// CI=true where they fail.
package nginxenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	readyDeadline = 10 * time.Second
	stopGrace     = 5 * time.Second
)

// Require returns the path of nginx, or skips the test (fails it under
// CI=true) when there is none. Debian installs it in /usr/sbin, which a
// non-root PATH may lack.
func Require(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx not found (.ci/run installs it)")
	}
	t.Skip("nginx not found (apt-get install nginx)")
	return ""
}

// Start runs nginx with site, the text of a configuration for the http
// block, in which the address "LISTEN" is replaced by a free address of
// 127.0.0.1. It returns that address; nginx is stopped when the test ends.
func Start(t testing.TB, site string) string {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	var last error
	for range 3 { // the free port may be taken before nginx binds it
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if err := start(t, bin, dir, strings.ReplaceAll(site, "LISTEN", addr), addr); err != nil {
			last = err
			t.Logf("nginxenv: %v", err)
			continue
		}
		return addr
	}
	t.Fatalf("nginxenv: %v", last)
	return ""
}

func start(t testing.TB, bin, dir, site, addr string) error {
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o644); err != nil {
		return err
	}
	user := ""
	if os.Geteuid() == 0 {
		// As root, workers would switch to nobody, who cannot use the
		// test's temporary folder.
		user = "user root;\n"
	}
	main := fmt.Sprintf(`%sworker_processes 1;
error_log stderr notice;
pid %[2]s/nginx.pid;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/site.conf;
}
`, user, dir)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-g", "daemon off;")
	out := &logWriter{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting nginx: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopGrace):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(readyDeadline)
	for {
		select {
		case <-exited:
			return fmt.Errorf("nginx exited: %v", waitErr)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Cleanup(stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("nginx does not listen on %s after %v", addr, readyDeadline)
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// logWriter forwards nginx's log lines to the test log.
type logWriter struct {
	t   testing.TB
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Logf("nginx: %s", strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
}
