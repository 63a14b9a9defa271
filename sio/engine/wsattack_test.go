//go:build !js

package engine

import "runtime"

// readPaths are the two ways the engine reads the WebSockets it speaks
// itself: pollers (Linux), and a goroutine per connection (other systems,
// TLS). Elsewhere than on Linux both are the second.
var readPaths = []struct {
	name     string
	noPoller bool
}{{"poller", false}, {"reader", true}}

// usage is what the process uses now, after a collection: goroutines, and
// the bytes of live heap and of goroutine stacks.
func usage() (goroutines int, bytes uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc + m.StackInuse
}
