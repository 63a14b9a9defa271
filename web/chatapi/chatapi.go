// Package chatapi declares the demo chat's events and their payloads, once
// for both sides: the server (cmd/server/app) and the browser client (web/,
// compiled to WebAssembly). A misspelt event or a payload of the wrong type
// is a compile error on either side.
//
// Requests a client acknowledges are answered with one argument, the
// result (a plain acknowledgement, as the official JavaScript clients
// expect); sio.EmitWithAck and AckEventType.Call read it as well.
package chatapi

import "github.com/gosio/socketio/sio"

// Events from the client to the server.
var (
	// Join joins a room (leaving the previous one).
	Join = sio.NewAckEvent[JoinRequest, JoinResult]("join")
	// Leave leaves the room; the argument is ignored.
	Leave = sio.NewAckEvent[struct{}, SendResult]("leave")
	// Send sends a chat message to the room.
	Send = sio.NewAckEvent[SendRequest, SendResult]("chat")
	// SetTyping says whether the sender is typing.
	SetTyping = sio.NewEvent[TypingRequest]("typing")
	// SendImage shares an image with the room (sent as binary).
	SendImage = sio.NewAckEvent[ImageRequest, SendResult]("image")
	// RTT is acked at once with the server's time in milliseconds.
	RTT = sio.NewAckEvent[struct{}, int64]("rtt")
)

// Events from the server to the client.
var (
	// Joined is sent on connection to a socket whose auth payload joined a
	// room, with what Join's acknowledgement would hold.
	Joined = sio.NewEvent[JoinResult]("joined")
	// Chat relays a message to the room (sender excluded).
	Chat = sio.NewEvent[Message]("chat")
	// Typing relays who is typing.
	Typing = sio.NewEvent[TypingNews]("typing")
	// Image relays an image to the room (sender excluded).
	Image = sio.NewEvent[ImageMessage]("image")
	// Users lists the room's users after its membership changed.
	Users = sio.NewEvent[UserList]("users")
)

// JoinRequest is the payload of Join and the auth payload of a client
// that rejoins its room when it reconnects.
type JoinRequest struct {
	Name string `json:"name"`
	Room string `json:"room"`
}

// JoinResult is Join's acknowledgement and Joined's payload.
type JoinResult struct {
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
	Room    string    `json:"room,omitempty"`
	Name    string    `json:"name,omitempty"` // the name given: suffixed when taken
	Users   []string  `json:"users"`
	History []Message `json:"history"`
}

// Message is a chat message. Time is in milliseconds since the Unix epoch.
type Message struct {
	ID   string `json:"id"`
	From string `json:"from"`
	Text string `json:"text"`
	Time int64  `json:"time"`
}

// SendRequest is the payload of Send. A message whose ID the room already
// has is acknowledged again but not relayed twice.
type SendRequest struct {
	ID   string `json:"id,omitempty"`
	Text string `json:"text"`
}

// SendResult acknowledges Send, SendImage and Leave.
type SendResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	ID    string `json:"id,omitempty"`
	Time  int64  `json:"time,omitempty"`
}

// TypingRequest is the payload of SetTyping.
type TypingRequest struct {
	Typing bool `json:"typing"`
}

// TypingNews is the payload of Typing.
type TypingNews struct {
	From   string `json:"from"`
	Typing bool   `json:"typing"`
}

// ImageRequest is the payload of SendImage.
type ImageRequest struct {
	ID   string `json:"id,omitempty"`
	Mime string `json:"mime"`
	Data []byte `json:"data"`
}

// ImageMessage is the payload of Image.
type ImageMessage struct {
	ID   string `json:"id"`
	From string `json:"from"`
	Mime string `json:"mime"`
	Data []byte `json:"data"`
	Time int64  `json:"time"`
}

// UserList is the payload of Users: the sorted names of the room's users.
type UserList struct {
	Room  string   `json:"room"`
	Users []string `json:"users"`
}
