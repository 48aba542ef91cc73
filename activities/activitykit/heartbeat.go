package activitykit

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// DefaultHeartbeatInterval is how often KeepAlive heartbeats when given 0.
const DefaultHeartbeatInterval = 5 * time.Second

// Heartbeat records a Temporal heartbeat when ctx is an activity context and
// does nothing otherwise (unit tests call activities with a plain context).
// Details must never contain secrets: they are stored in history.
func Heartbeat(ctx context.Context, details ...any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details...)
	}
}

// KeepAlive heartbeats every interval (DefaultHeartbeatInterval when 0)
// until the returned stop is called or ctx ends. Wrap any call that can take
// more than a few seconds with it so that cancellation reaches the activity:
// Temporal delivers cancellation in heartbeat responses. Outside an activity
// it does nothing.
func KeepAlive(ctx context.Context, every time.Duration) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	if every <= 0 {
		every = DefaultHeartbeatInterval
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	var stopped bool
	return func() {
		if !stopped {
			stopped = true
			close(done)
		}
	}
}
