package eio

import (
	"errors"
	"strconv"
)

// Sentinel errors reported by the decoders, always wrapped in a *DecodeError.
// Test for them with errors.Is.
var (
	// ErrInvalidPacket reports a malformed packet: an empty packet, an unknown
	// packet type, invalid base64 or an invalid handshake.
	ErrInvalidPacket = errors.New("invalid packet")
	// ErrTooManyPackets reports a payload holding more packets than
	// Limits.MaxPackets.
	ErrTooManyPackets = errors.New("too many packets in payload")
	// ErrPayloadTooLarge reports a payload longer than Limits.MaxBytes.
	ErrPayloadTooLarge = errors.New("payload too large")
)

// DecodeError describes where decoding failed.
type DecodeError struct {
	// Offset is the byte offset in the input at which the error was detected.
	Offset int
	// Err is the cause; it wraps one of the package's sentinel errors.
	Err error
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	return "eio: " + e.Err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *DecodeError) Unwrap() error { return e.Err }

// decodeErr builds a *DecodeError.
func decodeErr(off int, err error) *DecodeError {
	return &DecodeError{Offset: off, Err: err}
}
