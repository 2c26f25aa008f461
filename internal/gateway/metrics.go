package gateway

import (
	"net/http"
	"strconv"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/internal/version"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the gateway's Prometheus metrics, in a registry of its own.
type metrics struct {
	requests       *prometheus.CounterVec
	verify         prometheus.Histogram
	upstream       *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	refused        *prometheus.CounterVec
	reloads        *prometheus.CounterVec
	lastReload     prometheus.Gauge
	inflight       prometheus.Gauge
	keepAlive      *prometheus.GaugeVec
	// upstreamRequests counts requests by upstream and the client that
	// sent them: fast (package h1) or fallback (net/http's Transport).
	upstreamRequests *prometheus.CounterVec
	signatures       *prometheus.CounterVec
	rateLimits       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approov_gateway_requests_total",
			Help: "Requests by route, endpoint (proxy or forward_auth), outcome (allowed, rejected, monitored, public, preflight) and reason code.",
		}, []string{"route", "endpoint", "outcome", "reason"}),
		verify: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "approov_gateway_verification_duration_seconds",
			Help:    "Time to verify a request's token and binding.",
			Buckets: []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 1e-3},
		}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "approov_gateway_upstream_duration_seconds",
			Help:    "Time from sending a request upstream to its response headers, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approov_gateway_upstream_errors_total",
			Help: "Requests that got no upstream response, by route and kind (unavailable, timeout, client_closed).",
		}, []string{"route", "kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approov_gateway_refused_requests_total",
			Help: "Requests refused before they reached a route's check or the upstream, by cause (method_case, dot_segment, connection_nominates_guarded, body_timeout, …; docs/CONFIGURATION.md lists them).",
		}, []string{"cause"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approov_gateway_config_reloads_total",
			Help: "Configuration reloads by result (success, failure).",
		}, []string{"result"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "approov_gateway_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully.",
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "approov_gateway_inflight_requests",
			Help: "Requests being served now, WebSocket connections included.",
		}),
		signatures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approov_gateway_message_signatures_total",
			Help: "Message-signature checks of requests with a valid token, by route, endpoint, outcome (verified, not_required, rejected, monitored) and reason code.",
		}, []string{"route", "endpoint", "outcome", "reason"}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approov_gateway_rate_limit_total",
			Help: "Rate-limit decisions on requests with a verified token, by route, limit (device: rate_limit; address: rate_limit_address) and outcome: allowed, limited (429), monitored (over the limit, let through), no_key (no did, or no address: not limited), error (Redis could not decide; let through, or 503 with rate_limit_fail_closed).",
		}, []string{"route", "limit", "outcome"}),
		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "approov_gateway_upstream_requests_total",
			Help: "Requests sent upstream, by upstream and client: fast (the gateway's HTTP/1.1 client, for plain requests) or fallback (net/http's Transport: upgrades, streamed bodies, Expect, https).",
		}, []string{"upstream", "client"}),
		keepAlive: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "approov_gateway_upstream_keepalive",
			Help: "1 while connections to the upstream are pooled, 0 once it is known to close them all (upstream_keepalive).",
		}, []string{"upstream"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "approov_gateway_build_info",
		Help: "Build of the running gateway: version, VCS revision, whether the checkout was modified, commit time and Go version.",
	}, []string{"version", "revision", "modified", "time", "goversion"})
	b := version.Current()
	build.WithLabelValues(b.Version, b.Revision, strconv.FormatBool(b.Modified), b.Time, b.GoVersion).Set(1)
	reg.MustRegister(m.requests, m.verify, m.upstream, m.upstreamErrors, m.refused, m.reloads, m.lastReload, m.inflight, m.keepAlive, m.upstreamRequests, m.signatures, m.rateLimits, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.lastReload.SetToCurrentTime()
	for _, r := range []string{"success", "failure"} {
		m.reloads.WithLabelValues(r)
	}
	for _, r := range refusalCauses {
		m.refused.WithLabelValues(r.cause)
	}
	for _, e := range []*bodyError{errBodyTimeout, errBodyTooLarge, errBodyBroken} {
		m.refused.WithLabelValues(e.cause)
	}
	return m
}

// observer returns the middleware hook that counts a route's requests. The
// counters of each outcome and reason are looked up once, not per request.
func (m *metrics) observer(route, endpoint string) func(*http.Request, approovhttp.Result) {
	reasons := approov.Reasons()
	counters := map[string]prometheus.Counter{}
	for _, reason := range reasons {
		counters["rejected/"+reason] = m.requests.WithLabelValues(route, endpoint, "rejected", reason)
		counters["monitored/"+reason] = m.requests.WithLabelValues(route, endpoint, "monitored", reason)
	}
	allowed := m.requests.WithLabelValues(route, endpoint, "allowed", approov.ReasonOK)
	preflight := m.requests.WithLabelValues(route, endpoint, "preflight", approov.ReasonOK)
	return func(_ *http.Request, res approovhttp.Result) {
		switch {
		case res.Preflight:
			preflight.Inc()
			return
		case res.Err == nil:
			allowed.Inc()
		case res.Monitor:
			counters["monitored/"+approov.Reason(res.Err)].Inc()
		default:
			counters["rejected/"+approov.Reason(res.Err)].Inc()
		}
		m.verify.Observe(res.Duration.Seconds())
	}
}
