package client

import (
	"runtime/debug"
	"sync"
)

// executor runs posted functions one at a time, in the order they were
// posted, on a goroutine of its own. The goroutine exists only while there
// is work: it starts on the first post and exits as soon as the queue is
// empty, so an idle executor owns no goroutine and needs no stopping.
type executor struct {
	// log receives the panics of the functions run (nil: silent).
	log Logger

	mu      sync.Mutex
	queue   []func()
	running bool
}

// post queues f. It never blocks.
func (x *executor) post(f func()) {
	x.mu.Lock()
	x.queue = append(x.queue, f)
	if !x.running {
		x.running = true
		go x.run()
	}
	x.mu.Unlock()
}

func (x *executor) run() {
	for {
		x.mu.Lock()
		if len(x.queue) == 0 {
			x.running = false
			x.queue = nil
			x.mu.Unlock()
			return
		}
		f := x.queue[0]
		x.queue[0] = nil
		x.queue = x.queue[1:]
		x.mu.Unlock()
		x.call(f)
	}
}

// call runs f, a user's handler. A panic is logged with its stack and the
// next handlers run: a handler's bug must not take the program down with
// it, nor leave the executor marked running with no goroutine.
func (x *executor) call(f func()) {
	defer func() {
		if r := recover(); r != nil && x.log != nil {
			x.log.Error("socket.io client: handler panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f()
}
