package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Addrs are the addresses a gateway listens on, once [Gateway.Listen] has
// opened them; an empty string is a listener that is off.
type Addrs struct {
	// Listen serves the API: the proxy, or the forward-auth endpoint when
	// forward_auth_only is set.
	Listen string
	// ForwardAuth serves the forward-auth endpoint beside the proxy
	// (forward_auth_listen).
	ForwardAuth string
	// Admin serves /healthz, /readyz and /metrics (admin_listen).
	Admin string
	// ExtAuthzGRPC serves Envoy's gRPC ext_authz (ext_authz_grpc_listen).
	ExtAuthzGRPC string
}

// listener is one open listener and the server that serves it.
type listener struct {
	name   string
	ln     net.Listener
	server *http.Server
	// serve and stop replace server's on a listener that is not HTTP
	// (ext_authz_grpc_listen): serve blocks until stop ends it, and
	// returns nil then.
	serve func() error
	stop  func(ctx context.Context)
}

// Listen opens every listener the configuration names. It is separate from
// [Gateway.Serve] so that callers can learn the addresses (ports chosen by
// the system, for example) before serving starts.
func (g *Gateway) Listen() error {
	if g.listeners != nil {
		return errors.New("gateway: already listening")
	}
	cfg := g.Config()
	type want struct {
		name, addr string
		handler    http.Handler
	}
	wants := []want{{"listen", cfg.Listen, g.Handler()}}
	if cfg.ForwardAuthListen != "off" {
		wants = append(wants, want{"forward_auth_listen", cfg.ForwardAuthListen, g.forwardAuthHandler()})
	}
	if cfg.AdminListen != "off" {
		wants = append(wants, want{"admin_listen", cfg.AdminListen, g.adminHandler()})
	}
	var opened []listener
	for _, w := range wants {
		ln, err := net.Listen("tcp", w.addr)
		if err != nil {
			for _, l := range opened {
				l.ln.Close()
			}
			return fmt.Errorf("%s: %w", w.name, err)
		}
		server := g.newServer(w.handler)
		if w.name != "admin_listen" {
			// The admin listener stays reachable when the API is full,
			// so that health checks and metrics still answer.
			limiter := newConnLimiter(ln, g.maxConns)
			server.ConnState = limiter.track
			ln = limiter
		}
		opened = append(opened, listener{name: w.name, ln: ln, server: server})
	}
	if cfg.ExtAuthzGRPCListen != "off" {
		ln, err := net.Listen("tcp", cfg.ExtAuthzGRPCListen)
		if err != nil {
			for _, l := range opened {
				l.ln.Close()
			}
			return fmt.Errorf("ext_authz_grpc_listen: %w", err)
		}
		opened = append(opened, g.extAuthzListener(ln))
	}
	g.listeners = opened
	return nil
}

// Addrs returns the addresses of the open listeners.
func (g *Gateway) Addrs() Addrs {
	var a Addrs
	for _, l := range g.listeners {
		addr := l.ln.Addr().String()
		switch l.name {
		case "listen":
			a.Listen = addr
		case "forward_auth_listen":
			a.ForwardAuth = addr
		case "admin_listen":
			a.Admin = addr
		case "ext_authz_grpc_listen":
			a.ExtAuthzGRPC = addr
		}
	}
	return a
}

// Run listens, then serves until ctx is done; see [Gateway.Serve].
func (g *Gateway) Run(ctx context.Context, reload <-chan struct{}) error {
	if err := g.Listen(); err != nil {
		return err
	}
	return g.Serve(ctx, reload)
}

// Serve serves every listener [Gateway.Listen] opened until ctx is done,
// reloading the configuration each time a value arrives on reload (nil for
// never), then drains: readiness turns false, the listeners close, and the
// requests in flight, WebSocket connections included, finish within
// shutdown_timeout. It returns nil after a clean drain, and an error if a
// listener failed or the drain was cut short.
func (g *Gateway) Serve(ctx context.Context, reload <-chan struct{}) error {
	if g.listeners == nil {
		return errors.New("gateway: Serve called before Listen")
	}
	if g.jwks != nil {
		// Its own context, so that the keys stay fresh while requests
		// drain; it stops when Serve returns.
		jctx, stop := context.WithCancel(context.Background())
		defer stop()
		go g.jwks.Run(jctx)
	}
	failed := make(chan error, len(g.listeners))
	for _, l := range g.listeners {
		go func() {
			if l.serve != nil {
				if err := l.serve(); err != nil {
					failed <- fmt.Errorf("%s: %w", l.name, err)
				}
				return
			}
			if err := l.server.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("%s: %w", l.name, err)
			}
		}()
	}
	a := g.Addrs()
	g.log.Info("serving", "listen", a.Listen, "forward_auth_listen", offIfEmpty(a.ForwardAuth), "ext_authz_grpc_listen", offIfEmpty(a.ExtAuthzGRPC),
		"admin_listen", offIfEmpty(a.Admin), "summary", g.Config().SummaryAt(g.addresses()), "version", version.String())

	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-failed:
			g.log.Error("server failed", "error", err)
			serveErr = err
			break loop
		case <-reload:
			g.reloadAndLog()
		}
	}
	timeout := g.Config().ShutdownTimeout
	g.log.Info("shutting down: draining in-flight requests", "timeout", timeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := g.drain(shutdownCtx); err != nil {
		g.log.Error("shutdown incomplete", "error", err)
		return errors.Join(serveErr, err)
	}
	g.log.Info("stopped")
	return serveErr
}

func offIfEmpty(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}

// reloadAndLog reloads and says what happened: every problem of a
// refused configuration, at its line; or what changed and what of that
// needs a restart.
func (g *Gateway) reloadAndLog() {
	old := g.Config()
	restartOnly, err := g.reload()
	if err != nil {
		g.log.Error("configuration reload refused; still serving the previous one", "problems", problemLines(nil, err))
		return
	}
	cfg := g.Config()
	for _, name := range restartOnly {
		g.log.Warn("setting changed but needs a restart to apply", "setting", name)
	}
	g.log.Info("configuration reloaded", "changed", config.Changed(old, cfg), "restart_needed", restartOnly,
		"summary", cfg.SummaryAt(g.addresses()))
}

// addresses are the addresses in use, for summaries.
func (g *Gateway) addresses() config.Addresses {
	a := g.Addrs()
	return config.Addresses{Listen: a.Listen, ForwardAuth: a.ForwardAuth, Admin: a.Admin}
}

// drain stops the servers and waits for the requests they do not track.
func (g *Gateway) drain(ctx context.Context) error {
	g.draining.Store(true)
	var errs []error
	for _, l := range g.listeners {
		if l.stop != nil {
			l.stop(ctx)
			continue
		}
		if err := l.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.name, err))
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
		for _, l := range g.listeners {
			if l.server != nil {
				l.server.Close()
			}
		}
	}
	return errors.Join(errs...)
}

// newServer returns an http.Server for h with the configured limits. It
// has no overall read or write timeout, so that uploads, downloads and
// WebSockets can stream; ReadHeaderTimeout and IdleTimeout bound idle
// clients, and the body limits (see limits.go) slow uploads.
func (g *Gateway) newServer(h http.Handler) *http.Server {
	cfg := g.Config()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

// adminHandler serves /healthz (the process is up), /readyz (a
// configuration is loaded, the JWK set too if there is one, and the
// gateway is not draining) and /metrics.
func (g *Gateway) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if g.draining.Load() {
			writeStatus(w, http.StatusServiceUnavailable, "draining")
			return
		}
		if g.jwks != nil && !g.jwks.Status().Loaded {
			writeStatus(w, http.StatusServiceUnavailable, "jwks not loaded")
			return
		}
		if st := g.state.Load(); st.cfg.ReadyzUpstreams {
			if u := unreachable(r.Context(), st.upstreams, st.cfg.UpstreamDialTimeout); u != nil {
				g.log.Warn("readyz: upstream unreachable", "upstream", u.String())
				writeStatus(w, http.StatusServiceUnavailable, "upstream unreachable")
				return
			}
		}
		writeStatus(w, http.StatusOK, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.registry, promhttp.HandlerOpts{ErrorLog: slogPrinter{g.log}}))
	return mux
}

// unreachable returns an upstream no connection can be opened to within
// timeout, trying all at once, or nil.
func unreachable(ctx context.Context, upstreams []config.Upstream, timeout time.Duration) *config.Upstream {
	failed := make(chan *config.Upstream, len(upstreams))
	var wg sync.WaitGroup
	for i := range upstreams {
		u := &upstreams[i]
		wg.Go(func() {
			d := net.Dialer{Timeout: timeout}
			conn, err := d.DialContext(ctx, u.Network, u.Address)
			if err != nil {
				failed <- u
				return
			}
			conn.Close()
		})
	}
	wg.Wait()
	close(failed)
	return <-failed
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error("metrics", "error", fmt.Sprint(v...)) }
