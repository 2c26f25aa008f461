package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// AdminHandler serves /healthz (the process is up), /readyz (keys are
// loaded and the gateway is not draining) and /metrics.
func (g *Gateway) AdminHandler(gatherer prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case g.draining.Load():
			writeStatus(w, http.StatusServiceUnavailable, "draining")
		case g.state.Load() == nil:
			writeStatus(w, http.StatusServiceUnavailable, "no configuration")
		default:
			writeStatus(w, http.StatusOK, "ready")
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{ErrorLog: slogPrinter{g.log}}))
	return mux
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error("metrics", "error", v) }

// NewServer returns an http.Server for h with the configured limits. It
// has no overall read or write timeout, so that uploads, downloads and
// WebSockets can stream; ReadHeaderTimeout and IdleTimeout bound idle
// clients.
func (g *Gateway) NewServer(h http.Handler) *http.Server {
	cfg := g.Config()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

// Shutdown drains: readiness turns false, the servers stop accepting and
// finish their requests, and then the gateway waits for the requests
// http.Server does not track, such as WebSocket connections, all by
// ctx's deadline. It reports whether everything finished in time.
func (g *Gateway) Shutdown(ctx context.Context, servers ...*http.Server) error {
	g.draining.Store(true)
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() {
		g.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, errors.New("requests still in flight at the shutdown deadline"))
		for _, s := range servers {
			s.Close()
		}
	}
	return errors.Join(errs...)
}

// Listen opens the API and admin listeners; admin is nil when the admin
// endpoints are off.
func (g *Gateway) Listen() (api, admin net.Listener, err error) {
	cfg := g.Config()
	api, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, nil, err
	}
	if cfg.AdminListen != "off" {
		admin, err = net.Listen("tcp", cfg.AdminListen)
		if err != nil {
			api.Close()
			return nil, nil, err
		}
	}
	return api, admin, nil
}
