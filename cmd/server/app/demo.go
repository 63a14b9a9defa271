package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/web/chatapi"
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
// The chat protocol, all on the main namespace (its events and payloads
// are declared in web/chatapi, shared with the web client):
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
//   - users {room, users} goes to the room's sockets after its membership
//     changed (a joining socket also gets the list in its ack or joined
//     event).
//
// A name already used in the room by another socket gets a suffix (" 2",
// " 3"...): the ack and joined event carry the name actually given.
//
// time is in milliseconds since the Unix epoch. users is the sorted list of
// the names of the room's sockets (a name appears once per socket).
//
// Several demo processes on one Redis (NewDemoAdapter with the Redis
// adapter) serve one chat: messages reach the room's sockets on every node,
// users lists every node's sockets (FetchSockets), and the nodes keep each
// other's history with server-side events. A node's sockets get their
// users lists from that node: when membership changes on any node, every
// node fetches the list again and sends it to its own sockets, so that the
// last list each socket gets is the room's current one. A join's ack lists
// the users this node knows at once (its own sockets); the list of the
// whole cluster follows in a users event.
type Demo struct {
	IO *server.Server

	mux    *http.ServeMux
	logger *slog.Logger

	// mu orders every change of the rooms with the emits that report it, so
	// that a socket joining a room gets its history and then exactly the
	// messages that follow. It is never held while waiting for other nodes.
	mu    sync.Mutex
	rooms map[string]*demoRoom

	// Users lists to send again: rooms whose membership changed. One
	// goroutine at a time (running) sends them; wg waits for it.
	pmu     sync.Mutex
	dirty   map[string]bool
	running bool
	closed  bool
	wg      sync.WaitGroup
	ctx     context.Context // ends at Shutdown: stops waiting for other nodes
	cancel  context.CancelFunc
}

// Server-side events between the demo's nodes (namespace "/").
const (
	// evUsers (room): the membership of room changed on the sender.
	evUsers = "demo:users"
	// evChat (room, message): a chat message, for the others' histories.
	evChat = "demo:chat"
	// evHistory (room), acked with the sender's history of room (a node
	// that gets its first member of a room asks the others).
	evHistory = "demo:history"
)

// Bounds of the waits on other nodes.
const (
	// demoHistoryWait bounds the wait for the other nodes' history when a
	// node gets its first member of a room.
	demoHistoryWait = 2 * time.Second
	// demoFetchWait bounds a fetch of a room's users on every node.
	demoFetchWait = 5 * time.Second
)

// demoRoom is the state of one chat room on this node.
type demoRoom struct {
	members map[*server.Socket]string // this node's sockets → name
	history []demoMessage             // oldest first, at most HistorySize
}

// The payloads, shared with the web client (web/chatapi).
type (
	demoMessage = chatapi.Message
	joinRequest = chatapi.JoinRequest
	joinResult  = chatapi.JoinResult
	sendResult  = chatapi.SendResult
)

// demoMember is a socket's state, kept with SetData as a value (never
// changed in place: the adapter may read it at any time). Its fields are
// exported so that FetchSockets shows them on the other nodes.
type demoMember struct {
	Name string `json:"name"`
	Room string `json:"room"`
}

// NewDemo builds the demo. webDir is the folder of the web app ("" finds
// web/ of this module). It builds web/main.wasm first when it is missing or
// stale (webassets.Handler, which logs the build and its duration), which
// needs the go command; ctx cancels that build.
func NewDemo(ctx context.Context, logger *slog.Logger, webDir string) (*Demo, error) {
	return NewDemoAdapter(ctx, logger, webDir, nil)
}

// NewDemoAdapter is NewDemo on the adapter made by adapter (nil: the
// in-memory adapter). With the Redis adapter, the demo processes sharing a
// Redis server serve one chat.
func NewDemoAdapter(ctx context.Context, logger *slog.Logger, webDir string, adapter server.AdapterFactory) (*Demo, error) {
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
	// Handler builds main.wasm first when it is stale, and logs it.
	web, err := webassets.Handler(ctx, webDir, logger)
	if err != nil {
		return nil, err
	}
	d := &Demo{
		IO:     server.New(&server.Options{EngineOptions: server.EngineOptions{Logger: logger, MaxHTTPBufferSize: 1e6}, Adapter: adapter}),
		logger: logger,
		rooms:  make(map[string]*demoRoom),
		mux:    http.NewServeMux(),
		dirty:  make(map[string]bool),
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.IO.OnConnection(d.onConnection)
	d.IO.Sockets().OnServerSideEmit(d.onServerSideEmit)
	d.mux.Handle("/socket.io/", d.IO)
	d.mux.Handle("/", web)
	return d, nil
}

// Handler returns the demo's HTTP handler.
func (d *Demo) Handler() http.Handler { return d.mux }

// Shutdown shuts the demo down gracefully.
func (d *Demo) Shutdown(ctx context.Context) error {
	err := d.IO.Shutdown(ctx)
	d.pmu.Lock()
	d.closed = true
	d.pmu.Unlock()
	d.cancel()
	d.wg.Wait()
	return err
}

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

// Users returns the sorted names of the members of room, on every node of
// the cluster. When the other nodes do not answer in time it returns this
// node's members only.
func (d *Demo) Users(room string) []string {
	ctx, cancel := context.WithTimeout(d.ctx, demoFetchWait)
	defer cancel()
	users, err := d.fetchUsers(ctx, room)
	if err != nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.usersLocked(room)
	}
	return users
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
	s.SetData(demoMember{})
	var auth joinRequest
	if err := s.Handshake().DecodeAuth(&auth); err == nil && (auth.Name != "" || auth.Room != "") {
		if res := d.join(s, auth); res.OK {
			_ = chatapi.Joined.Emit(s, res)
		}
		d.mu.Unlock()
	}
	s.On(chatapi.Join.Name(), func(e *sio.Event) {
		var req joinRequest
		if err := e.Args.Decode(&req); err != nil {
			_ = e.Ack(joinResult{Error: "bad join payload"})
			return
		}
		res := d.join(s, req)
		// Acked under the lock: the history in the ack is followed by
		// exactly the messages relayed after it.
		_ = e.Ack(res)
		d.mu.Unlock()
	})
	s.On(chatapi.Leave.Name(), func(e *sio.Event) {
		d.mu.Lock()
		d.leaveLocked(s)
		d.mu.Unlock()
		_ = e.Ack(sendResult{OK: true})
	})
	s.On(chatapi.Send.Name(), func(e *sio.Event) {
		var req chatapi.SendRequest
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
		r := d.rooms[m.Room]
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
		msg := demoMessage{ID: req.ID, From: m.Name, Text: text, Time: time.Now().UnixMilli()}
		if msg.ID == "" {
			msg.ID = s.ID() + "-" + fmt.Sprint(msg.Time)
		}
		r.addHistory(msg)
		_ = chatapi.Chat.Emit(s.To(m.Room), msg)
		// The other nodes keep it in their history of the room, for
		// sockets that join there.
		if err := d.IO.Sockets().ServerSideEmit(d.ctx, evChat, m.Room, msg); err != nil {
			d.logger.Debug("demo: sharing a message with the other nodes", "err", err)
		}
		_ = e.Ack(sendResult{OK: true, ID: msg.ID, Time: msg.Time})
	})
	s.On(chatapi.SetTyping.Name(), func(e *sio.Event) {
		var req chatapi.TypingRequest
		if err := e.Args.Decode(&req); err != nil {
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if m := member(s); m.Room != "" {
			_ = chatapi.Typing.Emit(s.To(m.Room), chatapi.TypingNews{From: m.Name, Typing: req.Typing})
		}
	})
	s.On(chatapi.SendImage.Name(), func(e *sio.Event) {
		var req chatapi.ImageRequest
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
		if m.Room == "" {
			_ = e.Ack(sendResult{ID: req.ID, Error: "join a room first"})
			return
		}
		now := time.Now().UnixMilli()
		_ = chatapi.Image.Emit(s.To(m.Room), chatapi.ImageMessage{
			ID: req.ID, From: m.Name, Mime: req.Mime, Data: req.Data, Time: now,
		})
		_ = e.Ack(sendResult{OK: true, ID: req.ID, Time: now})
	})
	s.On(chatapi.RTT.Name(), func(e *sio.Event) { _ = e.Ack(time.Now().UnixMilli()) })
	s.OnDisconnecting(func(sio.Reason) {
		d.mu.Lock()
		d.leaveLocked(s)
		d.mu.Unlock()
	})
}

// member returns the demo state of s.
func member(s *server.Socket) demoMember {
	m, _ := s.Data().(demoMember)
	return m
}

// memberOf returns the demo state in the data of a socket returned by
// FetchSockets: a demoMember for this node's sockets, its JSON decoded
// (map[string]any or the like) for the other nodes' sockets.
func memberOf(data any) demoMember {
	if m, ok := data.(demoMember); ok {
		return m
	}
	var m demoMember
	if b, err := json.Marshal(data); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// join validates req, makes sure the node has the room's history, then
// moves s to the room. It returns with d.mu held, so that the caller
// sends the result before any message that follows it.
func (d *Demo) join(s *server.Socket, req joinRequest) joinResult {
	name, room := strings.TrimSpace(req.Name), strings.TrimSpace(req.Room)
	if room == "" {
		room = "lobby"
	}
	var bad string
	switch {
	case name == "" || utf8.RuneCountInString(name) > MaxNameLen || !utf8.ValidString(name):
		bad = fmt.Sprintf("a name has 1 to %d characters", MaxNameLen)
	case utf8.RuneCountInString(room) > MaxRoomLen || !utf8.ValidString(room):
		bad = fmt.Sprintf("a room has at most %d characters", MaxRoomLen)
	case room == s.ID():
		bad = "reserved room name"
	}
	if bad != "" {
		d.mu.Lock()
		return joinResult{Error: bad}
	}
	d.pullHistory(room)
	// The names taken on the other nodes; this node's own are checked
	// under the lock. A name taken meanwhile elsewhere may still slip
	// through: nodes do not lock each other.
	ctx, cancel := context.WithTimeout(d.ctx, demoFetchWait)
	taken, err := d.fetchNames(ctx, room, s.ID())
	cancel()
	if err != nil {
		d.logger.Debug("demo: fetching a room's names", "room", room, "err", err)
	}
	d.mu.Lock()
	if r := d.rooms[room]; r != nil {
		for other, n := range r.members {
			if other != s {
				taken[n] = true
			}
		}
	}
	return d.joinLocked(s, uniqueName(name, taken), room)
}

// uniqueName returns name, or name with the smallest suffix " 2", " 3"...
// that no one in taken has, shortened to fit MaxNameLen: two people never
// show under the same name (and both as "me" on their own pages).
func uniqueName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	for i := 2; ; i++ {
		suffix := " " + strconv.Itoa(i)
		base := []rune(name)
		if max := MaxNameLen - len(suffix); len(base) > max {
			base = base[:max]
		}
		if n := string(base) + suffix; !taken[n] {
			return n
		}
	}
}

// fetchNames returns the names used in room by sockets other than self,
// on every node.
func (d *Demo) fetchNames(ctx context.Context, room, self string) (map[string]bool, error) {
	taken := map[string]bool{}
	socks, err := d.IO.Sockets().In(room).FetchSockets(ctx)
	for _, rs := range socks {
		if m := memberOf(rs.Data()); rs.ID() != self && m.Room == room && m.Name != "" {
			taken[m.Name] = true
		}
	}
	return taken, err
}

// pullHistory asks the other nodes for their history of room when this
// node has no member in it yet (it then knows no message of the room).
// The room's state is created first, so that the messages shared while
// waiting are kept too.
func (d *Demo) pullHistory(room string) {
	d.mu.Lock()
	r := d.rooms[room]
	if r == nil {
		r = &demoRoom{members: map[*server.Socket]string{}}
		d.rooms[room] = r
	}
	need := len(r.members) == 0
	d.mu.Unlock()
	if !need {
		return
	}
	ctx, cancel := context.WithTimeout(d.ctx, demoHistoryWait)
	defer cancel()
	replies, err := d.IO.Sockets().ServerSideEmitWithAck(ctx, evHistory, room)
	if err != nil {
		d.logger.Debug("demo: asking the other nodes for a room's history", "room", room, "err", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r = d.rooms[room]
	if r == nil { // left by its last member meanwhile
		r = &demoRoom{members: map[*server.Socket]string{}}
		d.rooms[room] = r
	}
	for _, reply := range replies {
		var msgs []demoMessage
		if reply.Decode(&msgs) == nil {
			for _, m := range msgs {
				r.addHistory(m)
			}
		}
	}
}

// addHistory adds m to the room's history unless it has it already,
// keeping the history in time order and at most HistorySize long.
func (r *demoRoom) addHistory(m demoMessage) {
	if m.ID == "" || slices.ContainsFunc(r.history, func(h demoMessage) bool { return h.ID == m.ID }) {
		return
	}
	i := len(r.history)
	for i > 0 && r.history[i-1].Time > m.Time {
		i--
	}
	r.history = slices.Insert(r.history, i, m)
	if len(r.history) > HistorySize {
		r.history = slices.Delete(r.history, 0, len(r.history)-HistorySize)
	}
}

// onServerSideEmit handles the other nodes' events.
func (d *Demo) onServerSideEmit(e *sio.Event) {
	var room string
	if e.Args.Len() == 0 || e.Args[0].Decode(&room) != nil {
		return
	}
	switch e.Name {
	case evUsers:
		d.usersChanged(room, false)
	case evChat:
		var m demoMessage
		if e.Args.Len() < 2 || e.Args[1].Decode(&m) != nil {
			return
		}
		d.mu.Lock()
		// Kept only where the room has members (or is being joined):
		// a node that gets its first member asks for the history.
		if r := d.rooms[room]; r != nil {
			r.addHistory(m)
		}
		d.mu.Unlock()
	case evHistory:
		d.mu.Lock()
		history := []demoMessage{}
		if r := d.rooms[room]; r != nil {
			history = slices.Clone(r.history)
		}
		d.mu.Unlock()
		_ = e.Ack(history)
	}
}

// usersChanged marks room's users list to be sent again to this node's
// sockets, and, when the change happened here (local), tells the other
// nodes to do the same.
func (d *Demo) usersChanged(room string, local bool) {
	if local {
		if err := d.IO.Sockets().ServerSideEmit(d.ctx, evUsers, room); err != nil {
			d.logger.Debug("demo: telling the other nodes of a membership change", "room", room, "err", err)
		}
	}
	d.pmu.Lock()
	defer d.pmu.Unlock()
	if d.closed {
		return
	}
	d.dirty[room] = true
	if d.running {
		return
	}
	d.running = true
	d.wg.Add(1)
	go d.sendUsers()
}

// sendUsers sends the users list of every marked room to this node's
// sockets in it, until no room is marked. Lists are fetched after the
// change that marked them, and sent in order, so the last list a socket
// gets is its room's current one.
func (d *Demo) sendUsers() {
	defer d.wg.Done()
	for {
		d.pmu.Lock()
		if len(d.dirty) == 0 || d.closed {
			d.running = false
			d.pmu.Unlock()
			return
		}
		rooms := make([]string, 0, len(d.dirty))
		for room := range d.dirty {
			rooms = append(rooms, room)
		}
		clear(d.dirty)
		d.pmu.Unlock()
		slices.Sort(rooms)
		for _, room := range rooms {
			ctx, cancel := context.WithTimeout(d.ctx, demoFetchWait)
			users, err := d.fetchUsers(ctx, room)
			cancel()
			if err != nil {
				d.logger.Debug("demo: fetching a room's users", "room", room, "err", err)
				continue
			}
			// Under d.mu: a socket that just joined gets its join's ack
			// (sent under d.mu) first, then the lists; clients ignore lists
			// of a room they are not in yet. Only this node's sockets are
			// reached: no wait on other nodes under the lock.
			d.mu.Lock()
			_ = chatapi.Users.Emit(d.IO.Sockets().To(room).Local(), chatapi.UserList{Room: room, Users: users})
			d.mu.Unlock()
		}
	}
}

// fetchUsers returns the sorted names of room's members on every node.
func (d *Demo) fetchUsers(ctx context.Context, room string) ([]string, error) {
	socks, err := d.IO.Sockets().In(room).FetchSockets(ctx)
	if err != nil {
		return nil, err
	}
	users := make([]string, 0, len(socks))
	for _, rs := range socks {
		// The data and the room are set together; a socket between two
		// rooms shows in neither.
		if m := memberOf(rs.Data()); m.Room == room && m.Name != "" {
			users = append(users, m.Name)
		}
	}
	slices.Sort(users)
	return users, nil
}

// joinLocked moves s to room under name, both valid. d.mu is held.
func (d *Demo) joinLocked(s *server.Socket, name, room string) joinResult {
	m := member(s)
	if m.Room != room {
		d.leaveLocked(s)
	}
	r := d.rooms[room]
	if r == nil {
		r = &demoRoom{members: map[*server.Socket]string{}}
		d.rooms[room] = r
	}
	changed := r.members[s] != name
	r.members[s] = name
	s.SetData(demoMember{Name: name, Room: room})
	s.Join(room)
	if changed {
		d.usersChanged(room, true)
	}
	return joinResult{OK: true, Room: room, Name: name, Users: d.usersLocked(room), History: slices.Clone(r.history)}
}

// leaveLocked removes s from its room, if any. d.mu is held.
func (d *Demo) leaveLocked(s *server.Socket) {
	m := member(s)
	if m.Room == "" {
		return
	}
	s.SetData(demoMember{})
	s.Leave(m.Room)
	r := d.rooms[m.Room]
	if r == nil {
		return
	}
	delete(r.members, s)
	if len(r.members) == 0 {
		delete(d.rooms, m.Room) // this node's history goes with its last member
	}
	d.usersChanged(m.Room, true)
}

// usersLocked returns the sorted names of room's members on this node.
// d.mu is held.
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
