package cluster

import (
	"sync"

	"github.com/gosio/socketio/sio/internal/fifo"
)

// Serial runs functions one at a time, in the order they were given, on a
// goroutine it has only while there is work: the adapters run the
// namespace's server-side handlers (user code, which may block) there, off
// the goroutine that reads from Redis.
type Serial struct {
	mu      sync.Mutex
	q       fifo.Queue[func()]
	running bool
	closed  bool
	wg      sync.WaitGroup
}

// Go queues fn. It does nothing once Close was called.
func (s *Serial) Go(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.q.Push(fn)
	if !s.running {
		s.running = true
		s.wg.Add(1)
		go s.run()
	}
}

func (s *Serial) run() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		fn, ok := s.q.Pop(64)
		if !ok {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		fn()
	}
}

// Close drops what is queued and waits for the function running, if any.
func (s *Serial) Close() {
	s.mu.Lock()
	s.closed = true
	s.q.Reset()
	s.mu.Unlock()
	s.wg.Wait()
}
