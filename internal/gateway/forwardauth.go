package gateway

import (
	"crypto/subtle"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/approov-gateway/approov/internal/config"
)

// A forward-auth check describes the original request in headers that a
// proxy sets — or that a client sets, if the proxy passes client headers
// on and does not overwrite them. Each proxy has its convention:
//
//   - nginx auth_request (by configuration): X-Original-Method,
//     X-Original-URI, and X-Forwarded-Host for the host;
//   - Traefik ForwardAuth and Caddy forward_auth: X-Forwarded-Method,
//     X-Forwarded-Uri, X-Forwarded-Host;
//   - Envoy ext_authz (HTTP service): the check keeps the original method
//     and Host, and its path is forward_auth_path followed by the original
//     path.
//
// The gateway reads exactly one convention: the configured one, or with
// auto the one the check carries, refusing a check that carries several
// (behind Caddy, a client-sent X-Original-URI would otherwise choose the
// policy of another path than the one Caddy forwards) or a header twice.

// forwardAuthPolicy is who may call the forward-auth endpoint and how it
// reads the original request.
type forwardAuthPolicy struct {
	convention string
	path       string
	secret     []byte
	callers    []netip.Prefix
}

func newForwardAuthPolicy(cfg *config.Config) forwardAuthPolicy {
	p := forwardAuthPolicy{convention: cfg.ForwardAuthConvention, path: cfg.ForwardAuthPath, callers: cfg.ForwardAuthCallers}
	if cfg.ForwardAuthSecret != "" {
		p.secret = []byte(cfg.ForwardAuthSecret)
	}
	return p
}

// original is the request a forward-auth check is about, and the
// convention the check described it by (conventionGRPC for ext_authz).
type original struct {
	method, uri, host string
	convention        string
}

// conventionGRPC marks an original read from Envoy's gRPC CheckRequest.
const conventionGRPC = "grpc"

// passesStatus reports whether the proxy that asked about o passes the
// check's answer to its client as it is, a 429 included: Traefik, Caddy
// and Envoy do; nginx's auth_request turns anything but 2xx, 401 and 403
// into a 500.
func (o original) passesStatus() bool { return o.convention != config.ConventionNginx }

// serveForwardAuth answers a forward-auth check: 200 with the verified
// facts (and the signed assertion) as headers when the original request
// may pass, 401 {} when its token fails, 4xx when the check itself is not
// one the gateway can answer safely. The policy is that of the route the
// original request takes; the token and bound headers are the check's
// own, which the proxy copies from the original.
func (g *Gateway) serveForwardAuth(st *state, w http.ResponseWriter, r *http.Request) {
	fa := &st.forwardAuth
	raw := targetPath(r.RequestURI)
	if raw != fa.path && !strings.HasPrefix(raw, fa.path+"/") {
		g.refuse(w, r, refuseNotFound)
		return
	}
	if !fa.callerAllowed(r) {
		g.refuse(w, r, refuseAuthCaller)
		return
	}
	orig, ok := fa.originalRequest(r, strings.TrimPrefix(raw, fa.path))
	if !ok {
		g.refuse(w, r, refuseOriginal)
		return
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.original = orig
	}
	g.answerCheck(st, w, r, orig)
}

// answerCheck answers a check about the original request orig, whatever
// described it (an HTTP forward-auth convention, or Envoy's gRPC
// CheckRequest): r carries the original's headers.
func (g *Gateway) answerCheck(st *state, w http.ResponseWriter, r *http.Request, orig original) {
	// Refusals of the original request log it, not the check.
	asLogged := (&http.Request{Method: orig.method, RequestURI: orig.uri, RemoteAddr: r.RemoteAddr}).WithContext(r.Context())
	if ref := st.checkRequest(orig.method, orig.uri, r.Header); ref != nil {
		g.refuseOriginal(w, asLogged, ref)
		return
	}
	u, err := url.ParseRequestURI(orig.uri)
	if err != nil {
		g.refuse(w, r, refuseOriginal)
		return
	}
	// The check runs on a request that is the original as the proxy
	// reports it, with the check's headers, which are the original's.
	check := r.Clone(r.Context())
	check.Method, check.URL, check.RequestURI = orig.method, u, orig.uri
	check.Host = canonicalHost(orig.host)
	rt, ref := st.route(check)
	switch {
	case ref != nil:
		g.refuseOriginal(w, asLogged, ref)
	case rt == nil:
		// The mux would redirect (to the path with a slash) or refuse:
		// answer so, and the proxy passes the answer on or fails closed.
		st.lookup(check).ServeHTTP(w, check)
	default:
		check = check.WithContext(withOriginal(check.Context(), orig))
		rt.auth.ServeHTTP(w, check)
	}
}

// refuseOriginal answers a check whose original request the proxy
// listener would have refused. The answer is 403, whatever the cause:
// nginx's auth_request passes only 401 and 403 on to the client and turns
// anything else into a 500, and Traefik, Caddy and Envoy pass it as is.
// The metric and the debug log keep the cause.
func (g *Gateway) refuseOriginal(w http.ResponseWriter, r *http.Request, ref *refusal) {
	g.refuseWith(w, r, ref, http.StatusForbidden)
}

// callerAllowed checks forward_auth_callers and forward_auth_secret.
func (fa *forwardAuthPolicy) callerAllowed(r *http.Request) bool {
	if len(fa.callers) > 0 {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !containsAddr(fa.callers, ap.Addr().Unmap()) {
			return false
		}
	}
	if fa.secret != nil {
		got := r.Header[config.ForwardAuthSecretHeader]
		if len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), fa.secret) != 1 {
			return false
		}
	}
	return true
}

func containsAddr(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// originalRequest reads the original request from the check r by the
// configured convention; suffix is the check's path after
// forward_auth_path. It fails when the convention's headers are missing
// or repeated, or, with auto, when the check carries several conventions.
func (fa *forwardAuthPolicy) originalRequest(r *http.Request, suffix string) (original, bool) {
	convention := fa.convention
	if convention == config.ConventionAuto {
		var found []string
		if has(r.Header, "X-Original-Method") || has(r.Header, "X-Original-Uri") {
			found = append(found, config.ConventionNginx)
		}
		if has(r.Header, "X-Forwarded-Method") || has(r.Header, "X-Forwarded-Uri") {
			found = append(found, config.ConventionForwarded)
		}
		if suffix != "" {
			found = append(found, config.ConventionEnvoy)
		}
		if len(found) != 1 {
			return original{}, false
		}
		convention = found[0]
	}
	var o original
	var ok bool
	switch convention {
	case config.ConventionNginx:
		o, ok = fromHeaders(r.Header, "X-Original-Method", "X-Original-Uri")
	case config.ConventionForwarded:
		o, ok = fromHeaders(r.Header, "X-Forwarded-Method", "X-Forwarded-Uri")
	case config.ConventionEnvoy:
		if suffix == "" {
			return original{}, false
		}
		o = original{method: r.Method, uri: suffix, host: r.Host}
		if r.URL.RawQuery != "" || strings.HasSuffix(r.RequestURI, "?") {
			o.uri += "?" + r.URL.RawQuery
		}
		ok = true
	}
	o.convention = convention
	return o, ok && o.host != ""
}

// fromHeaders reads the original method and URI from the named headers,
// and the host from X-Forwarded-Host, each exactly once.
func fromHeaders(h http.Header, method, uri string) (original, bool) {
	var o original
	for _, f := range []struct {
		name string
		dst  *string
	}{{method, &o.method}, {uri, &o.uri}, {"X-Forwarded-Host", &o.host}} {
		v := h[f.name]
		if len(v) != 1 || v[0] == "" {
			return original{}, false
		}
		*f.dst = v[0]
	}
	return o, true
}

func has(h http.Header, name string) bool { return len(h[name]) > 0 }
