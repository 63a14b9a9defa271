package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/web/webassets"
)

// Limits of the demo chat.
const (
	// MaxImageBytes is the largest image the demo relays.
	MaxImageBytes = 256 << 10
	// MaxNameLen and MaxRoomLen bound names and rooms, in characters.
	MaxNameLen = 32
	MaxRoomLen = 32
	// MaxTextLen bounds a chat message, in characters.
	MaxTextLen = 2000
	// HistorySize is the number of chat messages a room remembers and sends
	// to whoever joins it.
	HistorySize = 50
)

// Demo is the demo chat server: the web app (web/ with the Go client
// compiled to wasm) on "/" and the Socket.IO endpoint on "/socket.io/".
//
// The chat protocol, all on the main namespace:
//
//   - join {name, room}, acked with {ok, error?, room, name, users, history}.
//     A socket is in at most one room; joining another leaves the first.
//     The CONNECT auth payload may carry the same {name, room}: the socket
//     then joins on connection, before any of its events is handled, and gets
//     a joined event with what the ack would hold. Clients use it to rejoin
//     when they reconnect.
//   - leave, acked with {ok}.
//   - chat {id?, text}, acked with {ok, error?, id, time}; the room (sender
//     excluded) gets chat {id, from, text, time}. A message whose id the room
//     already has is acked again but not relayed twice.
//   - typing {typing}: the room (sender excluded) gets typing {from, typing}.
//   - image {id?, mime, data} (binary, at most MaxImageBytes, mime image/*),
//     acked like chat; the room (sender excluded) gets image {id, from, mime,
//     data, time}.
//   - rtt: acked at once with the server's time, for clients to measure
//     the round trip.
//   - users {room, users} goes to the room whenever its membership changes
//     (a joining socket gets the list in its ack or joined event instead).
//
// time is in milliseconds since the Unix epoch. users is the sorted list of
// the names of the room's sockets (a name appears once per socket).
type Demo struct {
	IO *server.Server

	mux    *http.ServeMux
	logger *slog.Logger

	// mu orders every change of the rooms with the emits that report it, so
	// that a socket joining a room gets its history and then exactly the
	// messages that follow.
	mu    sync.Mutex
	rooms map[string]*demoRoom
}

// demoRoom is the state of one chat room.
type demoRoom struct {
	members map[*server.Socket]string // socket → name
	history []demoMessage             // oldest first, at most HistorySize
}

// demoMessage is a chat message as sent to clients.
type demoMessage struct {
	ID   string `json:"id"`
	From string `json:"from"`
	Text string `json:"text"`
	Time int64  `json:"time"`
}

// demoMember is a socket's state, kept with SetData.
type demoMember struct {
	name, room string
}

// joinRequest is the payload of join and the auth payload.
type joinRequest struct {
	Name string `json:"name"`
	Room string `json:"room"`
}

// joinResult is the ack of join and the payload of joined.
type joinResult struct {
	OK      bool          `json:"ok"`
	Error   string        `json:"error,omitempty"`
	Room    string        `json:"room,omitempty"`
	Name    string        `json:"name,omitempty"`
	Users   []string      `json:"users"`
	History []demoMessage `json:"history"`
}

// sendResult is the ack of chat and image.
type sendResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	ID    string `json:"id,omitempty"`
	Time  int64  `json:"time,omitempty"`
}

// NewDemo builds the demo. webDir is the folder of the web app ("" finds
// web/ of this module). It builds web/main.wasm first when it is missing or
// stale (webassets.EnsureWASM), which needs the go command; ctx cancels
// that build.
func NewDemo(ctx context.Context, logger *slog.Logger, webDir string) (*Demo, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if webDir == "" {
		dir, err := findWebDir()
		if err != nil {
			return nil, err
		}
		webDir = dir
	}
	if err := webassets.EnsureWASM(ctx, webDir); err != nil {
		return nil, err
	}
	web, err := webassets.Handler(ctx, webDir, logger)
	if err != nil {
		return nil, err
	}
	d := &Demo{
		IO:     server.New(&server.Options{Logger: logger, MaxHTTPBufferSize: 1e6}),
		logger: logger,
		rooms:  make(map[string]*demoRoom),
		mux:    http.NewServeMux(),
	}
	d.IO.OnConnection(d.onConnection)
	d.mux.Handle("/socket.io/", d.IO)
	d.mux.Handle("/", web)
	return d, nil
}

// Handler returns the demo's HTTP handler.
func (d *Demo) Handler() http.Handler { return d.mux }

// Shutdown shuts the demo down gracefully.
func (d *Demo) Shutdown(ctx context.Context) error { return d.IO.Shutdown(ctx) }

// DropConnections closes the Engine.IO connection of every socket, as a
// network failure would: clients see "transport close" and reconnect.
func (d *Demo) DropConnections() int {
	seen := map[string]bool{}
	eng := d.IO.Engine()
	for _, id := range d.IO.Sockets().Adapter().Sockets(nil) {
		s := d.IO.Sockets().Socket(id)
		if s == nil || seen[s.ConnID()] {
			continue
		}
		seen[s.ConnID()] = true
		if es := eng.Socket(s.ConnID()); es != nil {
			es.Close()
		}
	}
	return len(seen)
}

// Users returns the sorted names of the members of room.
func (d *Demo) Users(room string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.usersLocked(room)
}

// findWebDir finds web/ of this module: first from the working directory
// up to the nearest go.mod, then from this source file's location.
func findWebDir() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for dir := start; ; {
			if isFile(filepath.Join(dir, "go.mod")) {
				if web := filepath.Join(dir, "web"); isFile(filepath.Join(web, "index.html")) && isFile(filepath.Join(web, "main.go")) {
					return web, nil
				}
				break // the nearest module has no web app: try the next start
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("demo: cannot find the web/ folder of the module (run from inside the module, or pass -web)")
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

// onConnection sets up a socket: it joins the room of its auth payload, if
// any, then handles the chat events.
func (d *Demo) onConnection(s *server.Socket) {
	s.SetData(&demoMember{})
	var auth joinRequest
	if err := s.Handshake().DecodeAuth(&auth); err == nil && (auth.Name != "" || auth.Room != "") {
		d.mu.Lock()
		res := d.joinLocked(s, auth)
		if res.OK {
			_ = s.Emit("joined", res)
		}
		d.mu.Unlock()
	}
	s.On("join", func(e *sio.Event) {
		var req joinRequest
		if err := e.Args.Decode(&req); err != nil {
			_ = e.Ack(joinResult{Error: "bad join payload"})
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		// Acked under the lock: the history in the ack is followed by
		// exactly the messages relayed after it.
		_ = e.Ack(d.joinLocked(s, req))
	})
	s.On("leave", func(e *sio.Event) {
		d.mu.Lock()
		d.leaveLocked(s)
		d.mu.Unlock()
		_ = e.Ack(sendResult{OK: true})
	})
	s.On("chat", func(e *sio.Event) {
		var req struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		if err := e.Args.Decode(&req); err != nil {
			_ = e.Ack(sendResult{Error: "bad chat payload"})
			return
		}
		text := strings.TrimSpace(req.Text)
		if text == "" || utf8.RuneCountInString(text) > MaxTextLen || !utf8.ValidString(text) {
			_ = e.Ack(sendResult{ID: req.ID, Error: fmt.Sprintf("a message has 1 to %d characters", MaxTextLen)})
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		m := member(s)
		r := d.rooms[m.room]
		if r == nil {
			_ = e.Ack(sendResult{ID: req.ID, Error: "join a room first"})
			return
		}
		if req.ID != "" {
			if i := slices.IndexFunc(r.history, func(h demoMessage) bool { return h.ID == req.ID }); i >= 0 {
				_ = e.Ack(sendResult{OK: true, ID: req.ID, Time: r.history[i].Time}) // a resend
				return
			}
		}
		msg := demoMessage{ID: req.ID, From: m.name, Text: text, Time: time.Now().UnixMilli()}
		if msg.ID == "" {
			msg.ID = s.ID() + "-" + fmt.Sprint(msg.Time)
		}
		r.history = append(r.history, msg)
		if len(r.history) > HistorySize {
			r.history = slices.Delete(r.history, 0, len(r.history)-HistorySize)
		}
		_ = s.To(m.room).Emit("chat", msg)
		_ = e.Ack(sendResult{OK: true, ID: msg.ID, Time: msg.Time})
	})
	s.On("typing", func(e *sio.Event) {
		var req struct {
			Typing bool `json:"typing"`
		}
		if err := e.Args.Decode(&req); err != nil {
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if m := member(s); m.room != "" {
			_ = s.To(m.room).Emit("typing", map[string]any{"from": m.name, "typing": req.Typing})
		}
	})
	s.On("image", func(e *sio.Event) {
		var req struct {
			ID   string `json:"id"`
			Mime string `json:"mime"`
			Data []byte `json:"data"`
		}
		if err := e.Args.Decode(&req); err != nil {
			_ = e.Ack(sendResult{Error: "bad image payload"})
			return
		}
		switch {
		case len(req.Data) == 0:
			_ = e.Ack(sendResult{ID: req.ID, Error: "empty image"})
			return
		case len(req.Data) > MaxImageBytes:
			_ = e.Ack(sendResult{ID: req.ID, Error: fmt.Sprintf("image too large (%d bytes, at most %d)", len(req.Data), MaxImageBytes)})
			return
		case !strings.HasPrefix(req.Mime, "image/") || len(req.Mime) > 64:
			_ = e.Ack(sendResult{ID: req.ID, Error: "not an image type"})
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		m := member(s)
		if m.room == "" {
			_ = e.Ack(sendResult{ID: req.ID, Error: "join a room first"})
			return
		}
		now := time.Now().UnixMilli()
		_ = s.To(m.room).Emit("image", map[string]any{
			"id": req.ID, "from": m.name, "mime": req.Mime, "data": req.Data, "time": now,
		})
		_ = e.Ack(sendResult{OK: true, ID: req.ID, Time: now})
	})
	s.On("rtt", func(e *sio.Event) { _ = e.Ack(time.Now().UnixMilli()) })
	s.OnDisconnecting(func(string) {
		d.mu.Lock()
		d.leaveLocked(s)
		d.mu.Unlock()
	})
}

// member returns the demo state of s.
func member(s *server.Socket) *demoMember {
	m, _ := s.Data().(*demoMember)
	if m == nil {
		return &demoMember{}
	}
	return m
}

// joinLocked moves s to the room of req. d.mu is held.
func (d *Demo) joinLocked(s *server.Socket, req joinRequest) joinResult {
	name, room := strings.TrimSpace(req.Name), strings.TrimSpace(req.Room)
	if room == "" {
		room = "lobby"
	}
	switch {
	case name == "" || utf8.RuneCountInString(name) > MaxNameLen || !utf8.ValidString(name):
		return joinResult{Error: fmt.Sprintf("a name has 1 to %d characters", MaxNameLen)}
	case utf8.RuneCountInString(room) > MaxRoomLen || !utf8.ValidString(room):
		return joinResult{Error: fmt.Sprintf("a room has at most %d characters", MaxRoomLen)}
	case room == s.ID():
		return joinResult{Error: "reserved room name"}
	}
	m := member(s)
	if m.room != room {
		d.leaveLocked(s)
	}
	r := d.rooms[room]
	if r == nil {
		r = &demoRoom{members: map[*server.Socket]string{}}
		d.rooms[room] = r
	}
	changed := r.members[s] != name
	r.members[s] = name
	m.name, m.room = name, room
	s.Join(room)
	users := d.usersLocked(room)
	if changed {
		_ = d.IO.To(room).Except(s.ID()).Emit("users", map[string]any{"room": room, "users": users})
	}
	return joinResult{OK: true, Room: room, Name: name, Users: users, History: slices.Clone(r.history)}
}

// leaveLocked removes s from its room, if any. d.mu is held.
func (d *Demo) leaveLocked(s *server.Socket) {
	m := member(s)
	if m.room == "" {
		return
	}
	room := m.room
	m.room = ""
	s.Leave(room)
	r := d.rooms[room]
	if r == nil {
		return
	}
	delete(r.members, s)
	if len(r.members) == 0 {
		delete(d.rooms, room) // the history goes with the last member
		return
	}
	_ = d.IO.To(room).Emit("users", map[string]any{"room": room, "users": d.usersLocked(room)})
}

// usersLocked returns the sorted names of room's members. d.mu is held.
func (d *Demo) usersLocked(room string) []string {
	r := d.rooms[room]
	if r == nil {
		return []string{}
	}
	users := make([]string, 0, len(r.members))
	for _, name := range r.members {
		users = append(users, name)
	}
	slices.Sort(users)
	return users
}
