package client

import (
	"runtime/debug"

	"github.com/gosio/socketio/sio/internal/ordered"
)

// handlerPanicked returns what the handler queue of a manager or a socket
// does with a handler that panicked: log it with its stack, then go on
// with the next handlers. A handler's bug must not take the program down
// with it.
func handlerPanicked(log Logger) func(ordered.Func, any) {
	return func(_ ordered.Func, r any) {
		if log != nil {
			log.Error("socket.io client: handler panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}
}
