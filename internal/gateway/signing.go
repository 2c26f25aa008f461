package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/logfield"
	"github.com/approov-gateway/approov/msgsig"
	"github.com/prometheus/client_golang/prometheus"
)

// Approov SDKs sign requests (RFC 9421): an install signature with the key
// the token's ipk names, an account signature with the account's key. The
// check runs after the token's, on its verified claims, so that floods of
// garbage never reach ECDSA; a signature over Content-Digest makes the body
// part of the check, verified before the upstream sees it (limits.go).
// docs/MESSAGE_SIGNING.md is the protocol.

// signingVerifiers returns the message-signature verifiers of a
// configuration, by policy; the account key and tolerances are shared.
func signingVerifiers(cfg *config.Config) (map[string]*msgsig.Verifier, error) {
	out := map[string]*msgsig.Verifier{}
	var problems config.Problems
	for _, policy := range []string{config.SigningAuto, config.SigningRequired} {
		p, err := msgsig.ParsePolicy(policy)
		if err != nil {
			return nil, err
		}
		opts := []msgsig.VerifierOption{
			msgsig.WithPolicy(p),
			msgsig.WithTokenHeader(cfg.TokenHeader),
			msgsig.WithTolerance(cfg.MessageSigningTolerance),
			msgsig.WithMaxAge(cfg.MessageSigningMaxAge),
		}
		secret, where := cfg.AccountSigningBase64URL, "APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL"
		if cfg.AccountSigningBase64 != "" {
			secret, where = cfg.AccountSigningBase64, "APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64"
		}
		if secret != "" {
			opts = append(opts, msgsig.WithAccountKeyBase64(secret))
		}
		if cfg.AccountSigningKeyID != "" {
			opts = append(opts, msgsig.WithAccountKeyID(cfg.AccountSigningKeyID))
		}
		v, err := msgsig.NewVerifier(opts...)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s", where, config.ErrorText(err)))
			break
		}
		out[policy] = v
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

type signatureFailureKey struct{}

// signatureFailure returns why r's message signature failed on a route in
// monitor mode, or nil.
func signatureFailure(ctx context.Context) error {
	err, _ := ctx.Value(signatureFailureKey{}).(error)
	return err
}

// signatureCounters count one route's signature checks.
type signatureCounters struct {
	verified, notRequired prometheus.Counter
	rejected, monitored   map[string]prometheus.Counter
}

func (m *metrics) signatureCounters(route, endpoint string) *signatureCounters {
	c := &signatureCounters{
		verified:    m.signatures.WithLabelValues(route, endpoint, "verified", msgsig.ReasonOK),
		notRequired: m.signatures.WithLabelValues(route, endpoint, "not_required", msgsig.ReasonOK),
		rejected:    map[string]prometheus.Counter{},
		monitored:   map[string]prometheus.Counter{},
	}
	for _, reason := range append(msgsig.Reasons(), msgsig.ReasonOther) {
		c.rejected[reason] = m.signatures.WithLabelValues(route, endpoint, "rejected", reason)
		c.monitored[reason] = m.signatures.WithLabelValues(route, endpoint, "monitored", reason)
	}
	return c
}

// signedRequest is what the app signed, as the gateway can rebuild it:
// the scheme and host it connected to, the request-target, and the headers.
type signedRequest struct {
	scheme, host, target string
	header               http.Header
}

// checkSignatures verifies the message signatures of a request whose token
// the middleware in front verified, on route rt, for endpoint ("proxy" or
// "forward_auth"); signed rebuilds what the app signed. A failure gets 401
// {}, or in monitor mode passes, noted for the facts.
func (g *Gateway) checkSignatures(st *state, rt *route, v *msgsig.Verifier, endpoint string, signed func(*http.Request) signedRequest, next http.Handler) http.Handler {
	counters := g.metrics.signatureCounters(rt.name, endpoint)
	log := g.log.With("route", rt.name, "endpoint", endpoint)
	// fail answers a failed check: 401 {}, or in monitor mode the request
	// goes on, with the failure noted for the facts.
	fail := func(w http.ResponseWriter, r *http.Request, claims *approov.Claims, uri string, err error) {
		reason := msgsig.Reason(err)
		detail := config.ErrorText(err)
		var me *msgsig.Error
		if errors.As(err, &me) {
			detail = me.Detail()
		}
		// The rebuilt target URI, never the token: a scheme or host
		// mismatch behind a load balancer shows here.
		attrs := []slog.Attr{slog.String("reason", reason), slog.String("detail", detail),
			slog.String("method", logfield.Truncate(r.Method)), slog.String("target_uri", logfield.Truncate(uri)),
			slog.String("remote_addr", r.RemoteAddr)}
		if claims.DeviceID != "" {
			attrs = append(attrs, slog.String("device_id", claims.DeviceID))
		}
		if rt.monitor {
			counters.monitored[reason].Inc()
			st.logLimit.Log(r.Context(), log, slog.LevelWarn, "approov message signature failed (monitor mode: request let through)", append(attrs, slog.Bool("monitor", true))...)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), signatureFailureKey{}, err)))
			return
		}
		counters.rejected[reason].Inc()
		st.logLimit.Log(r.Context(), log, slog.LevelWarn, "approov message signature rejected", attrs...)
		approovhttp.Reject(w, r, err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := approovhttp.ClaimsFromContext(r.Context())
		if !ok {
			// No verified token (monitor mode, a preflight): no key to
			// check a signature with, and nothing vouched for.
			next.ServeHTTP(w, r)
			return
		}
		if !v.Checks(claims) {
			// Nothing to check for this token: the request need not be
			// rebuilt as the app would have signed it.
			counters.notRequired.Inc()
			next.ServeHTTP(w, r)
			return
		}
		sr := signed(r)
		uri, err := msgsig.TargetURI(sr.scheme, sr.host, sr.target)
		var res msgsig.Result
		if err == nil {
			res, err = v.Verify(claims, &msgsig.Request{Method: r.Method, TargetURI: uri, Header: sr.header, BoundHeaders: rt.boundHeaders})
		}
		if err != nil {
			fail(w, r, claims, uri, err)
			return
		}
		if !res.Install && !res.Account {
			counters.notRequired.Inc()
			next.ServeHTTP(w, r)
			return
		}
		if res.Digest != nil && endpoint == "proxy" {
			// The body is part of what was signed: read it whole, and
			// check it, before the upstream sees any of it. (A
			// forward-auth check has no body; the proxy forwards it.)
			r2, be := g.readBody(st, w, r, st.cfg.MaxSignedBody, res.Digest)
			if be != nil {
				g.refuseBody(w, be)
				return
			}
			if err := res.Digest.Verify(); err != nil {
				r2.Body.Close()
				fail(w, r, claims, uri, err)
				return
			}
			r = r2
		}
		counters.verified.Inc()
		next.ServeHTTP(w, r)
	})
}

// proxyOrigin is what the app connected to, for a request on the proxy
// listener: public_url; else a trusted proxy's X-Forwarded-Proto and
// X-Forwarded-Host; else http and the Host header. The target is the
// request's own.
func (st *state) proxySigned(r *http.Request) signedRequest {
	scheme, host := "http", r.Host
	switch {
	case st.publicURL != nil:
		scheme, host = st.publicURL.Scheme, st.publicURL.Host
	case st.isTrusted(r.RemoteAddr):
		if p := firstListItem(r.Header.Get("X-Forwarded-Proto")); p != "" {
			scheme = p
		}
		if h := firstListItem(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return signedRequest{scheme, host, r.RequestURI, r.Header}
}

// forwardAuthSigned is what the app signed, for a forward-auth check:
// public_url, else the check's X-Forwarded-Proto, which the documented
// proxy configurations set, and the original host; the original target as
// the proxy reported it; the check's headers, which are the original's
// but for Content-Length: a check carries no body, so the proxy passes the
// original length in X-Original-Content-Length.
func (st *state) forwardAuthSigned(r *http.Request) signedRequest {
	orig, _ := r.Context().Value(originalKey{}).(original)
	scheme, host := "http", orig.host
	if st.publicURL != nil {
		scheme, host = st.publicURL.Scheme, st.publicURL.Host
	} else if p := firstListItem(r.Header.Get("X-Forwarded-Proto")); p != "" {
		scheme = p
	}
	h := r.Header
	if length, ok := h["X-Original-Content-Length"]; ok {
		h = h.Clone()
		delete(h, "X-Original-Content-Length")
		delete(h, "Content-Length")
		if len(length) != 1 || length[0] != "" {
			h["Content-Length"] = length
		}
	}
	return signedRequest{scheme, host, orig.uri, h}
}

func firstListItem(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// parsePublicURL parses public_url, validated by config; nil when unset.
func parsePublicURL(raw string) *url.URL {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	return u
}

// reasonOf is the reason code of a check's failure, token or signature.
func reasonOf(err error) string {
	if r := approov.Reason(err); r != approov.ReasonOther {
		return r
	}
	return msgsig.Reason(err)
}
