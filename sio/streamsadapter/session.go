package streamsadapter

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// restoreMaxRanges is upstream's RESTORE_SESSION_MAX_XRANGE_CALLS: the
// XRANGE calls a restoration makes at most, should entries be added
// faster than they are read.
const restoreMaxRanges = 100

// PersistSession implements server.Adapter: SET <sessionKeyPrefix><pid>
// <base64 of msgpack {sid, pid, rooms, data}> PX <maxDisconnectionDuration>,
// as upstream, so that any node of the cluster, Go or Node.js, can
// restore it.
func (a *adapter) PersistSession(ctx context.Context, sess *server.Session) error {
	rec := a.nsp.Server().Recovery()
	if rec == nil {
		return nil
	}
	rooms := make([]any, len(sess.Rooms))
	for i, r := range sess.Rooms {
		rooms[i] = r
	}
	var data any = &jsval.Object{} // a Node.js socket's data starts as {}
	if sess.Data != nil {
		var err error
		if data, err = cluster.EncodeValue(sess.Data); err != nil {
			return fmt.Errorf("streamsadapter: session data: %w", err)
		}
	}
	v := jsval.NewObject("sid", sess.SID, "pid", sess.PID, "rooms", rooms, "data", data)
	enc := base64.StdEncoding.EncodeToString(encodeMsgpack(v))
	key := a.h.opts.SessionKeyPrefix + sess.PID
	return a.h.client.Do(ctx, "SET", key, enc, "PX", rec.MaxDisconnectionDuration.Milliseconds()).Err()
}

// RestoreSession implements server.Adapter, as upstream's restoreSession:
// the session is taken (MULTI GET DEL EXEC) and the offset must still be
// in the stream; the missed packets are the broadcasts (entries of type
// 3) of this namespace after it whose rooms and exceptions select the
// session's rooms, each with its entry id appended.
func (a *adapter) RestoreSession(ctx context.Context, pid, offset string) (*server.Session, error) {
	sess, err := a.takeSession(ctx, pid, offset)
	if sess == nil || err != nil {
		return nil, err
	}
	if _, err := a.missed(ctx, sess, offset, "+"); err != nil {
		return nil, err
	}
	return sess, nil
}

// takeSession takes session pid, when offset is a valid id that is still
// in the stream.
func (a *adapter) takeSession(ctx context.Context, pid, offset string) (*server.Session, error) {
	if a.nsp.Server().Recovery() == nil {
		return nil, nil
	}
	if !validOffset(offset) {
		return nil, errInvalidOffset
	}
	key := a.h.opts.SessionKeyPrefix + pid
	var get *goredis.StringCmd
	_, err := a.h.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	at, err := a.h.client.XRange(ctx, a.stream, offset, offset).Result()
	if err != nil {
		return nil, err
	}
	raw, gerr := get.Result()
	if gerr != nil || len(at) == 0 {
		return nil, nil // session or offset not found
	}
	return decodeSession(raw)
}

// decodeSession reads a persisted session.
func decodeSession(raw string) (*server.Session, error) {
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, malformed("session is not base64")
	}
	v, err := jsval.DecodeMsgpack(b)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*jsval.Object)
	if !ok {
		return nil, malformed("session is not an object")
	}
	str := func(k string) string { x, _ := o.Get(k); s, _ := x.(string); return s }
	sess := &server.Session{SID: str("sid"), PID: str("pid")}
	if sess.SID == "" {
		return nil, malformed("session has no sid")
	}
	if sess.Rooms, err = cluster.RoomList(o, "rooms"); err != nil {
		return nil, err
	}
	d, _ := o.Get("data")
	sess.Data = cluster.ToGo(d)
	return sess, nil
}

// missed appends to sess the packets it missed after offset, up to end
// ("+": the end of the stream), and returns the id of the last entry
// read (offset when none).
func (a *adapter) missed(ctx context.Context, sess *server.Session, offset, end string) (string, error) {
	for range restoreMaxRanges {
		entries, err := a.h.client.XRange(ctx, a.stream, nextOffset(offset), end).Result()
		if err != nil {
			return offset, err
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			offset = e.ID
			if p := a.missedPacket(sess, e); p != nil {
				sess.MissedPackets = append(sess.MissedPackets, p)
			}
		}
		if end != "+" && offset == end {
			break
		}
	}
	return offset, nil
}

// missedPacket returns the packet of entry e for sess, with e's id as
// last argument, or nil when e is not a broadcast of this namespace to
// the session's rooms.
func (a *adapter) missedPacket(sess *server.Session, e goredis.XMessage) *parser.Packet {
	nsp, _ := e.Values["nsp"].(string)
	typ, _ := e.Values["type"].(string)
	if nsp != a.nsp.Name() || typ != strconv.Itoa(int(cluster.Broadcast)) {
		return nil
	}
	m, err := decodeEntry(e.Values)
	if err != nil || m.Data == nil {
		return nil
	}
	ov, _ := m.Data.Get("opts")
	opts, err := cluster.DecodeOptions(ov)
	if err != nil || !includes(sess.Rooms, opts) {
		return nil
	}
	pv, _ := m.Data.Get("packet")
	dv, _ := jsval.Field(pv, "data")
	arr, ok := dv.([]any)
	if !ok || len(arr) == 0 {
		return nil
	}
	arr = append(arr[:len(arr):len(arr)], e.ID)
	data, atts := jsval.ToPacketData(arr)
	p := &parser.Packet{Type: parser.Event, Namespace: a.nsp.Name(), Data: data}
	if len(atts) > 0 {
		p.Type, p.Attachments = parser.BinaryEvent, atts
	}
	return p
}

// includes is upstream's shouldIncludePacket: a broadcast to no room, or
// to one of the session's rooms, and none of them excepted.
func includes(rooms []server.Room, opts *server.BroadcastOptions) bool {
	in := len(opts.Rooms) == 0
	for _, r := range rooms {
		for _, x := range opts.Except {
			if x == r {
				return false
			}
		}
		if !in {
			for _, x := range opts.Rooms {
				if x == r {
					in = true
					break
				}
			}
		}
	}
	return in
}

// restoreWait bounds how long a restoration waits for this node's reader
// to reach the client's offset (the client comes from a node that read
// the stream further), before it does as upstream.
const restoreWait = 2 * time.Second

// RestoreSessionAndAdd implements server.AtomicRestorer. The reader of
// the stream is held while the missed packets are read up to the last
// entry it handled and the socket is added: every later entry is handled
// once the socket is in its rooms, so the client gets each packet once,
// in order. Upstream reads to the end of the stream while its reader goes
// on, so that a packet broadcast during a restoration may be missed or
// doubled; this falls back to that when the reader is behind the
// client's offset for restoreWait.
func (a *adapter) RestoreSessionAndAdd(ctx context.Context, pid, offset string, add func(*server.Session)) (bool, error) {
	sess, err := a.takeSession(ctx, pid, offset)
	if sess == nil || err != nil {
		return false, err
	}
	deadline := time.Now().Add(restoreWait)
	for {
		r := a.h.reader(a.stream)
		if r == nil {
			return false, errClosed
		}
		r.mu.Lock()
		if r.pos != "" && compareIDs(r.pos, offset) >= 0 {
			_, err := a.missed(ctx, sess, offset, r.pos)
			if err == nil {
				add(sess)
			}
			r.mu.Unlock()
			return err == nil, err
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(10 * time.Millisecond): // polling the reader's progress
		}
	}
	if _, err := a.missed(ctx, sess, offset, "+"); err != nil {
		return false, err
	}
	add(sess)
	return true, nil
}

// compareIDs compares two stream ids ("ms-seq").
func compareIDs(x, y string) int {
	xm, xs := splitID(x)
	ym, ys := splitID(y)
	switch {
	case xm != ym:
		return cmp.Compare(xm, ym)
	default:
		return cmp.Compare(xs, ys)
	}
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}
