package gateway

import (
	"log/slog"
	"net/http"
	"time"
)

// Handler returns the API handler: the gateway itself, behind an access
// log when access_log is on.
func (g *Gateway) Handler() http.Handler {
	if !g.Config().AccessLog {
		return g
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		g.ServeHTTP(rec, r)
		// The path, never the query: query strings can carry tokens.
		g.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("remote_addr", r.RemoteAddr))
	})
}

// statusRecorder notes the status and size of a response. Unwrap lets
// http.ResponseController reach Flush and Hijack, which streaming and
// WebSocket proxying need.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
