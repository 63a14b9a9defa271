package redisadapter

import (
	"fmt"

	"github.com/gosio/socketio/sio/internal/cluster"
)

func errMalformed(what string) error { return fmt.Errorf("%w: %s", cluster.ErrMalformed, what) }
