package starter

import (
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per client key.
type limiter struct {
	rate      float64 // tokens per second
	burst     float64
	forwarded bool

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(r RateLimit) *limiter {
	if r.PerSecond < 0 {
		return nil
	}
	r = r.withDefaults()
	return &limiter{rate: r.PerSecond, burst: float64(r.Burst), forwarded: r.TrustForwardedFor, buckets: map[string]*bucket{}}
}

// allow takes one token for key; when none is left it returns false and how
// long until one is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		l.lastSweep = now
		for k, b := range l.buckets {
			if now.Sub(b.last) > time.Minute {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// clientKey identifies the client of r for rate limiting.
func (l *limiter) clientKey(r *http.Request) string {
	if l != nil && l.forwarded {
		// The rightmost address is the one the trusted proxy appended; every
		// address left of it was written by the client and could be varied
		// per request to get a fresh bucket each time.
		if xffs := r.Header.Values("X-Forwarded-For"); len(xffs) > 0 {
			all := strings.Split(xffs[len(xffs)-1], ",")
			if last := strings.TrimSpace(all[len(all)-1]); last != "" {
				return last
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
