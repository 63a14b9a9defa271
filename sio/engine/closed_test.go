//go:build !js

package engine

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClosedSessionsExpireAndStayBounded(t *testing.T) {
	var c closedSessions
	t0 := time.Unix(1000, 0)
	c.add("a", closedSession{codec: codec4}, t0)
	c.add("b", closedSession{codec: codec3Base64}, t0.Add(time.Second))
	got, ok := c.take("b", t0.Add(time.Second))
	require.True(t, ok)
	assert.Equal(t, closedSession{codec: codec3Base64}, got)
	_, ok = c.take("b", t0.Add(time.Second))
	assert.False(t, ok, "answered once")
	_, ok = c.take("a", t0.Add(closedSessionGrace+time.Nanosecond))
	assert.False(t, ok, "expired")
	assert.Zero(t, c.len(), "expired entries are dropped")

	for i := range maxClosedSessions + 10 {
		c.add(strconv.Itoa(i), closedSession{codec: codec4}, t0)
	}
	assert.Equal(t, maxClosedSessions, c.len())
	_, ok = c.take("0", t0)
	assert.False(t, ok, "the oldest make room")
	_, ok = c.take(strconv.Itoa(maxClosedSessions+9), t0)
	assert.True(t, ok)
	c.reset()
	assert.Zero(t, c.len())
}
