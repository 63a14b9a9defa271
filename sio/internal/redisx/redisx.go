// Package redisx holds what the Redis adapters share about talking to
// Redis (not about the cluster protocol, which is package cluster's).
package redisx

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// PubSubCount sums PUBSUB NUMSUB (or SHARDNUMSUB) of channel over the
// masters of a cluster, or asks the one server otherwise, as upstream.
func PubSubCount(ctx context.Context, client goredis.UniversalClient, sharded bool, channel string) (int, error) {
	ask := func(ctx context.Context, c goredis.Cmdable) (int64, error) {
		var cmd *goredis.MapStringIntCmd
		if sharded {
			cmd = c.PubSubShardNumSub(ctx, channel)
		} else {
			cmd = c.PubSubNumSub(ctx, channel)
		}
		m, err := cmd.Result()
		return m[channel], err
	}
	if cc, ok := client.(*goredis.ClusterClient); ok {
		var mu sync.Mutex
		var total int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			n, err := ask(ctx, c)
			mu.Lock()
			total += n
			mu.Unlock()
			return err
		})
		return int(total), err
	}
	n, err := ask(ctx, client)
	return int(n), err
}
