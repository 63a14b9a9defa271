//go:build !js

package server

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/parser/msgpack"
)

// msgpackScript drives two official clients with socket.io-msgpack-parser
// over the transport given: the first gets an ack with binary data, acks
// the server's question with binary data, and broadcasts; the second
// receives the broadcast. The last line of stdout is the JSON result,
// Buffers written as {"$bin": hex}.
const msgpackScript = `
const { io } = require("socket.io-client");
const parser = require("socket.io-msgpack-parser");
const [url, transport] = process.argv.slice(1);
const fail = (e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); };
setTimeout(() => fail("timeout"), 8000);
const enc = (v) => JSON.parse(JSON.stringify(v, (k, x) => (x && x.type === "Buffer" && Array.isArray(x.data) ? { $bin: Buffer.from(x.data).toString("hex") } : x)));
const opts = { forceNew: true, transports: [transport], parser, reconnection: false };
const a = io(url, opts);
const b = io(url, opts);
a.on("connect_error", fail);
b.on("connect_error", fail);
a.on("question", (x, ack) => ack("answer", x, Buffer.from([5])));
const call = (s, ...args) => new Promise((r) => s.emit(...args, (...reply) => r(reply)));
const connected = (s) => new Promise((r) => (s.connected ? r() : s.once("connect", r)));
(async () => {
  await Promise.all([connected(a), connected(b)]);
  const echo = await call(a, "echo", "hi", 42, 1.5, null, Buffer.from([1, 2, 3]), { n: Buffer.from([4]) });
  const asked = await call(a, "ask");
  const got = new Promise((r) => b.once("news", (...args) => r(args)));
  a.emit("shout", "to all", Buffer.from([6]));
  const news = await got;
  console.log(JSON.stringify({ ok: true, transport: a.io.engine.transport.name, echo: enc(echo), asked: enc(asked), news: enc(news) }));
  process.exit(0);
})().catch(fail);
`

// TestMsgpackWithOfficialClient runs the official client with
// socket.io-msgpack-parser against the server with the msgpack parser,
// over polling and WebSocket: acks both ways and broadcasts, with binary
// data in each.
func TestMsgpackWithOfficialClient(t *testing.T) {
	dir := nodeDir(t)
	ts := newTestServer(t, &Options{Parser: msgpack.New()})
	ts.OnConnection(func(s *Socket) {
		s.On("echo", func(e *sio.Event) { _ = e.Ack(toAny(e.Args)...) })
		s.On("ask", func(e *sio.Event) {
			go func() { // not on the connection's queue, which brings the reply
				ctx, cancel := context.WithTimeout(context.Background(), waitFor)
				defer cancel()
				reply, err := s.EmitWithAck(ctx, "question", []byte{9})
				if err != nil {
					_ = e.Ack(err.Error())
					return
				}
				_ = e.Ack(toAny(reply)...)
			}()
		})
		s.On("shout", func(e *sio.Event) { _ = ts.Emit("news", toAny(e.Args)...) })
	})
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", "-e", msgpackScript, ts.hs.URL, transport)
			cmd.Dir = dir
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			require.NoError(t, err, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			assert.JSONEq(t, `{"ok":true,"transport":"`+transport+`",
				"echo":["hi",42,1.5,null,{"$bin":"010203"},{"n":{"$bin":"04"}}],
				"asked":["answer",{"$bin":"09"},{"$bin":"05"}],
				"news":["to all",{"$bin":"06"}]}`, lines[len(lines)-1])
		})
	}
}

// toAny returns the arguments as values to send back: each sio.Args
// element is a parser.Value, which keeps its binary data.
func toAny(args sio.Args) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}
