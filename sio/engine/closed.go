package engine

import "time"

// A client closing its polling session POSTs a close packet while its GET
// may be pending, or on its way: the official server, which handles one
// request at a time, answers a pending GET with a noop, and the client's
// GET is most often already pending. Here the POST and a GET sent with it
// are handled concurrently, so the GET may come just after the session is
// gone; instead of a 400 for an unknown session, it gets the noop it would
// have got a moment earlier. The server remembers, for a short and bounded
// time, the sessions their clients closed over polling.

// closedSessionGrace is how long such a session is remembered: a GET
// racing the POST arrives within a round trip of it.
const closedSessionGrace = 5 * time.Second

// maxClosedSessions bounds the sessions remembered; past it, the oldest
// are forgotten early (their racing GET would then get a 400).
const maxClosedSessions = 4096

// closedSession is what answering a GET of a closed session takes: the
// framing of its client's protocol.
type closedSession struct {
	codec codec
}

type closedEntry struct {
	sid     string
	expires time.Time
}

type closedValue struct {
	closedSession
	expires time.Time
}

// closedSessions holds the sessions closed by their clients over polling
// (see above). Each answers one GET, until it expires. It needs no timer
// or goroutine: expired entries are dropped by the next add or take. Not
// safe for concurrent use (Server.mu guards it).
type closedSessions struct {
	bySID map[string]closedValue
	// order holds the entries from order[head:] in the order they were
	// added, which is the order they expire in; an entry whose session
	// was taken stays until it is dropped.
	order []closedEntry
	head  int
}

// add remembers sid, closed at now.
func (c *closedSessions) add(sid string, cs closedSession, now time.Time) {
	c.prune(now)
	if len(c.order)-c.head >= maxClosedSessions {
		c.dropOldest()
	}
	if c.bySID == nil {
		c.bySID = make(map[string]closedValue)
	}
	exp := now.Add(closedSessionGrace)
	c.bySID[sid] = closedValue{cs, exp}
	c.order = append(c.order, closedEntry{sid, exp})
}

// take returns the session sid if it is remembered at now, and forgets it.
func (c *closedSessions) take(sid string, now time.Time) (closedSession, bool) {
	c.prune(now)
	v, ok := c.bySID[sid]
	if !ok {
		return closedSession{}, false
	}
	delete(c.bySID, sid)
	return v.closedSession, true
}

// prune drops the entries expired at now.
func (c *closedSessions) prune(now time.Time) {
	for c.head < len(c.order) && !now.Before(c.order[c.head].expires) {
		c.dropOldest()
	}
}

// dropOldest drops the oldest entry, and forgets its session unless it
// was taken (and possibly closed again since).
func (c *closedSessions) dropOldest() {
	e := c.order[c.head]
	if v, ok := c.bySID[e.sid]; ok && v.expires.Equal(e.expires) {
		delete(c.bySID, e.sid)
	}
	c.order[c.head] = closedEntry{}
	c.head++
	switch {
	case c.head == len(c.order):
		c.order, c.head = c.order[:0], 0
		if len(c.bySID) == 0 {
			// Release what a burst grew: maps do not shrink.
			c.bySID, c.order = nil, nil
		}
	case c.head > len(c.order)/2 && c.head >= 64:
		n := copy(c.order, c.order[c.head:])
		clear(c.order[n:])
		c.order, c.head = c.order[:n], 0
	}
}

func (c *closedSessions) len() int { return len(c.bySID) }

// reset forgets everything.
func (c *closedSessions) reset() { *c = closedSessions{} }
