package client

import (
	"math"
	"time"
)

// backoff computes reconnection delays exactly as the official client's
// backo2 algorithm: min·2^attempt, moved by a random deviation of up to
// jitter·delay (down for an even draw, up for an odd one), then capped at max.
type backoff struct {
	min, max time.Duration
	jitter   float64
	attempts int
	// rand returns a number in [0, 1).
	rand func() float64
}

// duration returns the next delay and counts one more attempt.
func (b *backoff) duration() time.Duration {
	ms := float64(b.min) / float64(time.Millisecond) * pow2(b.attempts)
	b.attempts++
	if b.jitter > 0 && b.jitter <= 1 {
		r := b.rand()
		deviation := math.Floor(r * b.jitter * ms)
		if int(math.Floor(r*10))&1 == 0 {
			ms -= deviation
		} else {
			ms += deviation
		}
	}
	maxMS := float64(b.max) / float64(time.Millisecond)
	return time.Duration(math.Floor(math.Min(ms, maxMS)) * float64(time.Millisecond))
}

// reset forgets the attempts made.
func (b *backoff) reset() { b.attempts = 0 }

// pow2 returns 2**n as math.Pow(2, n) does, without math.Pow's code (it is
// exact for the attempt counts of a backoff and overflows to +Inf like it).
func pow2(n int) float64 {
	r := 1.0
	for ; n > 0 && !math.IsInf(r, 1); n-- {
		r *= 2
	}
	return r
}
