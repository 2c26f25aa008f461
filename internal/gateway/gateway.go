// Package gateway composes the approov library into a reverse proxy and
// forward-auth service: canonical routing, per-route policy, proxying,
// signed facts for the backend, metrics, health, reloads and graceful
// shutdown.
//
// A [Gateway] holds its configuration as an immutable snapshot, a state,
// swapped atomically on reload: each request runs to its end on the state it
// started with, so a reload never changes the rules under a request. The
// gateway owns its lifecycle: [Gateway.Run] listens, serves, reloads and
// drains; commands only build the configuration and turn signals into a
// context and a reload channel.
package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/jwks"
	"github.com/approov-gateway/approov/internal/ratelimit"
	"github.com/prometheus/client_golang/prometheus"
)

// Gateway is the running service. Build it with [New] and run it with
// [Gateway.Run]; tests may serve its handlers directly.
type Gateway struct {
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *metrics
	load     func() (*config.Config, error)
	state    atomic.Pointer[state]
	// jwks fills the verifiers' key set from jwks_url, or is nil; it is
	// built at start (its settings need a restart) and runs while Serve
	// does.
	jwks *jwks.Source
	// local holds per-device rate limits when no Redis shares them; it
	// outlives reloads, so that a reload does not give every device a
	// fresh burst.
	local *ratelimit.Local

	// maxConns caps the connections of the API listeners; it is fixed at
	// start-up (max_connections is a restart-only setting).
	maxConns  int
	listeners []listener

	// inflight counts requests in ServeHTTP, WebSocket connections
	// included, which http.Server.Shutdown does not wait for.
	inflight sync.WaitGroup
	draining atomic.Bool
}

var _ http.Handler = (*Gateway)(nil)

// Options are what a gateway needs besides its configuration.
type Options struct {
	// Logger receives the gateway's log; nil discards it.
	Logger *slog.Logger
	// Load reads the configuration again, from the same sources as the
	// first time, for reload. Without it, reloads fail.
	Load func() (*config.Config, error)
}

// New builds a gateway from cfg. It fails, with one line per problem, if
// any key cannot be loaded or any route built: a gateway that cannot verify
// tokens never starts. Warnings, such as a secret file others can read,
// are logged.
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = slog.New(requestIDHandler{log.Handler()})
	reg := prometheus.NewRegistry()
	g := &Gateway{log: log, registry: reg, metrics: newMetrics(reg), load: opts.Load, local: ratelimit.NewLocal()}
	if err := g.startJWKS(cfg); err != nil {
		return nil, err
	}
	if g.jwks != nil {
		reg.MustRegister(newJWKSCollector(g.jwks))
	}
	st, err := g.build(cfg)
	if err != nil {
		return nil, err
	}
	for _, w := range st.warnings {
		log.Warn("configuration", "warning", w)
	}
	g.maxConns = maxConnections(cfg.MaxConnections)
	g.state.Store(st)
	return g, nil
}

// Check builds everything a gateway needs from cfg without serving — what
// --check-config runs — and returns the warnings a start would log.
func Check(cfg *config.Config) (warnings []string, err error) {
	g := &Gateway{log: slog.New(slog.DiscardHandler), metrics: newMetrics(prometheus.NewRegistry()), local: ratelimit.NewLocal()}
	if err := g.startJWKS(cfg); err != nil {
		return nil, err
	}
	st, err := g.build(cfg)
	if err != nil {
		return nil, err
	}
	return st.warnings, nil
}

// startJWKS builds the JWK set source cfg asks for; it fetches nothing
// until Serve runs it.
func (g *Gateway) startJWKS(cfg *config.Config) error {
	src, err := NewJWKSSource(cfg, g.log)
	if err != nil {
		return config.Problems{"jwks_url: " + err.Error()}
	}
	g.jwks = src
	return nil
}

// reload replaces the configuration with a freshly loaded one. If loading
// fails, or the configuration is bad, the gateway keeps serving with the
// old one and reload returns why. Requests in flight finish under the
// configuration they started with. It returns the settings that changed
// but apply only after a restart.
func (g *Gateway) reload() (restartOnly []string, err error) {
	if g.load == nil {
		return nil, errors.New("no configuration source to reload from")
	}
	cfg, err := g.load()
	var st *state
	if err == nil {
		if st, err = g.build(cfg); err != nil {
			err = config.Problems(problemLines(cfg.Locate, err)) // at their YAML lines
		}
	}
	if err != nil {
		g.metrics.reloads.WithLabelValues("failure").Inc()
		return nil, err
	}
	for _, w := range st.warnings {
		g.log.Warn("configuration", "warning", w)
	}
	old := g.state.Swap(st)
	g.metrics.reloads.WithLabelValues("success").Inc()
	g.metrics.lastReload.SetToCurrentTime()
	old.retire()
	return config.RestartOnly(old.cfg, cfg), nil
}

// Config returns the configuration in force.
func (g *Gateway) Config() *config.Config { return g.state.Load().cfg }

// problemLines returns a configuration error as lines, for logs, each
// passed through locate (which adds a YAML line), when not nil.
func problemLines(locate func(string) string, err error) []string {
	var p config.Problems
	if !errors.As(err, &p) {
		p = config.Problems{err.Error()}
	}
	if locate == nil {
		return p
	}
	out := make([]string, len(p))
	for i, line := range p {
		out[i] = locate(line)
	}
	return out
}
