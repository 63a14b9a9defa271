package client

import "sync"

// executor runs posted functions one at a time, in the order they were
// posted, on a goroutine of its own. The goroutine exists only while there
// is work: it starts on the first post and exits as soon as the queue is
// empty, so an idle executor owns no goroutine and needs no stopping.
type executor struct {
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
		f()
	}
}
