//go:build linux

package wsio

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestConnTable checks the poller's table of connections: an id finds its
// connection until it is removed, and never finds the connection that
// takes the slot afterwards.
func TestConnTable(t *testing.T) {
	var tab connTable
	a, b, c := &OwnConn{}, &OwnConn{}, &OwnConn{}
	ida, idb := tab.add(a), tab.add(b)
	assert.NotZero(t, ida)
	assert.NotEqual(t, ida, idb)
	assert.Same(t, a, tab.get(ida))
	assert.Same(t, b, tab.get(idb))
	assert.Nil(t, tab.get(0))
	assert.Equal(t, 2, tab.n)

	tab.remove(idb, a) // not b's holder: no change
	assert.Same(t, b, tab.get(idb))
	tab.remove(ida, a)
	assert.Nil(t, tab.get(ida))
	assert.Equal(t, 1, tab.n)

	idc := tab.add(c) // reuses a's slot, with a new generation
	assert.Equal(t, uint32(ida), uint32(idc))
	assert.NotEqual(t, ida, idc)
	assert.Nil(t, tab.get(ida), "a late event of a must not reach c")
	assert.Same(t, c, tab.get(idc))

	var all []*OwnConn
	tab.each(func(w *OwnConn) { all = append(all, w) })
	assert.ElementsMatch(t, []*OwnConn{b, c}, all)
}
