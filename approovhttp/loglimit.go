package approovhttp

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// LogLimiter bounds how many rejection lines are logged per second. A
// flood of bad tokens would otherwise write a line per request: tens of
// thousands a second, costing CPU and filling disks while the metrics
// already count every rejection. Lines beyond the limit are counted, and
// the next line let through is preceded by one that says how many were
// left out. One limiter may be shared by several middlewares
// ([WithLogLimiter]) and by other front ends; it is safe for concurrent
// use.
type LogLimiter struct {
	perSecond int64
	now       func() time.Time
	window    atomic.Int64 // the Unix second being counted
	count     atomic.Int64 // lines asked for in that second
	dropped   atomic.Int64 // lines left out since the last report
}

// NewLogLimiter returns a LogLimiter that lets perSecond lines through in
// each second of the wall clock; perSecond 0 or less returns nil, which
// lets every line through.
func NewLogLimiter(perSecond int) *LogLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &LogLimiter{perSecond: int64(perSecond), now: time.Now}
}

// Allow reports whether a line may be logged now and, when it may, how
// many lines were left out before it. A nil LogLimiter allows every line.
func (l *LogLimiter) Allow() (ok bool, dropped int64) {
	if l == nil {
		return true, 0
	}
	sec := l.now().Unix()
	if w := l.window.Load(); w != sec && l.window.CompareAndSwap(w, sec) {
		l.count.Store(0)
	}
	if l.count.Add(1) > l.perSecond {
		l.dropped.Add(1)
		return false, 0
	}
	return true, l.dropped.Swap(0)
}

// Log writes a line through l when l allows it, after a line reporting the
// lines left out before it, if any.
func (l *LogLimiter) Log(ctx context.Context, log *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	ok, dropped := l.Allow()
	if !ok {
		return
	}
	if dropped > 0 {
		log.LogAttrs(ctx, level, "rejections not logged (log_rejections_per_second)", slog.Int64("count", dropped))
	}
	log.LogAttrs(ctx, level, msg, attrs...)
}
