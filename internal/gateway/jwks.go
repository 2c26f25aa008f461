package gateway

import (
	"log/slog"

	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/jwks"
	"github.com/prometheus/client_golang/prometheus"
)

// NewJWKSSource returns the JWK set source cfg asks for, or nil when
// jwks_url is not set. The source lives as long as the gateway: its
// settings apply at start only.
func NewJWKSSource(cfg *config.Config, log *slog.Logger) (*jwks.Source, error) {
	if cfg.JWKSURL == "" {
		return nil, nil
	}
	return jwks.New(jwks.Options{
		URL:                cfg.JWKSURL,
		RefreshInterval:    cfg.JWKSRefreshInterval,
		UnknownKidInterval: cfg.JWKSUnknownKidInterval,
		Timeout:            cfg.JWKSTimeout,
		AllowSymmetric:     cfg.JWKSAllowSymmetric,
		Log:                log,
	})
}

// jwksCollector exports a JWK set source's state at each scrape.
type jwksCollector struct {
	src                            *jwks.Source
	refreshes, keys, age, failures *prometheus.Desc
	loaded                         *prometheus.Desc
}

func newJWKSCollector(src *jwks.Source) *jwksCollector {
	return &jwksCollector{
		src: src,
		refreshes: prometheus.NewDesc("approov_gateway_jwks_refreshes_total",
			"Fetches of the JWK set, by trigger (scheduled: start, interval, retry; unknown_kid: a token named a key the set lacked) and outcome (ok, error).",
			[]string{"trigger", "outcome"}, nil),
		keys: prometheus.NewDesc("approov_gateway_jwks_keys",
			"Keys of the last good JWK set, by state: in_use, or skipped (unsupported, unpinnable, not for signatures, private, or symmetric when not allowed).",
			[]string{"state"}, nil),
		age: prometheus.NewDesc("approov_gateway_jwks_age_seconds",
			"Time since the JWK set in use was fetched; absent until one has been.", nil, nil),
		failures: prometheus.NewDesc("approov_gateway_jwks_consecutive_failures",
			"Fetches of the JWK set that failed since the last one that worked.", nil, nil),
		loaded: prometheus.NewDesc("approov_gateway_jwks_loaded",
			"1 once a JWK set has been fetched, 0 before: until then /readyz answers 503.", nil, nil),
	}
}

func (c *jwksCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.refreshes, c.keys, c.age, c.failures, c.loaded} {
		ch <- d
	}
}

func (c *jwksCollector) Collect(ch chan<- prometheus.Metric) {
	for _, n := range c.src.Counts() {
		ch <- prometheus.MustNewConstMetric(c.refreshes, prometheus.CounterValue, float64(n.N), n.Trigger, n.Outcome)
	}
	st := c.src.Status()
	ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(len(st.Keys)), "in_use")
	ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(len(st.Skipped)), "skipped")
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(st.Failures))
	loaded := 0.0
	if st.Loaded {
		loaded = 1
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, c.src.Age().Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.loaded, prometheus.GaugeValue, loaded)
}
