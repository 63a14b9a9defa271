package streamsadapter

import (
	"context"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	// maxQueued bounds the writes waiting for Redis: while it is
	// unreachable they pile up, and beyond this they are dropped.
	maxQueued = 100000
	// writeTimeout bounds one pipelined batch of writes.
	writeTimeout = 10 * time.Second
	// retryMin and retryMax bound the pause before stream entries that
	// could not be written are tried again.
	retryMin = 50 * time.Millisecond
	retryMax = 2 * time.Second
)

// write is a stream entry to add (XADD) or a pub/sub message to publish.
type write struct {
	stream  string // XADD to stream when set, else publish on channel
	fields  []any
	channel string
	payload []byte
	// result, when set, gets the entry's id, or "" with the error.
	result chan<- xaddResult
}

type xaddResult struct {
	id  string
	err error
}

// publisher sends writes in order from one goroutine, each batch of what
// was queued meanwhile in one pipeline. Stream entries that fail are
// tried again, in order, until they are written or the publisher closes,
// as the official adapter's Redis client queues commands while it is
// disconnected: a node cut from Redis for a moment loses none of its
// broadcasts. Pub/sub messages that fail are dropped (their requests time
// out, as upstream's).
type publisher struct {
	client  goredis.UniversalClient
	sharded bool
	maxLen  int64
	log     *slog.Logger

	mu      sync.Mutex
	queue   []write
	closed  bool
	failing bool
	wake    chan struct{}
	stop    chan struct{} // closed by close: no more retries
	done    chan struct{}
}

func newPublisher(client goredis.UniversalClient, sharded bool, maxLen int64, log *slog.Logger) *publisher {
	p := &publisher{client: client, sharded: sharded, maxLen: maxLen, log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// add queues w; it reports false when w was dropped (closed, or queue
// full), its result channel then getting nothing.
func (p *publisher) add(w write) bool {
	p.mu.Lock()
	if p.closed || len(p.queue) >= maxQueued {
		p.mu.Unlock()
		p.log.Debug("redis streams adapter: write dropped (closed or queue full)", "stream", w.stream, "channel", w.channel)
		return false
	}
	p.queue = append(p.queue, w)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

func (p *publisher) run() {
	defer close(p.done)
	var retry []write // stream entries that failed, first in line
	pause := retryMin
	for {
		p.mu.Lock()
		batch := append(retry, p.queue...)
		p.queue = nil
		closed := p.closed
		p.mu.Unlock()
		retry = nil
		if len(batch) == 0 {
			if closed {
				return
			}
			<-p.wake
			continue
		}
		failed := p.send(batch)
		if len(failed) == 0 {
			pause = retryMin
			continue
		}
		if closed {
			for _, w := range failed {
				if w.result != nil {
					w.result <- xaddResult{err: errClosed}
				}
			}
			return
		}
		retry = failed
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-p.stop:
			t.Stop()
		}
		pause = min(pause*2, retryMax)
	}
}

// send writes batch and returns the stream entries that failed. Those
// with a result channel get their result as soon as it is known.
func (p *publisher) send(batch []write) []write {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	cmds := make([]goredis.Cmder, len(batch))
	_, err := p.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, w := range batch {
			cmds[i] = p.cmd(ctx, pipe, w)
		}
		return nil
	})
	var failed []write
	for i, w := range batch {
		cerr := cmds[i].Err()
		if w.stream == "" {
			continue
		}
		if cerr != nil {
			failed = append(failed, w)
			continue
		}
		if w.result != nil {
			w.result <- xaddResult{id: cmds[i].(*goredis.StringCmd).Val()}
		}
	}
	p.mu.Lock()
	wasFailing := p.failing
	p.failing = err != nil
	p.mu.Unlock()
	switch {
	case err != nil && !wasFailing:
		p.log.Warn("redis streams adapter: writing to Redis failed; stream entries will be tried again", "count", len(batch), "err", err)
	case err != nil:
		p.log.Debug("redis streams adapter: writing to Redis failed", "count", len(batch), "err", err)
	case wasFailing:
		p.log.Info("redis streams adapter: writing to Redis works again")
	}
	return failed
}

// cmd queues w's command on pipe: XADD <stream> MAXLEN ~ <maxLen> *
// <fields…>, or (S)PUBLISH <channel> <payload>.
func (p *publisher) cmd(ctx context.Context, pipe goredis.Pipeliner, w write) goredis.Cmder {
	if w.stream != "" {
		return pipe.XAdd(ctx, &goredis.XAddArgs{Stream: w.stream, MaxLen: p.maxLen, Approx: true, Values: w.fields})
	}
	if p.sharded {
		return pipe.SPublish(ctx, w.channel, w.payload)
	}
	return pipe.Publish(ctx, w.channel, w.payload)
}

// close writes what is queued (one try for what fails), then stops.
func (p *publisher) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.done
}
