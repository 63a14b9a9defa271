package redisadapter

import (
	"context"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	// maxQueued bounds the messages waiting to be published: while Redis
	// is unreachable they pile up, and beyond this they are dropped (what
	// is published while Redis is down is lost anyway).
	maxQueued = 100000
	// publishTimeout bounds one pipelined batch of publications.
	publishTimeout = 10 * time.Second
	// subscriberBuffer is the room go-redis keeps for received messages
	// not yet handled.
	subscriberBuffer = 4096
)

// outgoing is a message to publish.
type outgoing struct {
	channel string
	payload []byte
}

// publisher publishes messages in order from one goroutine, each batch of
// what was queued meanwhile in one pipeline (one round trip), so that
// neither broadcasts nor the read paths that send acknowledgements wait
// for Redis.
type publisher struct {
	client  goredis.UniversalClient
	sharded bool // SPUBLISH rather than PUBLISH
	log     *slog.Logger

	mu      sync.Mutex
	queue   []outgoing
	closed  bool
	failing bool // the last batch failed: log the next failure at debug level only
	wake    chan struct{}
	done    chan struct{}
}

func newPublisher(client goredis.UniversalClient, sharded bool, log *slog.Logger) *publisher {
	p := &publisher{client: client, sharded: sharded, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go p.run()
	return p
}

// publish queues a message.
func (p *publisher) publish(channel string, payload []byte) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if len(p.queue) >= maxQueued {
		p.mu.Unlock()
		p.log.Debug("redis adapter: publish queue full, message dropped", "channel", channel)
		return
	}
	p.queue = append(p.queue, outgoing{channel, payload})
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *publisher) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		batch := p.queue
		p.queue = nil
		closed := p.closed
		p.mu.Unlock()
		if len(batch) > 0 {
			p.send(batch)
			continue
		}
		if closed {
			return
		}
		<-p.wake
	}
}

func (p *publisher) send(batch []outgoing) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	var err error
	if len(batch) == 1 {
		err = p.one(ctx, p.client, batch[0])
	} else {
		_, err = p.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
			for _, m := range batch {
				_ = p.one(ctx, pipe, m)
			}
			return nil
		})
	}
	p.mu.Lock()
	wasFailing := p.failing
	p.failing = err != nil
	p.mu.Unlock()
	switch {
	case err != nil && !wasFailing:
		p.log.Warn("redis adapter: publishing failed, messages lost", "count", len(batch), "err", err)
	case err != nil:
		p.log.Debug("redis adapter: publishing failed, messages lost", "count", len(batch), "err", err)
	case wasFailing:
		p.log.Info("redis adapter: publishing works again")
	}
}

func (p *publisher) one(ctx context.Context, c goredis.Cmdable, m outgoing) error {
	if p.sharded {
		return c.SPublish(ctx, m.channel, m.payload).Err()
	}
	return c.Publish(ctx, m.channel, m.payload).Err()
}

// close publishes what is queued, then stops.
func (p *publisher) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.done
}

// subscriber reads a PubSub's messages on one goroutine and hands them to
// handle, in order. go-redis reconnects and subscribes again by itself
// when the connection is lost (what was published meanwhile is lost).
type subscriber struct {
	ps   *goredis.PubSub
	done chan struct{}
}

func newSubscriber(ps *goredis.PubSub, handle func(*goredis.Message)) *subscriber {
	s := &subscriber{ps: ps, done: make(chan struct{})}
	ch := ps.Channel(goredis.WithChannelSize(subscriberBuffer))
	go func() {
		defer close(s.done)
		for m := range ch {
			handle(m)
		}
	}()
	return s
}

// close ends the subscriptions and waits for the handling goroutine.
func (s *subscriber) close() {
	_ = s.ps.Close()
	<-s.done
}
