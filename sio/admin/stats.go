package admin

import (
	"sync"
	"time"
)

// aggregatedEvent is one entry of server_stats.aggregatedEvents: how many
// times something happened during one second.
type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"` // milliseconds since the epoch, whole seconds
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     int    `json:"count"`
}

type eventKey struct {
	second       int64
	typ, subType string
}

// eventBuffer counts events per second and type until the next
// server_stats takes them (upstream's EventBuffer).
type eventBuffer struct {
	mu    sync.Mutex
	order []eventKey // first-seen order, so that the output is stable
	count map[eventKey]int
}

func newEventBuffer() *eventBuffer {
	return &eventBuffer{count: make(map[eventKey]int)}
}

func (b *eventBuffer) push(typ, subType string, n int) {
	k := eventKey{second: time.Now().Unix(), typ: typ, subType: subType}
	b.mu.Lock()
	if _, ok := b.count[k]; !ok {
		b.order = append(b.order, k)
	}
	b.count[k] += n
	b.mu.Unlock()
}

// take returns the counts and forgets them.
func (b *eventBuffer) take() []aggregatedEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]aggregatedEvent, 0, len(b.order))
	for _, k := range b.order {
		out = append(out, aggregatedEvent{Timestamp: k.second * 1000, Type: k.typ, SubType: k.subType, Count: b.count[k]})
	}
	b.order = nil
	clear(b.count)
	return out
}
