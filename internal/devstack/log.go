package devstack

import (
	"context"
	"log/slog"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// serverLogger adapts a slog logger to the Temporal server's logger
// interface. Its level is a LevelVar so the stack can go quiet while it
// stops (the services log a burst of dial and poll warnings then). Fatal and
// Panic are logged as errors: the embedded server must not exit or crash
// the host process through its logger.
type serverLogger struct {
	log   *slog.Logger
	level *slog.LevelVar
}

var (
	_ log.Logger      = serverLogger{}
	_ log.SLogWrapper = serverLogger{}
	_ log.WithLogger  = serverLogger{}
	_ log.SkipLogger  = serverLogger{}
)

func (s serverLogger) Debug(msg string, tags ...tag.Tag)  { s.emit(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)   { s.emit(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)   { s.emit(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) { s.emit(slog.LevelError, msg, tags) }
func (s serverLogger) Panic(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s serverLogger) Fatal(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }

// SLog exposes the underlying slog logger (the server uses it for a few
// components that log through slog directly).
func (s serverLogger) SLog() *slog.Logger { return slog.New(levelHandler{s.log.Handler(), s.level}) }

// With returns a logger that prepends tags to every record.
func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	return serverLogger{log: s.log.With(attrsAny(tags)...), level: s.level}
}

// Skip is part of log.SkipLogger; slog records no caller, so it is a no-op.
func (s serverLogger) Skip(int) log.Logger { return s }

func (s serverLogger) emit(level slog.Level, msg string, tags []tag.Tag) {
	if level < s.level.Level() {
		return
	}
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, len(tags))
	for i, t := range tags {
		attrs[i] = slog.Any(t.Key(), t.Value())
	}
	s.log.LogAttrs(ctx, level, msg, attrs...)
}

func attrsAny(tags []tag.Tag) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = slog.Any(t.Key(), t.Value())
	}
	return out
}

// levelHandler filters records below a dynamic level before passing them on.
type levelHandler struct {
	next  slog.Handler
	level *slog.LevelVar
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level.Level() && h.next.Enabled(ctx, l)
}
func (h levelHandler) Handle(ctx context.Context, r slog.Record) error { return h.next.Handle(ctx, r) }
func (h levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{h.next.WithAttrs(a), h.level}
}
func (h levelHandler) WithGroup(n string) slog.Handler {
	return levelHandler{h.next.WithGroup(n), h.level}
}
