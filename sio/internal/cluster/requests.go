package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// Requests tracks the requests a node waits for responses to (fetching
// sockets, server-side emits with acknowledgement): each expects a number
// of responses, each response bringing items.
type Requests struct {
	mu sync.Mutex
	m  map[string]*request
}

type request struct {
	kind     int
	expected int
	got      int
	items    []any
	done     chan struct{}
}

// Add registers request id of kind, complete after expected responses.
func (r *Requests) Add(id string, kind, expected int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]*request)
	}
	r.m[id] = &request{kind: kind, expected: expected, done: make(chan struct{})}
}

// Kind returns the kind of request id, and whether it is pending.
func (r *Requests) Kind(id string) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.m[id]
	if !ok {
		return 0, false
	}
	return q.kind, true
}

// Respond counts one response to request id, with its items. It reports
// false when the request is unknown (not ours, finished, or timed out).
func (r *Requests) Respond(id string, items ...any) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.m[id]
	if !ok {
		return false
	}
	q.items = append(q.items, items...)
	q.got++
	if q.got == q.expected {
		close(q.done)
	}
	return true
}

// Wait waits for request id to complete, for ctx to end or for timeout to
// pass, and forgets it. It returns the items so far, the responses
// counted and expected, and ctx.Err() or errTimeout when incomplete.
func (r *Requests) Wait(ctx context.Context, id string, timeout time.Duration, errTimeout func(got, expected int) error) ([]any, error) {
	r.mu.Lock()
	q := r.m[id]
	r.mu.Unlock()
	if q == nil {
		return nil, nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case <-q.done:
	case <-t.C:
	case <-ctx.Done():
	}
	r.mu.Lock()
	delete(r.m, id)
	items, got, expected := q.items, q.got, q.expected
	r.mu.Unlock()
	if got < expected {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %d of %d responses: %w", sio.ErrAckTimeout, got, expected, ctx.Err())
		} else {
			err = errTimeout(got, expected)
		}
	}
	return items, err
}

// AckRequests tracks this node's broadcasts with acknowledgements, whose
// client counts and replies come from the other nodes.
type AckRequests struct {
	mu sync.Mutex
	m  map[string]*ackRequest
}

type ackRequest struct {
	acks    *server.BroadcastAcks
	counted int  // remote nodes that reported their count
	closed  bool // counts are no longer taken (the missing ones were given as 0)
}

// Add registers the broadcast id, forgotten when ctx ends.
func (r *AckRequests) Add(ctx context.Context, id string, acks *server.BroadcastAcks) {
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[string]*ackRequest)
	}
	r.m[id] = &ackRequest{acks: acks}
	r.mu.Unlock()
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		delete(r.m, id)
		r.mu.Unlock()
	})
}

// Has reports whether id is a pending broadcast of this node.
func (r *AckRequests) Has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[id]
	return ok
}

// Count passes a node's client count to broadcast id.
func (r *AckRequests) Count(id string, n int) {
	r.mu.Lock()
	q := r.m[id]
	if q == nil || q.closed {
		r.mu.Unlock()
		return
	}
	q.counted++
	r.mu.Unlock()
	q.acks.Count(n)
}

// Ack passes a client's reply to broadcast id.
func (r *AckRequests) Ack(id string, a sio.Args) {
	r.mu.Lock()
	q := r.m[id]
	r.mu.Unlock()
	if q != nil {
		q.acks.Ack(a)
	}
}

// ExpectRemote arranges that broadcast id, which remote other nodes got,
// gets a count from each within timeout: a node that has not reported by
// then (it died) counts as one that reached no socket, so that a wait
// without deadline still ends.
func (r *AckRequests) ExpectRemote(id string, remote int, timeout time.Duration) {
	time.AfterFunc(timeout, func() {
		r.mu.Lock()
		q := r.m[id]
		if q == nil || q.closed {
			r.mu.Unlock()
			return
		}
		q.closed = true
		missing := remote - q.counted
		r.mu.Unlock()
		for range missing {
			q.acks.Count(0)
		}
	})
}

// BroadcastWithAck runs the requester's side of a broadcast with
// acknowledgements, as upstream's adapters do: the request id is
// registered, publish sends the request to the other nodes, the sockets of
// this node get the packet, and the server count tells how many nodes will
// report. When the server count fails, only this node is counted.
func BroadcastWithAck(ctx context.Context, r *AckRequests, id string, local *server.MemoryAdapter,
	serverCount func(context.Context) (int, error), timeout time.Duration,
	pkt *parser.Packet, opts *server.BroadcastOptions, acks *server.BroadcastAcks, publish func()) error {
	r.Add(ctx, id, acks)
	publish()
	self := *acks
	self.Nodes = nil
	if err := local.BroadcastWithAck(ctx, pkt, opts, &self); err != nil {
		return err
	}
	n, err := serverCount(ctx)
	if err != nil || n < 1 {
		n = 1
	}
	if n > 1 {
		r.ExpectRemote(id, n-1, timeout)
	}
	acks.Nodes(n)
	return nil
}
