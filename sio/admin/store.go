package admin

import (
	"context"
	"sync"
)

// Store keeps the sessions of the admin UI: after a login with the
// password, the UI gets a session id ("session" event) that it sends
// instead of the credentials when it reconnects. A Store shared by the
// nodes of a cluster (one backed by Redis, say) lets a session opened on
// one node be used on another. Its methods may be called concurrently.
type Store interface {
	// SessionExists reports whether id is a session saved earlier.
	SessionExists(ctx context.Context, id string) (bool, error)
	// SaveSession saves session id.
	SaveSession(ctx context.Context, id string) error
}

// MemoryStore is the default Store: sessions in memory, for the life of
// the process (upstream's InMemoryStore, whose sessions do not expire
// either).
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string]struct{}
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{sessions: make(map[string]struct{})}
}

// SessionExists implements Store.
func (m *MemoryStore) SessionExists(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.sessions[id]
	return ok, nil
}

// SaveSession implements Store.
func (m *MemoryStore) SaveSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[id] = struct{}{}
	return nil
}
