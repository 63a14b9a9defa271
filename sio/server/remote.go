package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NewRemoteSocket returns the RemoteSocket of a socket that another node of
// a cluster reported (cluster adapters' FetchSockets): a snapshot of its id,
// handshake, rooms and data, whose Emit, Join, Leave and Disconnect go
// through nsp's adapter to the room named by its id, wherever it is
// connected, as upstream's RemoteSocket does.
func NewRemoteSocket(nsp *Namespace, id string, hs *Handshake, rooms []Room, data any) RemoteSocket {
	if hs == nil {
		hs = &Handshake{}
	}
	return &remoteSocket{nsp: nsp, id: id, hs: hs, rooms: rooms, data: data}
}

type remoteSocket struct {
	nsp   *Namespace
	id    string
	hs    *Handshake
	rooms []Room
	data  any
}

func (r *remoteSocket) ID() string            { return r.id }
func (r *remoteSocket) Handshake() *Handshake { return r.hs }
func (r *remoteSocket) Rooms() []Room         { return r.rooms }
func (r *remoteSocket) Data() any             { return r.data }
func (r *remoteSocket) Emit(event string, args ...any) error {
	return r.nsp.To(r.id).Emit(event, args...)
}
func (r *remoteSocket) Join(rooms ...Room)  { r.nsp.In(r.id).SocketsJoin(rooms...) }
func (r *remoteSocket) Leave(rooms ...Room) { r.nsp.In(r.id).SocketsLeave(rooms...) }
func (r *remoteSocket) Disconnect()         { r.nsp.In(r.id).DisconnectSockets(false) }
func (r *remoteSocket) CloseConnection()    { r.nsp.In(r.id).DisconnectSockets(true) }

// handshakeJSON is upstream's socket.handshake as it crosses a cluster
// (fetchSockets responses): {headers, time, address, xdomain, secure,
// issued, url, query, auth}.
type handshakeJSON struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  int64           `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

// MarshalJSON writes the handshake in the shape of upstream's
// socket.handshake, as Node.js shows it: header names in lower case, a
// repeated header joined with ", " ("; " for cookie, an array for
// set-cookie), a repeated query parameter as an array, time as
// JavaScript's Date string, issued in milliseconds since the epoch.
func (h *Handshake) MarshalJSON() ([]byte, error) {
	out := handshakeJSON{
		Headers: make(map[string]any, len(h.Headers)),
		Time:    jsDateString(h.Time),
		Address: h.Address,
		XDomain: h.XDomain,
		Secure:  h.Secure,
		Issued:  h.Issued,
		URL:     h.URL,
		Query:   make(map[string]any, len(h.Query)),
		Auth:    h.Auth,
	}
	for k, vs := range h.Headers {
		name := strings.ToLower(k)
		switch {
		case name == "set-cookie":
			out.Headers[name] = vs
		case name == "cookie":
			out.Headers[name] = strings.Join(vs, "; ")
		default:
			out.Headers[name] = strings.Join(vs, ", ")
		}
	}
	for k, vs := range h.Query {
		if len(vs) == 1 {
			out.Query[k] = vs[0]
		} else {
			out.Query[k] = vs
		}
	}
	if len(out.Auth) == 0 {
		out.Auth = json.RawMessage("{}")
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a handshake in the shape of upstream's
// socket.handshake (see MarshalJSON); Time comes from issued.
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var in struct {
		handshakeJSON
		Headers map[string]json.RawMessage `json:"headers"`
		Query   map[string]json.RawMessage `json:"query"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*h = Handshake{
		Headers: make(http.Header, len(in.Headers)),
		Issued:  in.Issued,
		Address: in.Address,
		XDomain: in.XDomain,
		Secure:  in.Secure,
		URL:     in.URL,
		Query:   make(url.Values, len(in.Query)),
		Auth:    in.Auth,
	}
	if in.Issued != 0 {
		h.Time = time.UnixMilli(in.Issued)
	}
	for k, raw := range in.Headers {
		for _, v := range stringOrStrings(raw) {
			h.Headers.Add(k, v)
		}
	}
	for k, raw := range in.Query {
		h.Query[k] = stringOrStrings(raw)
	}
	return nil
}

// stringOrStrings reads a JSON string or array of strings; other values
// are kept as their JSON text.
func stringOrStrings(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil {
		return ss
	}
	return []string{string(raw)}
}

// jsDateString formats t as JavaScript's String(new Date()) does, e.g.
// "Tue Mar 04 2025 10:00:00 GMT+0000 (Coordinated Universal Time)"; the
// zone's name is its abbreviation, Go knowing no other.
func jsDateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	name, _ := t.Zone()
	if name == "UTC" {
		name = "Coordinated Universal Time"
	}
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700") + " (" + name + ")"
}
