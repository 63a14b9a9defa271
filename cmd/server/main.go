// Command server runs this project's Socket.IO server in one of four modes:
//
//	-mode demo         the demo chat: web/ (the Go client compiled to wasm) and the Socket.IO endpoint on one origin (default)
//	-mode conformance  the configuration the official Engine.IO and Socket.IO protocol test suites expect
//	-mode bench        the load-test contract's handlers
//	-mode cluster      the cluster test contract (e2e/testdata/node/CONTRACT.md) of the node named by -node
//
// With -admin user:password the demo also serves the official Socket.IO
// Admin UI at /admin/ and the admin namespace it connects to (package
// sio/admin).
//
// With -redis URL every mode runs on the Redis adapter (-adapter redis, the
// default, sharded or streams), so that several processes serve one application.
//
// Once it listens, it prints "listening on http://ADDR/" on stdout (with
// -addr 127.0.0.1:0, ADDR is the port the system chose).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	rpprof "runtime/pprof"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gosio/socketio/cmd/server/app"
	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/sio/admin"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/parser/msgpack"
	"github.com/gosio/socketio/sio/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "demo", "demo, conformance, bench or cluster")
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	webDir := flag.String("web", "", "folder of the demo's web app (default: web/ of this module)")
	verbose := flag.Bool("v", false, "debug logs")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060)")
	redisURL := flag.String("redis", "", "Redis server of the cluster (redis://host:port/db); empty: one node, in-memory adapter")
	adapterKind := flag.String("adapter", app.AdapterRedis, "with -redis: redis (classic pub/sub), sharded (Redis 7 sharded pub/sub), streams (Redis Streams) or streams-sharded (Redis Streams, requests on sharded pub/sub)")
	parserName := flag.String("parser", "json", "-mode bench and conformance: the packet format, json (the default parser) or msgpack (socket.io-msgpack-parser)")
	recovery := flag.Bool("recovery", false, "-mode cluster: connection state recovery on (60 s, middlewares skipped)")
	nodeName := flag.String("node", "", "name of this node (-mode cluster; default: the host name and the process id)")
	adminLogin := flag.String("admin", "", "-mode demo: turn the Socket.IO Admin UI's server side on, with this login (user:password), and serve the UI at /admin/")
	adminUI := flag.String("admin-ui", filepath.Join("e2e", "testdata", "node", "node_modules", "@socket.io", "admin-ui", "ui", "dist"), "with -admin: folder of the Admin UI (ui/dist of the @socket.io/admin-ui npm package)")
	flag.Parse()

	if *pprofAddr != "" {
		pln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return err
		}
		pmux := http.NewServeMux()
		pmux.HandleFunc("/debug/pprof/", pprof.Index)
		pmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pmux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		pmux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		ps := &http.Server{Handler: pmux, ReadHeaderTimeout: 10 * time.Second}
		go ps.Serve(pln) //nolint:errcheck // ends with the process
		defer ps.Close()
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := rpprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer rpprof.StopCPUProfile()
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// Signals are handled from here on, so that an interrupt during the
	// demo's first build (the wasm, which takes a while) cancels it and
	// lets it remove its temporary file instead of killing the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *nodeName == "" {
		host, _ := os.Hostname()
		*nodeName = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	logger = logger.With("node", *nodeName)

	adapter, adapterCloser, err := app.Adapter(*adapterKind, *redisURL, logger)
	if err != nil {
		return err
	}
	// Closed after the Socket.IO server has shut down: the adapter's
	// connections outlive the sockets that use them.
	defer adapterCloser.Close()

	var (
		handler  http.Handler
		shutdown func(context.Context) error
	)
	var wire parser.Parser // nil: the default
	switch *parserName {
	case "json":
	case "msgpack":
		wire = msgpack.New()
	default:
		return fmt.Errorf("unknown -parser %q", *parserName)
	}
	switch *mode {
	case "conformance":
		opts := conformance.DefaultOptions()
		opts.Adapter = adapter
		opts.Parser = wire
		c := conformance.New(logger, opts)
		handler, shutdown = c.Handler(), c.Shutdown
	case "bench":
		srv := app.NewBenchOptions(&server.Options{Adapter: adapter, Parser: wire})
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", srv)
		handler, shutdown = mux, srv.Shutdown
	case "demo":
		d, err := app.NewDemoAdapter(ctx, logger, *webDir, adapter)
		if err != nil {
			return err
		}
		handler, shutdown = d.Handler(), d.Shutdown
		if *adminLogin != "" {
			handler, shutdown, err = withAdmin(d, *adminLogin, *adminUI, *nodeName, logger)
			if err != nil {
				return err
			}
		}
	case "cluster":
		c := app.NewClusterRecovery(*nodeName, adapter, logger, *recovery)
		handler, shutdown = c.Handler(), c.Shutdown
	default:
		return fmt.Errorf("unknown -mode %q (demo, conformance, bench or cluster)", *mode)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := newHTTPServer(handler, defaultTimeouts)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("listening", "mode", *mode, "url", "http://"+ln.Addr().String()+"/", "redis", *redisURL)
	// The first line on stdout, for scripts and tests that start the
	// server on port 0.
	fmt.Printf("listening on http://%s/\n", ln.Addr())
	if *mode == "demo" {
		fmt.Printf("Open http://%s/ in a browser.\n", ln.Addr())
		if *adminLogin != "" {
			fmt.Printf("Admin UI: http://%s/admin/ (server URL http://%s, namespace /admin).\n", ln.Addr(), ln.Addr())
		}
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Socket.IO first: it ends long-polls and closes WebSockets.
	if err := shutdown(sctx); err != nil {
		logger.Warn("socket.io shutdown", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// httpTimeouts are the timeouts of the HTTP server.
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// defaultTimeouts bound what a slow or idle client may hold: a request's
// headers, a whole request (a polling POST's body), the writing of an
// answer (a static file of the demo), an idle keep-alive connection.
// ReadTimeout and WriteTimeout count from a request's start, but they cut
// neither long-polls, held up to the ping interval (the engine lifts them
// for the hold and gives the answer WriteTimeout from when it is written),
// nor WebSockets (their connections' deadlines are cleared once hijacked).
var defaultTimeouts = httpTimeouts{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      60 * time.Second,
	idle:       60 * time.Second,
}

// newHTTPServer returns the HTTP server of every mode.
func newHTTPServer(h http.Handler, t httpTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
	}
}

// withAdmin instruments the demo for the Socket.IO Admin UI with the
// login user:password and serves the UI from uiDir at /admin/.
func withAdmin(d *app.Demo, login, uiDir, serverID string, logger *slog.Logger) (http.Handler, func(context.Context) error, error) {
	user, pass, ok := strings.Cut(login, ":")
	if !ok || user == "" || pass == "" {
		return nil, nil, errors.New("-admin wants user:password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.DefaultCost)
	if err != nil {
		return nil, nil, err
	}
	adm, err := admin.Instrument(d.IO, &admin.Options{
		Auth:     &admin.BasicAuth{Username: user, PasswordHash: string(h)},
		ServerID: serverID,
	})
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", d.Handler())
	if _, err := os.Stat(filepath.Join(uiDir, "index.html")); err == nil {
		mux.Handle("/admin/", http.StripPrefix("/admin/", http.FileServer(http.Dir(uiDir))))
	} else {
		logger.Warn("the Admin UI is not served: run npm ci in e2e/testdata/node, or give -admin-ui", "dir", uiDir)
	}
	shutdown := func(ctx context.Context) error {
		_ = adm.Close()
		return d.Shutdown(ctx)
	}
	return mux, shutdown, nil
}
