package parser

import "errors"

// Errors reported by the decoder, always wrapped in a [*DecodeError]; test
// for them with [errors.Is].
var (
	// ErrUnknownType reports an empty frame or a type other than 0 to 6.
	ErrUnknownType = errors.New("unknown packet type")
	// ErrInvalidNamespace reports a namespace that does not start with '/'.
	ErrInvalidNamespace = errors.New("invalid namespace")
	// ErrInvalidID reports an acknowledgement id that overflows, that is
	// missing from an ack, or that is present on a packet type that has none.
	ErrInvalidID = errors.New("invalid ack id")
	// ErrInvalidPayload reports a payload that is not valid JSON or does not
	// have the shape its packet type requires.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrReservedEvent reports an event whose name is reserved by Socket.IO
	// (connect, connect_error, disconnect, disconnecting, newListener,
	// removeListener).
	ErrReservedEvent = errors.New("reserved event name")
	// ErrInvalidAttachments reports a malformed or zero attachment count, or
	// a placeholder whose num is not an integer, points at no attachment, or
	// points at an attachment already used by another placeholder.
	ErrInvalidAttachments = errors.New("invalid attachments")
	// ErrTooManyAttachments reports a packet announcing more attachments
	// than [Decoder.MaxAttachments].
	ErrTooManyAttachments = errors.New("too many attachments")
	// ErrUnexpectedBinary reports a binary frame while no binary packet is
	// waiting for attachments.
	ErrUnexpectedBinary = errors.New("unexpected binary frame")
	// ErrUnexpectedText reports a text frame while a binary packet is still
	// waiting for attachments.
	ErrUnexpectedText = errors.New("unexpected text frame while reconstructing a packet")
)

// DecodeError describes why a frame or a value could not be decoded.
type DecodeError struct {
	// Err is one of the sentinel errors of this package.
	Err error
	// Detail describes the problem more precisely.
	Detail string
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	if e.Detail == "" {
		return "socket.io parser: " + e.Err.Error()
	}
	return "socket.io parser: " + e.Err.Error() + ": " + e.Detail
}

// Unwrap returns the sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }

// decodeErr returns a *DecodeError.
func decodeErr(err error, detail string) error {
	return &DecodeError{Err: err, Detail: detail}
}
