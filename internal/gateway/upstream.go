package gateway

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/h1"
	"github.com/prometheus/client_golang/prometheus"
)

// closeStreak is how many responses in a row must ask to close their
// connection before an upstream in auto mode is taken to close them all.
const closeStreak = 16

// upstreamTransport sends requests to one upstream: plain ones on the
// synchronous HTTP/1.1 client (package h1) unless upstream_fast_path is
// off, the rest on net/http's Transport. It pools connections only while
// the upstream keeps them alive.
//
// Pooling is harmful with servers that close every connection, such as
// gunicorn's default sync workers: when a client goes away, http.Transport
// still completes the dials it started for it and parks those connections
// idle, and each idle connection a sync worker accepts blocks that worker
// until the connection closes. Two parked connections were seen to stop a
// two-worker gunicorn answering anyone for seconds. (The h1 client dials on
// the request's own goroutine and never parks a connection it did not
// use, but sends keep-alive requests all the same.) In auto mode, after
// closeStreak responses in a row with "Connection: close", both switch to
// closing each connection after its response, and drop their idle ones.
type upstreamTransport struct {
	fast             *h1.Transport // nil when the fast path is off
	pooled, unpooled *http.Transport
	auto             bool
	streak           atomic.Int32
	off              atomic.Bool
	keepAlive        func(bool) // reports the pooling state, for metrics
	// sentFast and sentFallback count the requests each client sends.
	sentFast, sentFallback prometheus.Counter
}

var _ http.RoundTripper = (*upstreamTransport)(nil)

func newUpstreamTransport(cfg *config.Config, up config.Upstream, m *metrics) *upstreamTransport {
	label := up.String()
	gauge := m.keepAlive.WithLabelValues(label)
	u := &upstreamTransport{
		pooled:   newTransport(cfg, up),
		unpooled: newTransport(cfg, up),
		keepAlive: func(on bool) {
			if on {
				gauge.Set(1)
			} else {
				gauge.Set(0)
			}
		},
		sentFast:     m.upstreamRequests.WithLabelValues(label, "fast"),
		sentFallback: m.upstreamRequests.WithLabelValues(label, "fallback"),
	}
	u.unpooled.DisableKeepAlives = true
	if cfg.UpstreamFastPath && up.URL.Scheme == "http" {
		d := upstreamDialer(cfg)
		u.fast = &h1.Transport{
			Dial:                  func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, up.Network, up.Address) },
			ResponseHeaderTimeout: cfg.UpstreamResponseHeaderTimeout,
			MaxIdle:               maxIdlePerUpstream,
			IdleTimeout:           idleTimeout,
		}
	}
	switch cfg.UpstreamKeepAlive {
	case "false":
		u.off.Store(true)
		if u.fast != nil {
			u.fast.SetKeepAlive(false)
		}
	case "auto":
		u.auto = true
	}
	u.keepAlive(!u.off.Load())
	return u
}

// RoundTrip sends r on the client and with the pooling the upstream's
// behaviour calls for.
func (u *upstreamTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var resp *http.Response
	var err error
	switch {
	case u.fast != nil && h1.Eligible(r):
		u.sentFast.Inc()
		resp, err = u.fast.RoundTrip(r)
	case u.off.Load():
		u.sentFallback.Inc()
		return u.unpooled.RoundTrip(r)
	default:
		u.sentFallback.Inc()
		resp, err = u.pooled.RoundTrip(r)
	}
	if err != nil || !u.auto || u.off.Load() {
		return resp, err
	}
	if !resp.Close {
		u.streak.Store(0)
		return resp, nil
	}
	if r.Close {
		// The gateway asked to close (after HEAD, say), and the upstream
		// agreed: that says nothing of how it treats other requests, and
		// a client sending HEADs must not turn pooling off.
		return resp, nil
	}
	if u.streak.Add(1) >= closeStreak && u.off.CompareAndSwap(false, true) {
		u.keepAlive(false)
		if u.fast != nil {
			u.fast.SetKeepAlive(false)
		}
		u.pooled.CloseIdleConnections()
		// Dials already under way for requests in flight may still park a
		// connection; drop those too once they have landed.
		time.AfterFunc(2*time.Second, u.pooled.CloseIdleConnections)
	}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of every client; the
// fast one then pools no more, as befits a retired state.
func (u *upstreamTransport) CloseIdleConnections() {
	if u.fast != nil {
		u.fast.CloseIdleConnections()
	}
	u.pooled.CloseIdleConnections()
	u.unpooled.CloseIdleConnections()
}

// The pool limits of both clients.
const (
	maxIdlePerUpstream = 512
	idleTimeout        = 90 * time.Second
)

func upstreamDialer(cfg *config.Config) *net.Dialer {
	return &net.Dialer{Timeout: cfg.UpstreamDialTimeout, KeepAlive: 30 * time.Second}
}

// newTransport returns net/http's Transport for an upstream: bounded
// connect and response-header times, enough idle connections for a busy
// backend, the response header limit of the fast client, and no
// transparent compression — a proxy forwards the Accept-Encoding the
// client sent, and what the upstream answered, as they are.
func newTransport(cfg *config.Config, up config.Upstream) *http.Transport {
	d := upstreamDialer(cfg)
	return &http.Transport{
		Proxy: nil, // never an environment proxy between gateway and backend
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, up.Network, up.Address)
		},
		ForceAttemptHTTP2:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: h1.MaxResponseHeaderBytes,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    maxIdlePerUpstream,
		IdleConnTimeout:        idleTimeout,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		ResponseHeaderTimeout:  cfg.UpstreamResponseHeaderTimeout,
	}
}
