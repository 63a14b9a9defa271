//go:build js && wasm

// Command web is the browser side of the demo chat, compiled to WebAssembly
// and loaded by index.html: the Go Socket.IO client (sio/client over
// transport/wasm) driving the page through syscall/js.
//
// The page connects at once; the user picks a name and a room, then chats,
// sees who is online and who is typing, and shares small images (sent as
// binary). The status bar shows the connection state, the transport in use,
// the round-trip latency and the reconnection attempts.
//
// Query parameters: transports=polling, websocket or polling,websocket
// (the default: polling then an upgrade); name and room prefill the form and
// autojoin=1 joins at once.
//
// Everything that changes the page's state runs on one goroutine (see
// app.loop): client handlers and DOM callbacks post functions to it, so
// they never race and JavaScript callbacks never block. window.demo exposes
// the state and a few actions to tests.
package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/transport/wasm"
	"github.com/gosio/socketio/web/chatapi"
)

const (
	maxImageBytes  = 256 << 10 // the server's limit
	maxMessages    = 500       // kept on the page
	typingIdle     = 2 * time.Second
	typingExpiry   = 5 * time.Second // a peer's indicator without news
	latencyEvery   = 5 * time.Second
	transportCheck = 250 * time.Millisecond
)

// message is a chat line on the page.
type message struct {
	id, from, text   string
	time             int64 // ms since the epoch, 0 while pending
	own              bool
	delivered        bool
	failed           string
	image            bool
	mime             string
	size             int
	blobURL          string // of the image, revoked when the message goes
	li, tick, timeEl js.Value
}

// app is the state of the page, owned by the loop goroutine.
type app struct {
	ui   chan func()
	sock *client.Socket
	mgr  *client.Manager

	// auth is what the next (re)connection sends, read by AuthFunc on the
	// client's goroutine.
	authMu   sync.Mutex
	authName string
	authRoom string

	idPrefix string
	seq      atomic.Int64

	state      string // connecting, connected, disconnected, reconnecting
	sid        string // the socket's id while connected
	reason     string
	transport  string
	latency    int // ms, -1 unknown
	attempts   int // reconnection attempts since the last connection
	reconnects int // successful reconnections
	lastError  string
	// connError describes a failed connection attempt for a person; it is
	// shown until the socket connects again.
	connError string
	// started is false when the client could not be created (bad query
	// parameters): the page then only shows why.
	started bool

	name, room string
	joined     bool
	joining    bool
	users      []string
	// usersFresh is false from a disconnection until the server sends the
	// room's list again: meanwhile nobody's presence is known.
	usersFresh bool
	messages   []*message
	byID       map[string]*message
	typing     map[string]*time.Timer
	outTyping  bool
	typingStop *time.Timer
	typingSent time.Time

	version  int
	snapshot js.Value // JSON text, see publish

	// elements
	elState, elTransport, elLatency, elAttempts       js.Value
	elJoinForm, elName, elRoom, elJoinError, elChat   js.Value
	elRoomName, elUsers, elMessages, elTyping, elText js.Value
	elSendForm, elImage, elError, elLeave             js.Value
}

func main() {
	a := &app{
		ui:       make(chan func(), 4096),
		latency:  -1,
		state:    "connecting",
		byID:     map[string]*message{},
		typing:   map[string]*time.Timer{},
		snapshot: js.ValueOf(`{"loaded":false}`),
	}
	a.idPrefix = strconv.FormatInt(time.Now().UnixNano()%1e12, 36) + strconv.FormatInt(int64(global.Get("Math").Call("random").Float()*1e9), 36)
	a.bindDOM()
	a.exposeHooks()

	params := global.Get("URLSearchParams").New(global.Get("location").Get("search"))
	param := func(k string) string {
		if v := params.Call("get", k); !v.IsNull() {
			return v.String()
		}
		return ""
	}
	if err := a.connect(param("transports")); err != nil {
		a.state = "not started"
		a.setError("Cannot start the client: " + err.Error())
	} else {
		a.started = true
	}
	if n := param("name"); n != "" {
		a.elName.Set("value", n)
	}
	if r := param("room"); r != "" {
		a.elRoom.Set("value", r)
	}
	if param("autojoin") == "1" {
		a.post(func() { a.join(a.elName.Get("value").String(), a.elRoom.Get("value").String()) })
	}
	setText(byID("status"), "wasm loaded")
	go a.tickers()
	a.loop()
}

// loop runs the posted functions one at a time and republishes the state.
func (a *app) loop() {
	a.publish()
	for f := range a.ui {
		f()
		for len(a.ui) > 0 { // a batch, then one publish
			(<-a.ui)()
		}
		a.render()
		a.publish()
	}
}

// post queues f on the loop without blocking.
func (a *app) post(f func()) {
	select {
	case a.ui <- f:
	default:
		global.Get("console").Call("error", "demo: UI queue full, action dropped")
	}
}

// postWait queues f on the loop, blocking (not from JavaScript callbacks).
func (a *app) postWait(f func()) { a.ui <- f }

// connect creates the client and starts connecting.
func (a *app) connect(transports string) error {
	opts := &client.Options{Transport: wasm.New(nil)}
	switch transports {
	case "polling":
		opts.Transports = []string{client.TransportPolling}
	case "websocket":
		opts.Transports = []string{client.TransportWebSocket}
	case "", "polling,websocket":
	default:
		return errors.New("unknown transports " + strconv.Quote(transports) + " (use polling, websocket or polling,websocket)")
	}
	opts.AuthFunc = func(context.Context) (any, error) {
		a.authMu.Lock()
		defer a.authMu.Unlock()
		if a.authName == "" {
			return map[string]string{}, nil
		}
		return chatapi.JoinRequest{Name: a.authName, Room: a.authRoom}, nil
	}
	origin := global.Get("location").Get("origin").String()
	s, err := client.New(origin+"/", opts)
	if err != nil {
		return err
	}
	a.sock, a.mgr = s, s.Manager()

	s.OnConnect(func() {
		a.postWait(func() {
			if a.state == "reconnecting" || a.reason != "" {
				a.reconnects++
			}
			a.state, a.reason, a.attempts = "connected", "", 0
			a.connError = ""
			a.sid = a.sock.ID()
			a.transport = a.mgr.TransportName()
			a.measureLatency()
		})
	})
	s.OnDisconnect(func(reason sio.Reason) {
		a.postWait(func() {
			a.state, a.reason, a.sid = "disconnected", string(reason), ""
			a.transport = ""
			a.latency = -1
			for name, t := range a.typing {
				t.Stop()
				delete(a.typing, name)
			}
			a.outTyping = false
			a.usersFresh = false
		})
	})
	s.OnConnectError(func(err error) {
		// The error itself (a fetch or WebSocket failure) means little to
		// a person: say what happens, keep the detail for the console.
		global.Get("console").Call("info", "demo: connection attempt failed: "+err.Error())
		// A type assertion, not errors.As, which costs the wasm much size:
		// the client reports a refusal as a bare *ConnectError.
		refused, isRefusal := err.(*client.ConnectError)
		a.postWait(func() {
			if isRefusal {
				a.connError = "The server refused the connection: " + refused.Message
				return
			}
			a.connError = "Cannot reach the server — reconnecting…"
		})
	})
	a.mgr.OnReconnectAttempt(func(n int) {
		a.postWait(func() { a.state, a.attempts = "reconnecting", n })
	})
	a.mgr.OnPing(func() {
		a.postWait(func() { a.transport = a.mgr.TransportName() })
	})

	// The server's events, typed by the declarations shared with it. A
	// payload that does not decode goes to OnError, logged to the console.
	s.OnError(func(err error) { global.Get("console").Call("warn", "demo: "+err.Error()) })
	chatapi.Joined.On(s, func(res chatapi.JoinResult) error {
		a.postWait(func() { a.joinedRoom(res) })
		return nil
	})
	chatapi.Users.On(s, func(u chatapi.UserList) error {
		a.postWait(func() {
			if a.joined && u.Room == a.room {
				a.users, a.usersFresh = u.Users, true
			}
		})
		return nil
	})
	chatapi.Chat.On(s, func(m chatapi.Message) error {
		a.postWait(func() {
			a.stopTyping(m.From)
			a.received(&message{id: m.ID, from: m.From, text: m.Text, time: m.Time})
		})
		return nil
	})
	chatapi.Image.On(s, func(m chatapi.ImageMessage) error {
		a.postWait(func() {
			a.received(&message{id: m.ID, from: m.From, time: m.Time, image: true, mime: m.Mime, size: len(m.Data)})
			a.showImage(a.byID[m.ID], m.Data)
		})
		return nil
	})
	chatapi.Typing.On(s, func(t chatapi.TypingNews) error {
		a.postWait(func() {
			if !t.Typing {
				a.stopTyping(t.From)
				return
			}
			if old := a.typing[t.From]; old != nil {
				old.Stop()
			}
			from := t.From
			a.typing[from] = time.AfterFunc(typingExpiry, func() { a.postWait(func() { a.stopTyping(from) }) })
		})
		return nil
	})
	s.Open()
	return nil
}

// tickers refreshes the transport (an upgrade has no event of its own) and
// measures the latency now and then.
func (a *app) tickers() {
	check := time.NewTicker(transportCheck)
	lat := time.NewTicker(latencyEvery)
	last := ""
	for {
		select {
		case <-check.C:
			if a.mgr == nil { // the client could not start
				continue
			}
			name := a.mgr.TransportName()
			if name == last {
				continue
			}
			last = name
			a.postWait(func() {
				if a.state == "connected" && name != "" && name != a.transport {
					a.transport = name
				}
			})
		case <-lat.C:
			a.postWait(a.measureLatency)
		}
	}
}

// measureLatency times an rtt round trip (dropped when offline).
func (a *app) measureLatency() {
	if a.state != "connected" {
		return
	}
	start := time.Now()
	_ = a.sock.Volatile().Timeout(latencyEvery).EmitWithAckFunc(chatapi.RTT.Name(), func(_ sio.Args, err error) {
		if err != nil {
			return
		}
		ms := int(time.Since(start).Milliseconds())
		a.postWait(func() { a.latency = ms })
	})
}

// join asks the server to join room as name.
func (a *app) join(name, room string) {
	name, room = strings.TrimSpace(name), strings.TrimSpace(room)
	if name == "" {
		setText(a.elJoinError, "Pick a name.")
		return
	}
	if room == "" {
		room = "lobby"
	}
	if !a.started {
		setText(a.elJoinError, "The client is not running: "+a.lastError)
		return
	}
	a.joining = true
	setText(a.elJoinError, "")
	err := a.sock.Timeout(10*time.Second).EmitWithAckFunc(chatapi.Join.Name(), func(args sio.Args, err error) {
		var res chatapi.JoinResult
		if err == nil {
			err = args.Decode(&res)
		}
		a.postWait(func() {
			a.joining = false
			switch {
			case err != nil:
				setText(a.elJoinError, "Could not join: "+err.Error())
			case !res.OK:
				setText(a.elJoinError, res.Error)
			default:
				a.joinedRoom(res)
			}
		})
	}, chatapi.JoinRequest{Name: name, Room: room})
	if err != nil {
		a.joining = false
		setText(a.elJoinError, "Could not join: "+err.Error())
	}
}

// joinedRoom applies a join ack or a joined event: the room, its users and
// its history (messages already on the page are not repeated).
func (a *app) joinedRoom(res chatapi.JoinResult) {
	if !res.OK {
		return
	}
	if res.Room != a.room {
		a.clearMessages()
	}
	a.joined, a.name, a.room, a.users = true, res.Name, res.Room, res.Users
	a.usersFresh = true
	a.authMu.Lock()
	a.authName, a.authRoom = res.Name, res.Room
	a.authMu.Unlock()
	for _, h := range res.History {
		a.received(&message{id: h.ID, from: h.From, text: h.Text, time: h.Time})
	}
}

// leave leaves the room.
func (a *app) leave() {
	if !a.joined || !a.started {
		return
	}
	_ = a.sock.Emit(chatapi.Leave.Name())
	a.authMu.Lock()
	a.authName, a.authRoom = "", ""
	a.authMu.Unlock()
	a.joined, a.room, a.users = false, "", nil
	a.clearMessages()
}

// clearMessages removes every message from the page.
func (a *app) clearMessages() {
	for _, m := range a.messages {
		removeMessage(m)
	}
	a.messages, a.byID = nil, map[string]*message{}
}

// removeMessage removes m's element and releases its image.
func removeMessage(m *message) {
	m.li.Call("remove")
	if m.blobURL != "" {
		global.Get("URL").Call("revokeObjectURL", m.blobURL)
		m.blobURL = ""
	}
}

// nextID returns a new message id (safe from any goroutine).
func (a *app) nextID() string {
	return a.idPrefix + "-" + strconv.FormatInt(a.seq.Add(1), 10)
}

// sendChat shows text as pending and sends it; the ack marks it delivered.
func (a *app) sendChat(id, text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if !a.joined {
		a.setError("Join a room first.")
		return
	}
	a.setTyping(false)
	m := &message{id: id, from: a.name, text: text, own: true}
	a.add(m)
	a.emitWithRetry(m, chatapi.Send.Name(), chatapi.SendRequest{ID: id, Text: text})
}

// sendImage shows an image as pending and sends it as binary.
func (a *app) sendImage(id string, data []byte, mime string) {
	if !a.joined {
		a.setError("Join a room first.")
		return
	}
	if len(data) > maxImageBytes {
		a.setError("Image too large: " + strconv.Itoa(len(data)/1024) + " KiB, at most 256 KiB.")
		return
	}
	if !strings.HasPrefix(mime, "image/") {
		a.setError("Not an image.")
		return
	}
	m := &message{id: id, from: a.name, own: true, image: true, mime: mime, size: len(data)}
	a.add(m)
	a.showImage(m, data)
	a.emitWithRetry(m, chatapi.SendImage.Name(), chatapi.ImageRequest{ID: id, Mime: mime, Data: data})
}

// emitWithRetry emits with an acknowledgement. When the connection is lost
// before the ack, the packet is emitted again: the client buffers it until
// it reconnects, and the server ignores a second copy of a message id.
func (a *app) emitWithRetry(m *message, event string, payload any) {
	var ack func(sio.Args, error)
	ack = func(args sio.Args, err error) {
		var res chatapi.SendResult
		if err == nil {
			err = args.Decode(&res)
		}
		if errors.Is(err, sio.ErrDisconnected) {
			if err := a.sock.EmitWithAckFunc(event, ack, payload); err == nil {
				return
			}
		}
		a.postWait(func() {
			switch {
			case err != nil:
				m.failed = err.Error()
			case !res.OK:
				m.failed = res.Error
			default:
				m.delivered, m.time = true, res.Time
			}
			a.renderTick(m)
		})
	}
	if err := a.sock.EmitWithAckFunc(event, ack, payload); err != nil {
		m.failed = err.Error()
		a.renderTick(m)
	}
}

// setTyping tells the room whether we are typing. While typing goes on,
// the news is repeated before the peers' indicators expire.
func (a *app) setTyping(typing bool) {
	if a.typingStop != nil {
		a.typingStop.Stop()
		a.typingStop = nil
	}
	if typing {
		a.typingStop = time.AfterFunc(typingIdle, func() { a.postWait(func() { a.setTyping(false) }) })
	}
	if !a.joined || a.state != "connected" {
		a.outTyping = false
		return
	}
	if typing == a.outTyping && (!typing || time.Since(a.typingSent) < typingExpiry/2) {
		return
	}
	a.outTyping, a.typingSent = typing, time.Now()
	_ = chatapi.SetTyping.Emit(a.sock.Volatile(), chatapi.TypingRequest{Typing: typing})
}

func (a *app) stopTyping(from string) {
	if t := a.typing[from]; t != nil {
		t.Stop()
		delete(a.typing, from)
	}
}

// received adds a message from the server unless it is already shown.
func (a *app) received(m *message) {
	if a.byID[m.id] != nil {
		return
	}
	m.delivered = true
	a.add(m)
}

// add appends a message to the page.
func (a *app) add(m *message) {
	a.byID[m.id] = m
	a.messages = append(a.messages, m)
	if len(a.messages) > maxMessages {
		old := a.messages[0]
		removeMessage(old)
		delete(a.byID, old.id)
		a.messages = a.messages[1:]
	}
	class := "msg"
	if m.own {
		class += " own"
	}
	li := el("li", class, "")
	li.Get("dataset").Set("id", m.id)
	meta := el("div", "meta", "")
	meta.Call("append", el("span", "from", m.from))
	m.timeEl = el("time", "", "")
	meta.Call("append", m.timeEl)
	li.Call("append", meta)
	if !m.image {
		li.Call("append", el("div", "text", m.text))
	}
	if m.own {
		m.tick = el("span", "tick", "")
		meta.Call("append", m.tick)
	}
	m.li = li
	a.renderTick(m)
	a.elMessages.Call("append", li)
	a.elMessages.Set("scrollTop", a.elMessages.Get("scrollHeight"))
}

// showImage renders data as the image of m.
func (a *app) showImage(m *message, data []byte) {
	if m == nil || m.li.IsUndefined() {
		return
	}
	img := el("img", "image", "")
	img.Set("alt", "image from "+m.from)
	m.blobURL = blobURL(data, m.mime)
	img.Set("src", m.blobURL)
	m.li.Call("append", img)
}

// renderTick shows a message's time and delivery state.
func (a *app) renderTick(m *message) {
	if m.time != 0 {
		setText(m.timeEl, time.UnixMilli(m.time).Format("15:04:05"))
	}
	if !m.own {
		return
	}
	switch {
	case m.failed != "":
		setText(m.tick, "✗")
		m.tick.Set("title", "not delivered: "+m.failed)
		m.tick.Get("dataset").Set("state", "failed")
	case m.delivered:
		setText(m.tick, "✓")
		m.tick.Set("title", "delivered")
		m.tick.Get("dataset").Set("state", "delivered")
	default:
		setText(m.tick, "…")
		m.tick.Set("title", "sending…")
		m.tick.Get("dataset").Set("state", "pending")
	}
}

func (a *app) setError(text string) { a.lastError = text }

// render updates the parts of the page derived from the state.
func (a *app) render() {
	state := a.state
	switch {
	case a.state == "disconnected" && a.reason != "":
		state = "disconnected (" + a.reason + ")"
	case a.state == "reconnecting":
		state = "reconnecting…"
	}
	setText(a.elState, state)
	a.elState.Get("dataset").Set("state", a.state)
	transport := a.transport
	if transport == "" {
		transport = "–"
	}
	setText(a.elTransport, transport)
	if a.latency >= 0 {
		setText(a.elLatency, strconv.Itoa(a.latency)+" ms")
	} else {
		setText(a.elLatency, "–")
	}
	setText(a.elAttempts, strconv.Itoa(a.attempts))
	switch {
	case a.connError != "" && a.lastError != "":
		setText(a.elError, a.connError+" "+a.lastError)
	case a.connError != "":
		setText(a.elError, a.connError)
	default:
		setText(a.elError, a.lastError)
	}

	show(a.elJoinForm, !a.joined)
	show(a.elChat, a.joined)
	a.elJoinForm.Call("querySelector", "button").Set("disabled", a.joining)
	setText(a.elRoomName, a.room)
	clear(a.elUsers)
	// Until the list is refreshed after a disconnection, nobody's presence
	// is known: the dots go grey rather than showing stale green ones.
	presence := "online"
	if !a.usersFresh || a.state != "connected" {
		presence = "unknown"
	}
	a.elUsers.Get("dataset").Set("presence", presence)
	for _, u := range a.users {
		class := ""
		if u == a.name {
			class = "me"
		}
		li := el("li", class, u)
		li.Get("dataset").Set("presence", presence)
		if presence == "unknown" {
			li.Set("title", "presence unknown until reconnected")
		}
		a.elUsers.Call("append", li)
	}
	var typers []string
	for name := range a.typing {
		typers = append(typers, name)
	}
	sortStrings(typers)
	switch len(typers) {
	case 0:
		setText(a.elTyping, "")
	case 1:
		setText(a.elTyping, typers[0]+" is typing…")
	default:
		setText(a.elTyping, strings.Join(typers, ", ")+" are typing…")
	}
}

// publish rebuilds the snapshot window.demo.state() returns: JSON text,
// parsed into a fresh object at each call. encoding/json (linked anyway)
// with a struct is much smaller WebAssembly than js.ValueOf of map literals.
func (a *app) publish() {
	a.version++
	snap := snapshotJSON{
		Loaded: true, Version: a.version,
		State: a.state, ID: a.sid, Reason: a.reason, Transport: a.transport, Latency: a.latency,
		Attempts: a.attempts, Reconnects: a.reconnects, Error: a.lastError, ConnError: a.connError,
		UsersFresh: a.usersFresh && a.state == "connected",
		Joined:     a.joined, Name: a.name, Room: a.room,
		Users:    make([]string, len(a.users)),
		Messages: make([]messageJSON, len(a.messages)),
		Typing:   make([]string, 0, len(a.typing)),
	}
	copy(snap.Users, a.users)
	for i, m := range a.messages {
		snap.Messages[i] = messageJSON{
			ID: m.id, From: m.from, Text: m.text, Own: m.own, Delivered: m.delivered,
			Failed: m.failed, Image: m.image, Mime: m.mime, Size: m.size, Time: m.time,
		}
	}
	for name := range a.typing {
		snap.Typing = append(snap.Typing, name)
	}
	// The socket.io encoder (already in the binary, unlike encoding/json's
	// Marshal) writes [snap]: the brackets are dropped.
	b, _, err := parser.AppendArgs(nil, []any{&snap})
	if err != nil { // cannot happen: strings, numbers and booleans
		global.Get("console").Call("error", "demo: snapshot: "+err.Error())
		return
	}
	a.snapshot = js.ValueOf(string(b[1 : len(b)-1]))
}

// snapshotJSON is the state window.demo.state() returns.
type snapshotJSON struct {
	Loaded     bool          `json:"loaded"`
	Version    int           `json:"version"`
	State      string        `json:"state"`
	ID         string        `json:"id"`
	Reason     string        `json:"reason"`
	Transport  string        `json:"transport"`
	Latency    int           `json:"latency"`
	Attempts   int           `json:"attempts"`
	Reconnects int           `json:"reconnects"`
	Error      string        `json:"error"`
	ConnError  string        `json:"connError"`
	UsersFresh bool          `json:"usersFresh"`
	Joined     bool          `json:"joined"`
	Name       string        `json:"name"`
	Room       string        `json:"room"`
	Users      []string      `json:"users"`
	Messages   []messageJSON `json:"messages"`
	Typing     []string      `json:"typing"`
}

// messageJSON is a message in snapshotJSON.
type messageJSON struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Text      string `json:"text"`
	Own       bool   `json:"own"`
	Delivered bool   `json:"delivered"`
	Failed    string `json:"failed"`
	Image     bool   `json:"image"`
	Mime      string `json:"mime"`
	Size      int    `json:"size"`
	Time      int64  `json:"time"` // ms since the epoch, exact as a JavaScript number
}

// sortStrings sorts s in place (insertion sort: a handful of names; avoids
// importing sort for one call).
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// bindDOM finds the elements and wires the forms.
func (a *app) bindDOM() {
	a.elState, a.elTransport = byID("st-state"), byID("st-transport")
	a.elLatency, a.elAttempts = byID("st-latency"), byID("st-attempts")
	a.elJoinForm, a.elName, a.elRoom, a.elJoinError = byID("join-form"), byID("name"), byID("room"), byID("join-error")
	a.elChat, a.elRoomName, a.elUsers = byID("chat"), byID("room-name"), byID("users")
	a.elMessages, a.elTyping, a.elText = byID("messages"), byID("typing"), byID("text")
	a.elSendForm, a.elImage, a.elError, a.elLeave = byID("send-form"), byID("image"), byID("error"), byID("leave")

	on(a.elJoinForm, "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		name, room := a.elName.Get("value").String(), a.elRoom.Get("value").String()
		a.post(func() { a.join(name, room) })
	})
	on(a.elSendForm, "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		text := a.elText.Get("value").String()
		a.elText.Set("value", "")
		id := a.nextID()
		a.post(func() { a.sendChat(id, text) })
	})
	on(a.elText, "input", func(js.Value) {
		typing := a.elText.Get("value").String() != ""
		a.post(func() { a.setTyping(typing) })
	})
	on(a.elLeave, "click", func(js.Value) { a.post(a.leave) })
	on(a.elImage, "change", func(js.Value) {
		files := a.elImage.Get("files")
		if files.Get("length").Int() == 0 {
			return
		}
		file := files.Index(0)
		a.elImage.Set("value", "")
		size, mime := file.Get("size").Int(), file.Get("type").String()
		if size > maxImageBytes {
			a.post(func() {
				a.setError("Image too large: " + strconv.Itoa(size/1024) + " KiB, at most 256 KiB.")
			})
			return
		}
		readFile(file, func(data []byte, err error) {
			if err != nil {
				a.post(func() { a.setError("Cannot read the file: " + err.Error()) })
				return
			}
			id := a.nextID()
			a.post(func() { a.sendImage(id, data, mime) })
		})
	})
}

// readFile reads a File with arrayBuffer() and calls done from the promise
// callback (done must not block).
func readFile(file js.Value, done func([]byte, error)) {
	var ok, fail js.Func
	release := func() { ok.Release(); fail.Release() }
	ok = js.FuncOf(func(this js.Value, args []js.Value) any {
		defer release()
		done(bytesFromJS(args[0]), nil)
		return nil
	})
	fail = js.FuncOf(func(this js.Value, args []js.Value) any {
		defer release()
		done(nil, errors.New(args[0].Call("toString").String()))
		return nil
	})
	file.Call("arrayBuffer").Call("then", ok, fail)
}

// exposeHooks sets window.demo for tests and the console:
//
//	demo.state()                 the page's state (a fresh object; id is the socket's id)
//	demo.join(name, room)        join a room
//	demo.send(text) → id         send a chat message
//	demo.sendImage(bytes, mime) → id   send an image (a Uint8Array)
//	demo.typing(bool)            say we are (not) typing
//	demo.leave()                 leave the room
func (a *app) exposeHooks() {
	fn := func(f func(args []js.Value) any) js.Func {
		return js.FuncOf(func(this js.Value, args []js.Value) any { return f(args) })
	}
	arg := func(args []js.Value, i int) js.Value {
		if i < len(args) {
			return args[i]
		}
		return js.Undefined()
	}
	str := func(v js.Value) string {
		if v.Type() == js.TypeString {
			return v.String()
		}
		return ""
	}
	global.Set("demo", map[string]any{
		"state": fn(func([]js.Value) any {
			return global.Get("JSON").Call("parse", a.snapshot)
		}),
		"join": fn(func(args []js.Value) any {
			name, room := str(arg(args, 0)), str(arg(args, 1))
			a.post(func() { a.join(name, room) })
			return nil
		}),
		"send": fn(func(args []js.Value) any {
			text, id := str(arg(args, 0)), a.nextID()
			a.post(func() { a.sendChat(id, text) })
			return id
		}),
		"sendImage": fn(func(args []js.Value) any {
			data, mime, id := bytesFromJS(arg(args, 0)), str(arg(args, 1)), a.nextID()
			a.post(func() { a.sendImage(id, data, mime) })
			return id
		}),
		"typing": fn(func(args []js.Value) any {
			typing := arg(args, 0).Truthy()
			a.post(func() { a.setTyping(typing) })
			return nil
		}),
		"leave": fn(func([]js.Value) any {
			a.post(a.leave)
			return nil
		}),
	})
}
