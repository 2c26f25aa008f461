package gateway

import (
	"net/http"
	"net/url"
	"strings"
)

// queryToken moves a token from the query parameter param into the token
// header, for WebSocket clients that cannot set headers — only on a genuine
// WebSocket handshake, so that the parameter cannot stand in for the header
// on ordinary requests, whose URLs end up in other systems' logs. Both at
// once are ambiguous and rejected by the verifier as a duplicate.
func queryToken(st *state, param string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebSocketHandshake(r) || !strings.Contains(r.URL.RawQuery, param) {
			next.ServeHTTP(w, r)
			return
		}
		values, rest := extractQueryParam(r.URL.RawQuery, param)
		if len(values) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		// The request goes upstream without the parameter; RequestURI
		// stays as the app sent it, which is what a message signature
		// covers.
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = rest
		for _, v := range values {
			r2.Header.Add(st.tokenHeader, v)
		}
		next.ServeHTTP(w, r2)
	})
}

// extractQueryParam removes every occurrence of param from a raw query,
// returning their values and the query without them, other parameters left
// exactly as they were.
func extractQueryParam(raw, param string) (values []string, rest string) {
	var kept []string
	for _, part := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == param {
			if val, err := url.QueryUnescape(v); err == nil {
				values = append(values, val)
			} else {
				values = append(values, v)
			}
			continue
		}
		kept = append(kept, part)
	}
	return values, strings.Join(kept, "&")
}

// isWebSocketHandshake reports whether r is a WebSocket opening handshake
// (RFC 6455 §4.1): GET, Connection listing upgrade, Upgrade: websocket, and
// one Sec-WebSocket-Key and Sec-WebSocket-Version each.
func isWebSocketHandshake(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerHasToken(r.Header["Connection"], "upgrade") &&
		headerHasToken(r.Header["Upgrade"], "websocket") &&
		len(r.Header["Sec-Websocket-Key"]) == 1 && r.Header["Sec-Websocket-Key"][0] != "" &&
		len(r.Header["Sec-Websocket-Version"]) == 1 && r.Header["Sec-Websocket-Version"][0] != ""
}

// headerHasToken reports whether a comma-separated header lists token,
// ignoring case.
func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
