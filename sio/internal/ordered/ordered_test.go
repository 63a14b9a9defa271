package ordered

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests; under js/wasm the
// runtime's event handler is parked for good, and is not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("runtime.handleEvent"))
}

// collect returns a function appending to a list and one reading it.
func collect() (add func(int), get func() []int) {
	var mu sync.Mutex
	var list []int
	return func(v int) {
			mu.Lock()
			list = append(list, v)
			mu.Unlock()
		}, func() []int {
			mu.Lock()
			defer mu.Unlock()
			return append([]int(nil), list...)
		}
}

// waitLen polls get until it has n items or the deadline passes.
func waitLen(t *testing.T, get func() []int, n int) []int {
	t.Helper()
	require.Eventually(t, func() bool { return len(get()) >= n }, 5*time.Second, time.Millisecond)
	return get()
}

func TestQueueRunsInOrderOneAtATime(t *testing.T) {
	for _, pooled := range []bool{false, true} {
		t.Run(map[bool]string{false: "goroutine", true: "pool"}[pooled], func(t *testing.T) {
			var q Queue[Func]
			var p Pool
			if pooled {
				p.Park = 2
				q.Pool = &p
			}
			add, get := collect()
			var inside sync.Mutex
			const n = 1000
			for i := range n {
				require.True(t, q.Post(func() {
					if !inside.TryLock() {
						t.Error("two tasks ran at once")
						return
					}
					add(i)
					inside.Unlock()
				}))
			}
			got := waitLen(t, get, n)
			for i, v := range got {
				require.Equal(t, i, v, "task %d ran out of order", i)
			}
			q.Close()
			if pooled {
				p.Stop()
				p.Wait()
			}
		})
	}
}

type item struct {
	n     int
	panic bool
	add   func(int)
}

func (it item) Run() {
	if it.panic {
		panic(it.n)
	}
	it.add(it.n)
}

func TestQueueOnPanicGoesOn(t *testing.T) {
	add, get := collect()
	var mu sync.Mutex
	var recovered []any
	q := Queue[item]{OnPanic: func(it item, r any) {
		mu.Lock()
		recovered = append(recovered, r)
		mu.Unlock()
		assert.True(t, it.panic)
	}}
	q.Post(item{n: 1, add: add})
	q.Post(item{n: 2, panic: true})
	q.Post(item{n: 3, add: add})
	assert.Equal(t, []int{1, 3}, waitLen(t, get, 2))
	q.Close()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []any{2}, recovered)
}

func TestQueueCloseDropsAndWaits(t *testing.T) {
	var q Queue[Func]
	started, release := make(chan struct{}), make(chan struct{})
	add, get := collect()
	q.Post(func() { close(started); <-release; add(1) })
	q.Post(func() { add(2) })
	<-started
	atClose := make(chan []int)
	go func() { q.Close(); atClose <- get() }()
	require.Eventually(t, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.closed
	}, 5*time.Second, time.Millisecond)
	close(release)
	assert.Equal(t, []int{1}, <-atClose, "Close returned before the running task")
	assert.Equal(t, []int{1}, get(), "the queued task ran after Close")
	assert.False(t, q.Post(func() { add(3) }))
	assert.Equal(t, []int{1}, get())
}

func TestPoolParksAndStops(t *testing.T) {
	p := Pool{Park: 1}
	done := make(chan struct{})
	require.True(t, p.Go(func() { close(done) }))
	<-done
	require.Eventually(t, func() bool { return p.Parked() == 1 }, 5*time.Second, time.Millisecond)

	// Two at once: one reuses the parked goroutine, one is new; only one
	// parks again.
	var wg sync.WaitGroup
	block := make(chan struct{})
	wg.Add(2)
	for range 2 {
		require.True(t, p.Go(func() { wg.Done(); <-block }))
	}
	wg.Wait()
	assert.Equal(t, 0, p.Parked())
	close(block)
	require.Eventually(t, func() bool { return p.Parked() == 1 }, 5*time.Second, time.Millisecond)

	p.Stop()
	assert.Equal(t, 0, p.Parked())
	assert.False(t, p.Go(func() { t.Error("ran after Stop") }))
	p.Wait()

	// A queue on a stopped pool drops what is posted.
	q := Queue[Func]{Pool: &p}
	assert.False(t, q.Post(func() { t.Error("ran after Stop") }))
	q.Close()
}

type countTask struct {
	fn func()
	n  *int
}

func (t countTask) Run() {
	if t.fn != nil {
		t.fn()
		return
	}
	*t.n++
}

// BenchmarkQueueBurst posts bursts of nine tasks to a pooled queue, as a
// connection's handler queue gets them, and waits for each burst.
func BenchmarkQueueBurst(b *testing.B) {
	p := &Pool{Park: 256}
	q := &Queue[countTask]{Pool: p, OnPanic: func(countTask, any) {}}
	done := make(chan struct{}, 1)
	var n int
	signal := countTask{fn: func() { done <- struct{}{} }}
	b.ReportAllocs()
	for b.Loop() {
		for range 8 {
			q.Post(countTask{n: &n})
		}
		q.Post(signal)
		<-done
	}
	p.Stop()
	p.Wait()
}
