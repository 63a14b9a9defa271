// Package eio implements the wire codec of the Engine.IO protocol, revision 4,
// as spoken by the official engine.io 6.x server and engine.io-client 6.x
// (the transport layer of socket.io 4.x).
//
// The package is pure: it performs no I/O, keeps no state and never panics on
// malformed input. It provides:
//
//   - WebSocket frame encoding ([AppendFrame], [DecodeFrame]): one packet per
//     frame, text packets as "<type digit><data>" text frames and binary
//     messages as raw binary frames.
//   - HTTP long-polling payload encoding ([AppendPayload], [DecodePayload]):
//     packets joined by the record separator 0x1e, binary messages written as
//     "b" followed by standard base64.
//   - The JSON body of the open packet ([Handshake]) and the JSON error bodies
//     returned by the official server ([ErrorCode], [HTTPError]).
//
// Decoders are zero-copy where possible: the Data field of a decoded text
// packet (and of a binary message decoded from a binary frame) aliases the
// input buffer. Callers must not modify or reuse that buffer while they still
// hold the decoded packets.
//
// All encoders follow the append convention of strconv and do not allocate
// when dst has enough spare capacity.
package eio
