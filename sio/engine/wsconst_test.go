//go:build !js

package engine

import (
	"github.com/gosio/socketio/internal/wsframe"
	"github.com/gosio/socketio/sio/engine/internal/wsio"
)

// The WebSocket opcodes and close codes the tests speak.
const (
	opContinuation = wsframe.OpContinuation
	opText         = wsframe.OpText
	opBinary       = wsframe.OpBinary
	opClose        = wsframe.OpClose
	opPing         = wsframe.OpPing
	opPong         = wsframe.OpPong

	closeNormal         = wsframe.CloseNormal
	closeProtocolError  = wsframe.CloseProtocolError
	closeNoStatus       = wsframe.CloseNoStatus
	closeInvalidPayload = wsframe.CloseInvalidPayload
	closeTooBig         = wsframe.CloseTooBig
)

// pollerOf returns the poller that reads s's WebSocket, nil when none does.
func pollerOf(s *Socket) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if oc, ok := s.ws.(*wsio.OwnConn); ok {
		return oc.Poller()
	}
	return nil
}

// The errors of WebSocket violations, as OnClose gets them.
var (
	errWSProtocol    = wsio.ErrProtocol
	errWSTooBig      = wsio.ErrTooBig
	errWSInvalidUTF8 = wsio.ErrInvalidUTF8
)
