// Package fifo is a first-in first-out queue that keeps its backing array
// between bursts, for the queues of the server's hot paths.
package fifo

// Queue is a FIFO queue. The zero value is empty and ready. It is not safe
// for concurrent use.
type Queue[T any] struct {
	items []T
	head  int // items[head:] are queued
}

// Push appends v.
func (q *Queue[T]) Push(v T) { q.items = append(q.items, v) }

// Len returns the number of queued items.
func (q *Queue[T]) Len() int { return len(q.items) - q.head }

// Pop removes and returns the first item. When the queue is empty it
// reports false, and keeps its backing array for the next burst if its
// capacity is at most keep, else releases it.
func (q *Queue[T]) Pop(keep int) (v T, ok bool) {
	if q.head == len(q.items) {
		if cap(q.items) > keep {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
		q.head = 0
		return v, false
	}
	v = q.items[q.head]
	var zero T
	q.items[q.head] = zero // no reference kept
	q.head++
	return v, true
}

// Reset empties the queue and releases its backing array.
func (q *Queue[T]) Reset() { q.items, q.head = nil, 0 }
