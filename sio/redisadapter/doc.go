// Package redisadapter spreads a Socket.IO server over several nodes through
// Redis, wire-compatible with the official @socket.io/redis-adapter 8.3, so
// that Go nodes and Node.js nodes can serve one application side by side
// (and a cluster can move from one to the other a node at a time).
//
// Two adapters, each an AdapterFactory for server.Options.Adapter:
//
//   - New is the classic adapter (upstream's createAdapter, Redis pub/sub):
//     broadcasts in msgpack on <key>#<nsp># (or <key>#<nsp>#<room># for a
//     single room), requests on <key>-request#<nsp>#, responses on
//     <key>-response#<nsp># (or the requester's
//     <key>-response#<nsp>#<uid># with PublishOnSpecificResponseChannel);
//     requests and responses in JSON, except the broadcast with
//     acknowledgements and its replies, in msgpack. The server count is
//     PUBSUB NUMSUB of the request channel.
//   - NewSharded is the sharded adapter (upstream's createShardedAdapter,
//     Redis 7 sharded pub/sub, SPUBLISH/SSUBSCRIBE): every message is
//     {type, data, uid, nsp} (socket.io-adapter's cluster messages), in
//     msgpack when it carries binary and JSON otherwise, on
//     <prefix>#<nsp># or, for a broadcast to one room in the dynamic
//     subscription modes, on <prefix>#<nsp>#<room>#, which only the nodes
//     having the room subscribe to; responses on <prefix>#<nsp>#<uid>#. The
//     server count is PUBSUB SHARDNUMSUB of the namespace's channel.
//
// Messages are encoded as the official packages encode them, byte for
// byte: msgpack as notepack.io writes it (integers in the smallest width,
// other numbers as float 64, Buffers as bin), JSON as JSON.stringify
// writes it (a Buffer in a JSON message as {"type":"Buffer","data":[…]}),
// keys in JavaScript's order. A receiver reads JSON when the message
// starts with '{' and msgpack otherwise.
//
// # What works across nodes
//
// Everything the server's Adapter does: broadcasts with To, In, Except,
// Local (not published), Volatile and binary arguments; EmitWithAck, whose
// expected replies are the client counts every node reports; FetchSockets,
// whose remote sockets (server.RemoteSocket) carry their id, rooms, data
// and handshake (in upstream's shape) and Emit, Join, Leave and Disconnect
// through the adapter wherever they are; SocketsJoin, SocketsLeave,
// DisconnectSockets; ServerSideEmit and ServerSideEmitWithAck (the
// handlers are the namespace's OnServerSideEmit, run one at a time off the
// goroutine that reads Redis); ServerCount. The adapters also answer the
// requests only Node.js nodes send (allSockets, allRooms, and the older
// per-socket join, leave and disconnect requests).
//
// The adapter of each namespace subscribes through a PubSub of its own
// made from the client it is given (one connection per namespace), and
// publishes from one goroutine, pipelining what was queued meanwhile.
//
// # Faults
//
//   - A node that stops answering (hung, or dead before Redis noticed) makes
//     FetchSockets and ServerSideEmitWithAck end after RequestsTimeout with
//     an error wrapping sio.ErrAckTimeout (the replies so far are returned
//     with it for ServerSideEmitWithAck); EmitWithAck counts such a node as
//     having reached no client once RequestsTimeout has passed, so that even
//     a call without timeout ends. A node whose process died leaves the
//     server count as soon as Redis drops its connection.
//   - When Redis restarts, go-redis reconnects and the adapters subscribe
//     again by themselves; broadcasts resume. What is published while Redis
//     is unreachable is lost, as with the official adapter: Redis pub/sub
//     keeps nothing for subscribers that are away (a publication already
//     waiting for the connection when it comes back may still go out).
//     Local deliveries go on meanwhile; requests to the other nodes fail or
//     time out.
//   - A malformed or foreign message on the channels is ignored, with a
//     debug log.
//
// # Differences from the official adapter
//
//   - SocketsJoin, SocketsLeave and DisconnectSockets apply to this node's
//     sockets at once; upstream applies them when its own request comes back
//     from Redis. The messages are the same.
//   - Connection state recovery stays local, as the in-memory adapter does
//     it: the offsets are this node's and a session is restored only by the
//     node that kept it. Upstream's classic and sharded adapters keep no
//     session at all (only the Redis Streams adapter does).
//   - A room is a string: a numeric room of a Node.js node (io.to(42)) is
//     the room "42" here.
//   - The flags of a published broadcast are those that are set, in a fixed
//     order (volatile, compress, local, timeout); upstream writes them in
//     the order the operator's methods were called. RemoteSocket operations
//     do not carry upstream's expectSingleResponse flag. Receivers ignore
//     both.
//   - A reply to a broadcast with acknowledgements from a client of this
//     node is all its arguments; upstream, and replies coming from other
//     nodes, keep the first argument only.
//   - With a Redis Cluster client, the sharded adapter subscribes every
//     channel on one connection, which suits a standalone or replicated
//     Redis; on a Redis Cluster, room channels in other slots need a
//     connection to their shard (not done yet).
package redisadapter
