//go:build !js

package redisadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio/internal/redistest"
	"github.com/gosio/socketio/sio/server"
)

// wireMsg is a message as redis-wire.js decoded it with the official
// package's decoders.
type wireMsg struct {
	Channel   string
	Format    string
	Value     any
	Canonical bool
	Error     string
}

// actor performs the operations of the wire scenario on one node.
type actor interface {
	emit(sel map[string]any, event string, args ...any)
	emitAck(sel map[string]any, event string, timeoutMs int)
	fetch(sel map[string]any)
	socketsJoin(sel map[string]any, rooms ...string)
	socketsLeave(sel map[string]any, rooms ...string)
	disconnect(sel map[string]any, close bool)
	sse(event string, args ...any)
	sseAck(event string)
}

type goActor struct {
	t *testing.T
	n *goNode
}

func (a goActor) bop(sel map[string]any) *server.BroadcastOperator {
	b := a.n.srv.Of("/").To()
	if to, ok := sel["to"].([]string); ok {
		b = b.To(to...)
	}
	if ex, ok := sel["except"].([]string); ok {
		b = b.Except(ex...)
	}
	return b
}

func (a goActor) emit(sel map[string]any, event string, args ...any) {
	require.NoError(a.t, a.bop(sel).Emit(event, args...))
}
func (a goActor) emitAck(sel map[string]any, event string, ms int) {
	_, err := a.bop(sel).Timeout(time.Duration(ms)*time.Millisecond).EmitWithAck(context.Background(), event)
	require.NoError(a.t, err)
}
func (a goActor) fetch(sel map[string]any) {
	_, err := a.bop(sel).FetchSockets(context.Background())
	require.NoError(a.t, err)
}
func (a goActor) socketsJoin(sel map[string]any, rooms ...string) { a.bop(sel).SocketsJoin(rooms...) }
func (a goActor) socketsLeave(sel map[string]any, rooms ...string) {
	a.bop(sel).SocketsLeave(rooms...)
}
func (a goActor) disconnect(sel map[string]any, close bool) { a.bop(sel).DisconnectSockets(close) }
func (a goActor) sse(event string, args ...any) {
	require.NoError(a.t, a.n.srv.Of("/").ServerSideEmit(context.Background(), event, args...))
}
func (a goActor) sseAck(event string) {
	_, err := a.n.srv.Of("/").ServerSideEmitWithAck(context.Background(), event)
	require.NoError(a.t, err)
}

type nodeActor struct {
	t *testing.T
	p *nodeProc
}

func (a nodeActor) emit(sel map[string]any, event string, args ...any) {
	a.p.call(a.t, map[string]any{"cmd": "emit", "sel": sel, "event": event, "args": binArgs(args)})
}
func (a nodeActor) emitAck(sel map[string]any, event string, ms int) {
	a.p.call(a.t, map[string]any{"cmd": "emitAck", "sel": sel, "event": event, "timeout": ms})
}
func (a nodeActor) fetch(sel map[string]any) {
	a.p.call(a.t, map[string]any{"cmd": "fetch", "sel": sel})
}
func (a nodeActor) socketsJoin(sel map[string]any, rooms ...string) {
	a.p.call(a.t, map[string]any{"cmd": "socketsJoin", "sel": sel, "rooms": rooms})
}
func (a nodeActor) socketsLeave(sel map[string]any, rooms ...string) {
	a.p.call(a.t, map[string]any{"cmd": "socketsLeave", "sel": sel, "rooms": rooms})
}
func (a nodeActor) disconnect(sel map[string]any, close bool) {
	a.p.call(a.t, map[string]any{"cmd": "disconnectSockets", "sel": sel, "close": close})
}
func (a nodeActor) sse(event string, args ...any) {
	a.p.call(a.t, map[string]any{"cmd": "sse", "event": event, "args": binArgs(args)})
}
func (a nodeActor) sseAck(event string) {
	a.p.call(a.t, map[string]any{"cmd": "sseAck", "event": event})
}

// binArgs writes []byte arguments as redis-node.js reads them.
func binArgs(args []any) []any {
	out := make([]any, len(args))
	for i, x := range args {
		if b, ok := x.([]byte); ok {
			x = map[string]any{"$bin": fmt.Sprintf("%x", b)}
		}
		out[i] = x
	}
	return out
}

// TestWire runs the same operations on a Go node and on a Node.js node
// with the official adapter (the other node of the pair answering), while
// redis-wire.js decodes everything published with the official package's
// own decoders: every message of the Go node decodes, is canonical (re-
// encoding it with notepack.io or JSON.stringify gives back its bytes), and
// has the same channel, encoding and value as the Node.js node's, ids
// aside. The Go node's responses are compared with the Node.js node's the
// same way.
func TestWire(t *testing.T) {
	version := redistest.Version(t)
	for _, m := range interopModes {
		t.Run(m.name, func(t *testing.T) {
			if m.adapter == "sharded" && version < 7 {
				t.Skip("sharded pub/sub needs Redis 7")
			}
			rs := redistest.Start(t)
			n, nurl := nodeServer(t, rs, "n", m.adapter)
			g := startGoNode(t, "g", m.factory, rs)
			pollUntil(t, func() bool {
				c, err := g.srv.Of("/").Adapter().ServerCount(context.Background())
				return err == nil && c == 2
			}, "the Go node counts 2 nodes")
			cg, cn := dialRecorder(t, g.url), dialRecorder(t, nurl)
			cg.join(t, "room1")
			cn.join(t, "room1")

			w, first := startNodeScript(t, "redis-wire.js", "REDIS_URL="+rs.URL())
			require.Contains(t, string(first), "ready")
			drain := func() {
				for {
					select {
					case <-w.lines:
					default:
						return
					}
				}
			}

			steps := []struct {
				name string
				do   func(a actor)
			}{
				{"emit", func(a actor) { a.emit(nil, "e", "x", []byte{1, 2}, 1.5, 7, -3, map[string]any{"k": nil}) }},
				{"emit-json", func(a actor) { a.emit(map[string]any{"except": []string{"room2"}}, "e", "plain") }},
				{"emit-room", func(a actor) {
					a.emit(map[string]any{"to": []string{"room1"}, "except": []string{"room2"}}, "e2", []byte{3})
				}},
				{"emit-rooms", func(a actor) { a.emit(map[string]any{"to": []string{"room1", "room2"}}, "e3") }},
				{"emit-ack", func(a actor) { a.emitAck(nil, "ack-me", 5000) }},
				{"fetch", func(a actor) { a.fetch(map[string]any{"to": []string{"room1"}}) }},
				{"join", func(a actor) { a.socketsJoin(map[string]any{"to": []string{"room1"}}, "j1", "j2") }},
				{"leave", func(a actor) { a.socketsLeave(nil, "j2") }},
				{"sse", func(a actor) { a.sse("s", 1, "two", map[string]any{"three": 3}) }},
				{"sse-ack", func(a actor) { a.sseAck("ping") }},
				{"disconnect", func(a actor) { a.disconnect(map[string]any{"to": []string{"nobody"}}, true) }},
				{"reset", func(a actor) { a.socketsLeave(nil, "j1") }}, // both runs start alike
			}
			run := func(a actor, sentinel func(i int)) [][]wireMsg {
				var out [][]wireMsg
				for i, s := range steps {
					s.do(a)
					sentinel(i)
					var msgs []wireMsg
					for {
						msg := nextWire(t, w)
						if isSentinel(msg, i) {
							break
						}
						msgs = append(msgs, msg)
					}
					out = append(out, msgs)
				}
				return out
			}
			drain()
			goMsgs := run(goActor{t, g}, func(i int) { require.NoError(t, g.srv.Emit(sentinelName(i))) })
			nodeMsgs := run(nodeActor{t, n}, func(i int) { n.call(t, map[string]any{"cmd": "emit", "event": sentinelName(i)}) })

			gUID, nodeUID := "", ""
			for i, s := range steps {
				require.Equal(t, len(nodeMsgs[i]), len(goMsgs[i]), "step %s: messages %v vs %v", s.name, goMsgs[i], nodeMsgs[i])
				for j := range goMsgs[i] {
					gm, nm := goMsgs[i][j], nodeMsgs[i][j]
					assert.Empty(t, gm.Error, "step %s: the official decoder failed on %v", s.name, gm)
					assert.True(t, gm.Canonical, "step %s: not canonical: %v", s.name, gm)
					assert.Equal(t, nm.Format, gm.Format, "step %s, message %d", s.name, j)
					if gUID == "" {
						gUID = findUID(gm.Value)
					}
					if nodeUID == "" {
						nodeUID = findUID(nm.Value)
					}
					assert.Equal(t, normChannel(nm.Channel, nodeUID), normChannel(gm.Channel, gUID), "step %s, message %d", s.name, j)
					gv, nv := normalize(gm.Value), normalize(nm.Value)
					gj, _ := json.Marshal(gv)
					nj, _ := json.Marshal(nv)
					assert.JSONEq(t, string(nj), string(gj), "step %s, message %d on %s", s.name, j, gm.Channel)
				}
			}
		})
	}
}

func sentinelName(i int) string { return fmt.Sprintf("sentinel-%d", i) }

// isSentinel reports whether msg is the broadcast of sentinel i.
func isSentinel(msg wireMsg, i int) bool {
	b, _ := json.Marshal(msg.Value)
	return strings.Contains(string(b), `"`+sentinelName(i)+`"`)
}

func nextWire(t *testing.T, w *nodeProc) wireMsg {
	t.Helper()
	var m wireMsg
	require.NoError(t, json.Unmarshal(w.line(t), &m))
	return m
}

// findUID returns the sender's uid of a message (classic broadcasts are
// [uid, packet, opts]; others have a uid key).
func findUID(v any) string {
	switch v := v.(type) {
	case []any:
		if len(v) > 0 {
			s, _ := v[0].(string)
			return s
		}
	case map[string]any:
		s, _ := v["uid"].(string)
		return s
	}
	return ""
}

func normChannel(ch, uid string) string {
	if uid != "" {
		ch = strings.ReplaceAll(ch, uid, "<uid>")
	}
	return ch
}

// normalize replaces what differs between two runs by placeholders: node
// and request ids, socket ids, handshakes, the ack replies (socket ids)
// and the nodes' names.
func normalize(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x)
		}
		if len(out) == 3 {
			if _, ok := v[0].(string); ok {
				if _, ok := v[1].(map[string]any); ok {
					out[0] = "<uid>" // a classic broadcast
				}
			}
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			switch k {
			case "uid", "requestId", "id":
				out[k] = "<" + k + ">"
			case "handshake":
				keys := []string{}
				for hk := range x.(map[string]any) {
					keys = append(keys, hk)
				}
				out[k] = len(keys)
			case "rooms":
				if arr, ok := x.([]any); ok {
					var keep []any
					for _, r := range arr {
						if s, _ := r.(string); len(s) != 20 {
							keep = append(keep, r)
						}
					}
					out[k] = keep
				} else {
					out[k] = normalize(x)
				}
			case "data", "packet":
				if s, ok := x.(string); ok && (s == "g" || s == "n" || len(s) == 20) {
					out[k] = "<reply>"
				} else if m, ok := x.(map[string]any); ok && (m["node"] == "g" || m["node"] == "n") {
					out[k] = "<data>"
				} else {
					out[k] = normalize(x)
				}
			default:
				out[k] = normalize(x)
			}
		}
		return out
	}
	return v
}
