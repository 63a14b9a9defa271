// Package ordered runs tasks one at a time, in the order they were posted,
// on a goroutine that a queue has only while it has work: the server's
// per-connection handler queue, the client's per-socket handler queue and
// the cluster adapters' handler queues are all a Queue. A Pool lends
// goroutines to many queues, keeping some parked between bursts.
package ordered

import (
	"sync"

	"github.com/gosio/socketio/sio/internal/fifo"
)

// A Task is what a Queue runs.
type Task interface{ Run() }

// Func is a function as a Task.
type Func func()

// Run calls f.
func (f Func) Run() { f() }

// Queue runs the tasks posted to it one at a time, in order. An idle queue
// owns no goroutine and needs no stopping. The zero value is ready to use;
// OnPanic and Pool must be set before the first Post.
type Queue[T Task] struct {
	// OnPanic, when set, is called with a task that panicked and what was
	// recovered, from the deferred function that recovered (so that
	// debug.Stack still shows the panic); the queue then goes on with the
	// next task. Nil: a panic is not recovered.
	OnPanic func(t T, r any)
	// Pool lends the goroutine; nil: a new goroutine per burst.
	Pool *Pool

	mu      sync.Mutex
	items   fifo.Queue[T]
	running bool
	closed  bool
	drainFn func()        // q.drain, made once (a method value allocates)
	stopped chan struct{} // made by Close while a task runs, closed when it returns
}

// keep is the capacity an emptied queue keeps for the next burst.
const keep = 16

// Post queues t; it never blocks. It reports false, and drops t, once the
// queue is closed or its pool stopped.
func (q *Queue[T]) Post(t T) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items.Push(t)
	if q.running {
		q.mu.Unlock()
		return true
	}
	q.running = true
	if q.Pool == nil {
		q.mu.Unlock()
		go q.drain()
		return true
	}
	if q.drainFn == nil {
		q.drainFn = q.drain
	}
	fn := q.drainFn
	q.mu.Unlock()
	if q.Pool.Go(fn) {
		return true
	}
	// The pool is stopped: nothing of this queue runs any more.
	q.mu.Lock()
	q.items.Reset()
	q.running = false
	q.mu.Unlock()
	return false
}

// Close drops what is queued, refuses what is posted from now on and waits
// for the task running, if any, to return. It must not be called from a
// task of q.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.items.Reset()
	if !q.running {
		q.mu.Unlock()
		return
	}
	if q.stopped == nil {
		q.stopped = make(chan struct{})
	}
	stopped := q.stopped
	q.mu.Unlock()
	<-stopped
}

func (q *Queue[T]) drain() {
	for {
		q.mu.Lock()
		t, ok := q.items.Pop(keep)
		if !ok {
			q.running = false
			if q.stopped != nil {
				close(q.stopped)
			}
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if q.OnPanic == nil {
			t.Run()
		} else {
			q.runRecovering(t)
		}
	}
}

func (q *Queue[T]) runRecovering(t T) {
	defer func() {
		if r := recover(); r != nil {
			q.OnPanic(t, r)
		}
	}()
	t.Run()
}

// Pool runs functions on goroutines it keeps parked between runs, up to
// Park of them. A goroutine that ran handlers has the stack they need,
// where a new one starts small and would grow (copying its stack) on
// nearly every message. The zero value parks none.
type Pool struct {
	// Park bounds the goroutines kept parked (a few KiB of stack each).
	Park int

	mu      sync.Mutex
	stopped bool          // no goroutine may start any more
	idle    []chan func() // parked goroutines, waiting for work
	wg      sync.WaitGroup
}

// Go runs fn on a parked goroutine or a new one. It reports false, and
// does nothing, once the pool is stopped.
func (p *Pool) Go(fn func()) bool {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return false
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w <- fn // never blocks: the channel has room for one
		return true
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.work(fn)
	return true
}

// Stop forbids new goroutines and ends the parked ones; what runs goes on
// until it returns.
func (p *Pool) Stop() {
	p.mu.Lock()
	p.stopped = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		w <- nil // never blocks: an idle goroutine's channel is empty
	}
}

// Wait waits for the goroutines of the pool to end; call Stop first.
func (p *Pool) Wait() { p.wg.Wait() }

// Parked returns the number of goroutines parked, waiting for work.
func (p *Pool) Parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// work runs fn, then whatever Go hands it, parking in between, until the
// pool stops or enough goroutines are parked already.
func (p *Pool) work(fn func()) {
	defer p.wg.Done()
	var w chan func()
	for fn != nil {
		presizeStack(false)
		fn()
		p.mu.Lock()
		if p.stopped || len(p.idle) >= p.Park {
			p.mu.Unlock()
			return
		}
		if w == nil {
			w = make(chan func(), 1)
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		fn = <-w
	}
}

// presizeStack makes sure the goroutine has the stack a handler needs
// (encoding its replies included), growing it here, where its stack holds
// two frames, rather than deep in the handler, where growing copies and
// adjusts many: a new goroutine starts with a small stack, and a parked one
// has its stack shrunk by the garbage collector.
//
// The frame is reserved on entry, which grows the stack if it is short,
// and only zeroed in the branch, which never runs.
//
//go:noinline
func presizeStack(never bool) {
	if never {
		var frame [5 << 10]byte
		touchStack(frame[:])
	}
}

//go:noinline
func touchStack(b []byte) { b[len(b)-1] = 1 }
