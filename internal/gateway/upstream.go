package gateway

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/approov-gateway/approov/internal/config"
)

// closeStreak is how many responses in a row must ask to close their
// connection before an upstream in auto mode is taken to close them all.
const closeStreak = 16

// upstreamTransport sends requests to one upstream, and pools connections
// only while the upstream keeps them alive.
//
// Pooling is harmful with servers that close every connection, such as
// gunicorn's default sync workers: when a client goes away, http.Transport
// still completes the dials it started for it and parks those connections
// idle, and each idle connection a sync worker accepts blocks that worker
// until the connection closes. Two parked connections were seen to stop a
// two-worker gunicorn answering anyone for seconds. In auto mode, after
// closeStreak responses in a row with "Connection: close", the transport
// switches to one without keep-alive, which closes such connections at
// once, and drops its idle ones.
type upstreamTransport struct {
	pooled, unpooled *http.Transport
	auto             bool
	streak           atomic.Int32
	off              atomic.Bool
	keepAlive        func(bool) // reports the pooling state, for metrics
}

var _ http.RoundTripper = (*upstreamTransport)(nil)

func newUpstreamTransport(cfg *config.Config, keepAlive func(bool)) *upstreamTransport {
	u := &upstreamTransport{pooled: newTransport(cfg), unpooled: newTransport(cfg), keepAlive: keepAlive}
	u.unpooled.DisableKeepAlives = true
	switch cfg.UpstreamKeepAlive {
	case "false":
		u.off.Store(true)
	case "auto":
		u.auto = true
	}
	keepAlive(!u.off.Load())
	return u
}

// RoundTrip sends r on the transport the upstream's behaviour calls for.
func (u *upstreamTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if u.off.Load() {
		return u.unpooled.RoundTrip(r)
	}
	resp, err := u.pooled.RoundTrip(r)
	if err != nil || !u.auto {
		return resp, err
	}
	if !resp.Close {
		u.streak.Store(0)
		return resp, nil
	}
	if u.streak.Add(1) >= closeStreak && u.off.CompareAndSwap(false, true) {
		u.keepAlive(false)
		u.pooled.CloseIdleConnections()
		// Dials already under way for requests in flight may still park a
		// connection; drop those too once they have landed.
		time.AfterFunc(2*time.Second, u.pooled.CloseIdleConnections)
	}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of both transports.
func (u *upstreamTransport) CloseIdleConnections() {
	u.pooled.CloseIdleConnections()
	u.unpooled.CloseIdleConnections()
}

// newTransport returns an upstream transport: bounded connect and
// response-header times, and enough idle connections for a busy backend.
func newTransport(cfg *config.Config) *http.Transport {
	dialer := &net.Dialer{Timeout: cfg.UpstreamDialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // never an environment proxy between gateway and backend
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: cfg.UpstreamResponseHeaderTimeout,
	}
}
