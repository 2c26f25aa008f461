package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/assertion"
	"github.com/approov-gateway/approov/internal/config"
)

// The gateway tells the backend what it verified in two ways: fact headers
// (Approov-Result, Approov-Device-Id, …), which a backend can read only if
// nothing but the gateway can reach it, and the signed Approov-Assertion,
// which binds the same facts to the method, host, target and bound
// credentials of the request the backend receives (docs/ASSERTION.md).

// fact is one fact of forward_claims, with its header's full name.
type fact struct {
	config.Fact
	header string
}

// errAssertion is the error a request fails with when its assertion cannot
// be signed; such a request is never forwarded without one.
var errAssertion = errors.New("gateway: cannot sign the assertion for this request")

// stripClientHeaders removes from a request going upstream the headers a
// client must not be able to set there:
//
//   - every header in the gateway's namespace, however spelled: servers
//     such as gunicorn turn both Approov-Device-Id and Approov_Device_Id
//     into HTTP_APPROOV_DEVICE_ID, so both are forgeries (the token header
//     survives when it is kept on purpose);
//   - every header whose name has an underscore, unless underscore_headers
//     keeps them, as nginx drops them: WSGI servers read them as the dashed
//     name, and gunicorn takes a Script_Name header as SCRIPT_NAME, cutting
//     it off the path Django routes on, so that /public/upload routed as
//     public ran the protected /upload;
//   - unless the client is a trusted proxy, every X-Forwarded-* header the
//     gateway does not set itself (X-Forwarded-Prefix, -Ssl, -Port, …),
//     which frameworks read as where the request came from.
func (st *state) stripClientHeaders(h http.Header, trusted bool) {
	for name := range h {
		switch {
		case hasHeaderPrefix(name, st.reservedPrefix):
			if st.cfg.KeepTokenHeader && name == st.tokenHeader {
				continue
			}
		case strings.IndexByte(name, '_') >= 0:
			if st.cfg.UnderscoreHeaders == config.UnderscoreKeep {
				continue
			}
		case !trusted && hasHeaderPrefix(name, "x-forwarded-"):
		default:
			continue
		}
		delete(h, name)
	}
}

// verdict is what the check decided about a request: claims when the token
// was valid, the failure in monitor mode, or neither on a public route.
type verdict struct {
	claims  *approov.Claims
	failure error
	public  bool
}

// verdictOf returns the verdict of the check on r, which ran on route rt.
// A request on a protected route with neither claims nor a failure is a
// CORS preflight the route lets through unchecked: like a public request,
// it carries no identity.
func verdictOf(r *http.Request, rt *route) verdict {
	v := verdict{failure: approovhttp.FailureFromContext(r.Context())}
	if claims, ok := approovhttp.ClaimsFromContext(r.Context()); ok {
		v.claims = claims
	}
	if err := signatureFailure(r.Context()); err != nil {
		// Monitor mode let a request with a valid token but a failing
		// signature through: nothing about it is vouched for.
		v.claims, v.failure = nil, err
	}
	v.public = rt.mode == config.ModePublic || (v.claims == nil && v.failure == nil)
	return v
}

// result is the Approov-Result fact: ok, public, or the failure's reason.
func (v *verdict) result() string {
	if v.public {
		return assertion.ResultPublic
	}
	return reasonOf(v.failure)
}

// setFacts sets the configured fact headers of verdict v on h. For
// forward-auth answers (always) every configured fact is set, empty when
// unknown, so that a proxy copying them overwrites any client-sent copy
// rather than leaving it, or a placeholder, in place.
func (st *state) setFacts(h http.Header, v verdict, always bool) {
	// One array for every fact's value slice: one allocation, not one
	// per header.
	values := make([]string, len(st.facts))
	for i, f := range st.facts {
		var value string
		switch {
		case f.Get == nil:
			value = v.result()
		case v.claims != nil:
			value = f.Get(v.claims)
		}
		// A claim is signed, not sanitised: a value that is no valid
		// header value (a line break, say) is dropped, never sent.
		if !validHeaderValue(value) {
			value = ""
		}
		if value != "" || always {
			values[i] = value
			h[f.header] = values[i : i+1 : i+1]
		}
	}
}

// sign returns the assertion of verdict v for the request the backend
// receives: method, Host and target exactly as sent, and the bound headers
// of h. It returns "" when no assertion secret is set.
func (st *state) sign(v verdict, rt *route, id, method, host, target string, h http.Header) (string, error) {
	if st.signer == nil {
		return "", nil
	}
	c := assertion.Claims{
		ID:       requestIDOr(id),
		Result:   v.result(),
		Method:   method,
		Host:     host,
		Target:   target,
		HostOnly: !rt.bindTarget,
	}
	if v.claims != nil {
		c.DeviceID = v.claims.DeviceID
		c.TokenExpiry = v.claims.Expiry
		c.Forwarded = st.forwardedClaims(v.claims)
	}
	if len(rt.boundHeaders) > 0 {
		c.BoundHeaders = rt.boundHeaders
		c.BindingHash = assertion.BindingHash(h, rt.boundHeaders)
	}
	token, err := st.signer.Sign(&c)
	if err != nil {
		return "", errors.Join(errAssertion, err)
	}
	return token, nil
}

// requestIDOr returns id, or a new one when the request has none (it always
// has, once past front).
func requestIDOr(id string) string {
	if id == "" {
		return assertion.NewID()
	}
	return id
}

// forwardedClaims returns the token claims forward_claims names, for the
// assertion's clm.
func (st *state) forwardedClaims(c *approov.Claims) assertion.Forwarded {
	var f assertion.Forwarded
	for _, fact := range st.facts {
		if fact.Clm != nil {
			*fact.Clm(&f) = fact.Get(c)
		}
	}
	return f
}

// validHeaderValue reports whether v may be sent as a header value: no
// control characters but tab, no DEL.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

type originalKey struct{}

// withOriginal notes, for the forward-auth answer, the original request as
// the proxy reported it.
func withOriginal(ctx context.Context, o original) context.Context {
	return context.WithValue(ctx, originalKey{}, o)
}

// answerForwardAuth answers a check that passed: 200, the facts as headers
// and the assertion of the original request as the proxy reported it — the
// proxy forwards that request with the facts copied in.
func (g *Gateway) answerForwardAuth(st *state, rt *route, w http.ResponseWriter, r *http.Request) {
	v := verdictOf(r, rt)
	orig, _ := r.Context().Value(originalKey{}).(original)
	token, err := st.sign(v, rt, requestID(r.Context()), orig.method, orig.host, orig.uri, r.Header)
	if err != nil {
		g.log.Warn("forward-auth check refused", "route", rt.name, "error", err.Error())
		g.refuse(w, r, refuseOriginal)
		return
	}
	h := w.Header()
	st.setFacts(h, v, true)
	if token != "" {
		h[st.assertionHeader] = []string{token}
	}
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
