// Package streamsadapter is a Redis Streams adapter for package server,
// wire-compatible with @socket.io/redis-streams-adapter 0.3.1, so that Go
// and Node.js nodes share one stream: nothing broadcast is lost by a node
// that was cut from Redis for a while (it reads the stream on from where
// it was), and a client that reconnects to another node gets its session
// back (connection state recovery across nodes).
//
// On the wire, as upstream (socket.io-adapter's ClusterAdapter, no
// heartbeats):
//
//   - Broadcasts without acknowledgement, socketsJoin, socketsLeave and
//     disconnectSockets are stream entries (XADD <stream> MAXLEN ~
//     <maxLen> * uid <uid> nsp <nsp> type <3|4|5|6> data <…>), data the JSON
//     text of the message's data, or the base64 of its msgpack when it
//     holds binary (OnlyPlaintext: always JSON). Each node reads the
//     stream with XREAD COUNT <readCount> BLOCK <blockTime>, from the id
//     of the last entry it read.
//   - Broadcasts with acknowledgements, fetchSockets and server-side emits
//     are msgpack {type, data, uid, nsp} PUBLISHed on <prefix>#<nsp>#; the
//     responses on <prefix>#<nsp>#<requester uid>#. Every node subscribes
//     to both, and the server count is PUBSUB NUMSUB <prefix>#<nsp>#: a
//     node that dies is no longer counted once Redis has dropped its
//     connection.
//   - With connection state recovery on, every broadcast that is kept (an
//     event without acknowledgement, not volatile, socket.Emit included)
//     carries its entry's id as its last argument; the session of a
//     socket that disconnects is SET <sessionKeyPrefix><pid> <base64 of
//     msgpack {sid, pid, rooms, data}> PX <maxDisconnectionDuration>; a
//     node restores it with MULTI GET DEL EXEC and reads the missed
//     broadcasts with XRANGE.
//
// Differences with upstream, none visible on the wire:
//
//   - the reader starts from the id of the stream's last entry rather than
//     "$" (the same entries, without the gap of the first XREAD), and a
//     failed read is tried again after a pause that grows to 2 s;
//   - stream entries that could not be written (Redis unreachable) are
//     written later, in order, as the official Redis clients queue
//     commands while disconnected; a broadcast that needs its offset waits
//     for it at most 10 s, then goes to this node's sockets without one;
//   - with RecoveryOptions.SkipMiddlewares, a restoration holds the reader
//     while it reads the missed packets and adds the socket, so that a
//     broadcast made meanwhile is neither missed nor doubled (upstream
//     reads to the end of the stream while its reader goes on);
//   - upstream's createAdapter accepts heartbeatInterval and
//     heartbeatTimeout but 0.3.1 never uses them; there are no such
//     options here.
package streamsadapter
