//go:build !js

package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor bounds every wait: reaching it is a failure.
const waitFor = 5 * time.Second

type env struct {
	t     *testing.T
	srv   *server.Server
	admin *Admin
	url   string
}

func hash(t *testing.T, password string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	return string(h)
}

func newEnv(t *testing.T, opts *Options) *env {
	t.Helper()
	srv := server.New(nil)
	a, err := Instrument(srv, opts)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = a.Close()
		_ = srv.Close()
		hs.Close()
	})
	return &env{t: t, srv: srv, admin: a, url: hs.URL}
}

func (e *env) dial(nsp string, auth any) (*client.Socket, error) {
	opts := &client.Options{Transport: native.New(nil), DisableReconnection: true}
	opts.Auth = auth
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := client.Dial(ctx, e.url+nsp, opts)
	if err == nil {
		e.t.Cleanup(s.Disconnect)
	}
	return s, err
}

// ui is a client in the admin namespace that records what it gets.
type ui struct {
	t      *testing.T
	s      *client.Socket
	events chan event
}

type event struct {
	name string
	args sio.Args
}

func (e *env) ui(auth any) (*ui, error) {
	opts := &client.Options{Transport: native.New(nil), DisableReconnection: true}
	opts.Auth = auth
	s, err := client.New(e.url+"/admin", opts)
	require.NoError(e.t, err)
	u := &ui{t: e.t, s: s, events: make(chan event, 1024)}
	s.OnAny(func(ev *sio.Event) { u.events <- event{ev.Name, ev.Args} })
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		return nil, err
	}
	e.t.Cleanup(s.Disconnect)
	return u, nil
}

// next returns the next event called name, skipping the others.
func (u *ui) next(name string) sio.Args {
	u.t.Helper()
	return u.nextWhere(name, func(sio.Args) bool { return true })
}

// nextWhere returns the next event called name that ok accepts.
func (u *ui) nextWhere(name string, ok func(sio.Args) bool) sio.Args {
	u.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case ev := <-u.events:
			if ev.name == name && ok(ev.args) {
				return ev.args
			}
		case <-deadline:
			u.t.Fatalf("no %q event", name)
			return nil
		}
	}
}

// none checks that no event called name is among those received so far.
func (u *ui) none(name string) {
	u.t.Helper()
	for {
		select {
		case ev := <-u.events:
			assert.NotEqual(u.t, name, ev.name)
		default:
			return
		}
	}
}

var login = map[string]string{"username": "admin", "password": "s3cret"}

func basicOpts(t *testing.T) *Options {
	return &Options{Auth: &BasicAuth{Username: "admin", PasswordHash: hash(t, "s3cret")}}
}

func decodeArg[T any](t *testing.T, args sio.Args, i int) T {
	t.Helper()
	var v T
	require.Greater(t, len(args), i)
	require.NoError(t, json.Unmarshal(args.Raw(i), &v))
	return v
}

type sockJSON struct {
	ID        string         `json:"id"`
	ClientID  string         `json:"clientId"`
	Transport string         `json:"transport"`
	Nsp       string         `json:"nsp"`
	Data      map[string]any `json:"data"`
	Handshake map[string]any `json:"handshake"`
	Rooms     []string       `json:"rooms"`
}

func TestInstrumentOptions(t *testing.T) {
	srv := server.New(nil)
	defer srv.Close()
	_, err := Instrument(srv, nil)
	assert.ErrorContains(t, err, "Auth must be set")
	_, err = Instrument(srv, &Options{Auth: &BasicAuth{Username: "a", PasswordHash: "plain"}})
	assert.ErrorContains(t, err, "bcrypt hash")
	_, err = Instrument(srv, &Options{NoAuth: true, Mode: "staging"})
	assert.ErrorContains(t, err, "unknown mode")
}

func TestLogin(t *testing.T) {
	e := newEnv(t, basicOpts(t))

	_, err := e.ui(map[string]string{"username": "admin", "password": "wrong"})
	var ce *client.ConnectError
	require.True(t, errors.As(err, &ce), "refused: %v", err)
	assert.Equal(t, "invalid credentials", ce.Message)
	_, err = e.ui(map[string]string{"username": "root", "password": "s3cret"})
	require.True(t, errors.As(err, &ce), "refused: %v", err)
	_, err = e.ui(map[string]string{"sessionId": "0123456789abcdef"})
	require.True(t, errors.As(err, &ce), "an unknown session is refused: %v", err)

	u, err := e.ui(login)
	require.NoError(t, err)
	session := decodeArg[string](t, u.next("session"), 0)
	assert.Len(t, session, 16)

	// The UI reconnects with its session instead of the password.
	u2, err := e.ui(map[string]string{"sessionId": session})
	require.NoError(t, err)
	u2.next("config")
	u2.none("session")
}

func TestDevelopmentMode(t *testing.T) {
	e := newEnv(t, basicOpts(t))
	var got = make(chan *server.Socket, 4)
	e.srv.OnConnection(func(s *server.Socket) {
		got <- s
		s.On("hello", func(ev *sio.Event) { _ = s.Emit("hi", "back") })
	})
	c1, err := e.dial("/", nil)
	require.NoError(t, err)
	s1 := <-got
	id1 := c1.ID() // the client forgets it once disconnected
	_, err = e.dial("/", nil)
	require.NoError(t, err)
	<-got

	u, err := e.ui(login)
	require.NoError(t, err)
	cfg := decodeArg[struct {
		SupportedFeatures []string `json:"supportedFeatures"`
	}](t, u.next("config"), 0)
	assert.Equal(t, []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"}, cfg.SupportedFeatures)

	all := decodeArg[[]sockJSON](t, u.next("all_sockets"), 0)
	var mine []sockJSON
	for _, s := range all {
		if s.Nsp == "/" {
			mine = append(mine, s)
		}
	}
	require.Len(t, mine, 2, "the two sockets of / (and the admin's own socket in /admin)")
	i := slices.IndexFunc(mine, func(s sockJSON) bool { return s.ID == c1.ID() })
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, []string{c1.ID()}, mine[i].Rooms)
	assert.NotEmpty(t, mine[i].ClientID)
	assert.LessOrEqual(t, len(mine[i].ClientID), 12)
	assert.Contains(t, []string{"polling", "websocket"}, mine[i].Transport)
	assert.Contains(t, mine[i].Handshake, "headers")
	assert.Contains(t, mine[i].Handshake, "address")
	assert.NotContains(t, mine[i].Handshake, "auth", "the auth payload is not shown")
	assert.Equal(t, map[string]any{}, mine[i].Data)

	// SetData is reported, without the admin's own entry (upstream watches
	// socket.data through a proxy).
	s1.SetData(map[string]any{"user": "ann", "_admin": "hidden"})
	upd := decodeArg[map[string]any](t, u.nextWhere("socket_updated", func(a sio.Args) bool {
		return decodeArg[map[string]any](t, a, 0)["data"] != nil
	}), 0)
	assert.Equal(t, map[string]any{"id": c1.ID(), "nsp": "/", "data": map[string]any{"user": "ann"}}, upd)

	stats := decodeArg[map[string]any](t, u.next("server_stats"), 0)
	assert.Contains(t, stats, "serverId")
	assert.Contains(t, stats, "uptime")
	assert.Contains(t, stats, "pollingClientsCount")
	assert.Contains(t, stats["namespaces"], map[string]any{"name": "/", "socketsCount": float64(2)})

	// The UI's actions.
	require.NoError(t, u.s.Emit("join", "/", "room1", c1.ID()))
	joined := u.nextWhere("room_joined", func(a sio.Args) bool { return decodeArg[string](t, a, 1) == "room1" })
	assert.Equal(t, "/", decodeArg[string](t, joined, 0))
	assert.Equal(t, c1.ID(), decodeArg[string](t, joined, 2))
	assert.Contains(t, s1.Rooms(), "room1")
	_, err = time.Parse(time.RFC3339, decodeArg[string](t, joined, 3))
	assert.NoError(t, err, "the timestamp is an ISO date")

	require.NoError(t, u.s.Emit("leave", "/", "room1", c1.ID()))
	left := u.nextWhere("room_left", func(a sio.Args) bool { return decodeArg[string](t, a, 1) == "room1" })
	assert.Equal(t, c1.ID(), decodeArg[string](t, left, 2))

	// Events both ways.
	require.NoError(t, c1.Emit("hello", 42))
	recv := decodeArg[[]any](t, u.next("event_received"), 2)
	assert.Equal(t, []any{"hello", float64(42)}, recv)
	sent := u.nextWhere("event_sent", func(a sio.Args) bool { return decodeArg[string](t, a, 1) == c1.ID() })
	assert.Equal(t, []any{"hi", "back"}, decodeArg[[]any](t, sent, 2))

	// The UI emits to a room.
	hi := make(chan string, 1)
	c1.On("news", func(ev *sio.Event) {
		var v string
		_ = ev.Args.Decode(&v)
		hi <- v
	})
	require.NoError(t, u.s.Emit("emit", "/", c1.ID(), "news", "from the UI"))
	select {
	case v := <-hi:
		assert.Equal(t, "from the UI", v)
	case <-time.After(waitFor):
		t.Fatal("the UI's emit did not arrive")
	}

	// A disconnection from the UI.
	gone := make(chan sio.Reason, 1)
	c1.OnDisconnect(func(reason sio.Reason) { gone <- reason })
	require.NoError(t, u.s.Emit("_disconnect", "/", false, c1.ID()))
	disc := u.nextWhere("socket_disconnected", func(a sio.Args) bool { return decodeArg[string](t, a, 1) == id1 })
	assert.Equal(t, "server namespace disconnect", decodeArg[string](t, disc, 2))
	select {
	case r := <-gone:
		assert.Equal(t, sio.ReasonServerDisconnect, r)
	case <-time.After(waitFor):
		t.Fatal("the client was not disconnected")
	}

	// A new socket is reported.
	c3, err := e.dial("/", nil)
	require.NoError(t, err)
	conn := u.nextWhere("socket_connected", func(a sio.Args) bool { return decodeArg[sockJSON](t, a, 0).ID == c3.ID() })
	assert.Equal(t, "/", decodeArg[sockJSON](t, conn, 0).Nsp)

	// An action on a namespace the server does not have creates none.
	require.NoError(t, u.s.Emit("join", "/nowhere", "r"))
	require.NoError(t, u.s.Emit("join", "/", "after")) // every socket of /
	u.nextWhere("room_joined", func(a sio.Args) bool { return decodeArg[string](t, a, 1) == "after" })
	assert.Nil(t, e.admin.namespace("/nowhere"))
}

func TestStats(t *testing.T) {
	e := newEnv(t, &Options{NoAuth: true})
	_, err := e.dial("/", nil)
	require.NoError(t, err)
	u, err := e.ui(nil)
	require.NoError(t, err)
	seen := map[string]bool{}
	u.nextWhere("server_stats", func(a sio.Args) bool {
		var st struct {
			ClientsCount     int               `json:"clientsCount"`
			AggregatedEvents []aggregatedEvent `json:"aggregatedEvents"`
		}
		require.NoError(t, json.Unmarshal(a.Raw(0), &st))
		for _, ev := range st.AggregatedEvents {
			seen[ev.Type] = true
			assert.Zero(t, ev.Timestamp%1000, "whole seconds")
		}
		return st.ClientsCount == 2 && seen["rawConnection"] && seen["bytesIn"] && seen["bytesOut"] && seen["packetsIn"] && seen["packetsOut"]
	})
}

func TestReadOnly(t *testing.T) {
	o := basicOpts(t)
	o.ReadOnly = true
	e := newEnv(t, o)
	got := make(chan *server.Socket, 1)
	e.srv.OnConnection(func(s *server.Socket) { got <- s })
	c, err := e.dial("/", nil)
	require.NoError(t, err)
	s := <-got
	u, err := e.ui(login)
	require.NoError(t, err)
	cfg := decodeArg[map[string][]string](t, u.next("config"), 0)
	assert.Equal(t, []string{"AGGREGATED_EVENTS", "ALL_EVENTS"}, cfg["supportedFeatures"])
	require.NoError(t, u.s.Emit("join", "/", "ro", c.ID()))
	require.NoError(t, u.s.Emit("_disconnect", "/", true, c.ID()))
	// The client's next event is handled after the UI's actions would have
	// been (one handler queue per connection on the admin side is not
	// shared with it, so wait for the event to be reported instead).
	require.NoError(t, c.Emit("ping"))
	u.next("event_received")
	assert.NotContains(t, s.Rooms(), "ro")
	assert.True(t, s.Connected())
}

func TestProductionMode(t *testing.T) {
	o := basicOpts(t)
	o.Mode = ModeProduction
	o.ServerID = "node-1"
	o.NamespaceName = "/ops"
	e := newEnv(t, o)
	opts := &client.Options{Transport: native.New(nil), DisableReconnection: true}
	opts.Auth = login
	s, err := client.New(e.url+"/ops", opts)
	require.NoError(t, err)
	u := &ui{t: t, s: s, events: make(chan event, 1024)}
	s.OnAny(func(ev *sio.Event) { u.events <- event{ev.Name, ev.Args} })
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, s.Connect(ctx))
	defer s.Disconnect()

	cfg := decodeArg[map[string][]string](t, u.next("config"), 0)
	assert.Equal(t, []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"}, cfg["supportedFeatures"])
	_, err = e.dial("/", nil)
	require.NoError(t, err)
	st := decodeArg[map[string]any](t, u.nextWhere("server_stats", func(a sio.Args) bool {
		return strings.Contains(string(a.Raw(0)), `{"name":"/","socketsCount":1}`)
	}), 0)
	assert.Equal(t, "node-1", st["serverId"])
	u.none("all_sockets")
	u.none("socket_connected")
}
