package streamsadapter

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// reader reads a stream (XREAD COUNT <readCount> BLOCK <blockTime>
// STREAMS <name> <offset>) from the entries added after it started ("$"),
// then from the id of the last entry read, as upstream's startPolling: a
// reader whose connection was lost goes on from where it was, so that
// nothing added meanwhile is missed (as long as the stream still holds
// it: MaxLen).
//
// It reads on a client of its own, so that closing it ends a blocked
// XREAD at once (upstream disconnects its duplicate client).
type reader struct {
	name string
	// mu is held while an entry is handled, and by a session restoration
	// (adapter.RestoreSessionAndAdd), which so sees no entry handled
	// between its reading of the stream and its socket joining its rooms;
	// pos is the id of the last entry read ("" before the first read).
	mu  sync.Mutex
	pos string

	client goredis.UniversalClient
	own    bool // client is this reader's, to close
	cancel context.CancelFunc
	done   chan struct{}
}

func startReader(base goredis.UniversalClient, name string, o *Options, log *slog.Logger, handle func(id string, values map[string]any)) *reader {
	client, own := duplicate(base)
	ctx, cancel := context.WithCancel(context.Background())
	r := &reader{name: name, client: client, own: own, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		pause := retryMin
		failing := false
		// Upstream starts from "$"; starting from the last entry's id
		// reads the same entries, and also those added while the first
		// XREAD was on its way, and gives a position from the start.
		offset := ""
		for offset == "" {
			last, err := client.XRevRangeN(ctx, name, "+", "-", 1).Result()
			if err == nil {
				offset = "0-0"
				if len(last) > 0 {
					offset = last[0].ID
				}
				break
			}
			if ctx.Err() != nil {
				return
			}
			log.Warn("redis streams adapter: reading the stream failed; trying again", "stream", name, "err", err)
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			pause = min(pause*2, retryMax)
		}
		r.mu.Lock()
		r.pos = offset
		r.mu.Unlock()
		for ctx.Err() == nil {
			res, err := client.XRead(ctx, &goredis.XReadArgs{
				Streams: []string{name, offset}, Count: o.ReadCount, Block: o.BlockTime,
			}).Result()
			if errors.Is(err, goredis.Nil) {
				continue // nothing within the block time
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				if !failing {
					log.Warn("redis streams adapter: reading the stream failed; trying again", "stream", name, "err", err)
				}
				failing = true
				t := time.NewTimer(pause)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return
				}
				pause = min(pause*2, retryMax)
				continue
			}
			if failing {
				log.Info("redis streams adapter: reading the stream works again", "stream", name, "from", offset)
			}
			failing, pause = false, retryMin
			for _, s := range res {
				for _, e := range s.Messages {
					r.mu.Lock()
					if _, ok := e.Values["nsp"]; ok {
						handle(e.ID, e.Values)
					}
					offset = e.ID
					r.pos = e.ID
					r.mu.Unlock()
				}
			}
		}
	}()
	return r
}

// duplicate returns a client with base's options, and true, when base is
// a client or cluster client; base itself otherwise.
func duplicate(base goredis.UniversalClient) (goredis.UniversalClient, bool) {
	switch c := base.(type) {
	case *goredis.Client:
		return goredis.NewClient(c.Options()), true
	case *goredis.ClusterClient:
		return goredis.NewClusterClient(c.Options()), true
	}
	return base, false
}

// close stops the reader and waits for it.
func (r *reader) close() {
	r.cancel()
	if r.own {
		_ = r.client.Close()
	}
	<-r.done
}
