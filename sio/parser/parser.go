package parser

// Parser is the format of Socket.IO packets in Engine.IO messages, what
// the official packages call a parser: the default is [JSON], the text
// format of socket.io-parser; package sio/parser/msgpack has the format of
// socket.io-msgpack-parser. Server and client must use the same one.
//
// Whatever the format, a packet is handled as a [Packet] whose Data is JSON
// with placeholders for its binary parts and whose Attachments hold them: a
// parser of another format converts on the way in and out.
//
// A Parser must be safe for concurrent use; its decoders need not be.
type Parser interface {
	// Encode appends the first Engine.IO message of p to dst and returns
	// it, binary telling whether it is a binary message or a text one;
	// the attachments returned are sent after it, in order, each as a
	// binary message. The message, or the attachments, may alias p's
	// slices. Encode does not validate p (see [AppendPacket]).
	Encode(dst []byte, p *Packet) (msg []byte, binary bool, attachments [][]byte)
	// NewDecoder returns a decoder for the messages of one connection:
	// maxAttachments and reusePackets have the meaning of the fields of
	// [Decoder].
	NewDecoder(maxAttachments int, reusePackets bool) PacketDecoder
}

// PacketDecoder decodes the Engine.IO messages of one connection into
// packets. It need not be safe for concurrent use.
type PacketDecoder interface {
	// Decode decodes one message (binary or text) and returns the packet
	// it completes, or (nil, nil) while a packet waits for more messages.
	// The packet may alias data. An error is a [*DecodeError]; the
	// connection should be closed.
	Decode(data []byte, binary bool) (*Packet, error)
}

// JSON returns the default parser, the format of the official
// socket.io-parser: each packet a text message (see [AppendPacket]) and
// one binary message per attachment.
func JSON() Parser { return jsonParser{} }

type jsonParser struct{}

func (jsonParser) Encode(dst []byte, p *Packet) ([]byte, bool, [][]byte) {
	return AppendPacket(dst, p), false, p.Attachments
}

func (jsonParser) NewDecoder(maxAttachments int, reusePackets bool) PacketDecoder {
	return &Decoder{MaxAttachments: maxAttachments, ReusePackets: reusePackets}
}

// Decode decodes a text message with [Decoder.Text], a binary one with
// [Decoder.Binary]: *Decoder is the [PacketDecoder] of [JSON].
func (d *Decoder) Decode(data []byte, binary bool) (*Packet, error) {
	if binary {
		return d.Binary(data)
	}
	return d.Text(data)
}
