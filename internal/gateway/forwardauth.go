package gateway

import (
	"net/http"
	"net/url"
	"strings"
)

// serveForwardAuth answers a forward-auth check: 200 with the verified
// facts as headers when the original request may pass, 401 {} otherwise.
//
// The original request is described by the proxy asking: nginx auth_request
// sends X-Original-Method and X-Original-URI (by configuration); Traefik
// ForwardAuth and Caddy forward_auth send X-Forwarded-Method and
// X-Forwarded-Uri; Envoy's ext_authz HTTP service keeps the original method
// and appends the original path to the endpoint's path. The route policy of
// that original request applies, with the token and bound headers the proxy
// passes on.
func (g *Gateway) serveForwardAuth(st *state, w http.ResponseWriter, r *http.Request) {
	method, uri := originalRequest(st, r)
	u, err := url.ParseRequestURI(uri)
	if err != nil || ambiguousPath(u.EscapedPath()) {
		g.metrics.refused.WithLabelValues("bad_original_uri").Inc()
		writeJSONError(w, http.StatusBadRequest, "bad original URI")
		return
	}
	host := r.Header.Get("X-Forwarded-Host")
	if host == "" {
		host = r.Host
	}
	// The route is chosen as the mux would for the original request;
	// the check runs on this request, whose headers are the original's.
	probe := &http.Request{Method: method, URL: u, Host: host, Header: r.Header}
	rt := st.routeFor(probe)
	check := *r
	check.Method = method
	check.URL = u
	rt.auth.ServeHTTP(w, &check)
}

// originalRequest returns the method and request URI of the request a
// forward-auth check is about.
func originalRequest(st *state, r *http.Request) (method, uri string) {
	method = firstHeader(r.Header, "X-Original-Method", "X-Forwarded-Method")
	uri = firstHeader(r.Header, "X-Original-Uri", "X-Forwarded-Uri")
	if suffix := strings.TrimPrefix(r.URL.Path, st.cfg.ForwardAuthPath); uri == "" && suffix != "" {
		// Envoy: the endpoint path followed by the original path.
		uri = suffix
		if r.URL.RawQuery != "" {
			uri += "?" + r.URL.RawQuery
		}
	}
	if method == "" {
		method = r.Method
	}
	if uri == "" {
		uri = "/"
	}
	return strings.ToUpper(method), uri
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// routeFor returns the route the mux would pick for r.
func (st *state) routeFor(r *http.Request) *route {
	_, pattern := st.mux.Handler(r)
	if rt, ok := st.routes[pattern]; ok {
		return rt
	}
	return st.fallback
}
