//go:build extauthz

package gateway

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/approov-gateway/approov/internal/config"
)

// extAuthz serves Envoy's external authorisation over gRPC
// (envoy.service.auth.v3.Authorization/Check, ext_authz_grpc_listen). A
// check is answered exactly as the forward-auth endpoint answers one: the
// original request is the CheckRequest's method, path (with its query),
// Host and headers, and goes through the same canonical checks, route
// policy, token, binding, message signatures and facts.
type extAuthz struct {
	authv3.UnimplementedAuthorizationServer
	g *Gateway
}

// extAuthzBuilt says this build serves ext_authz_grpc_listen.
const extAuthzBuilt = true

// extAuthzListener serves Envoy's gRPC ext_authz on ln.
func (g *Gateway) extAuthzListener(ln net.Listener) listener {
	s := grpc.NewServer(grpc.MaxRecvMsgSize(1 << 20))
	authv3.RegisterAuthorizationServer(s, &extAuthz{g: g})
	return listener{name: "ext_authz_grpc_listen", ln: ln,
		serve: func() error {
			if err := s.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				return err
			}
			return nil
		},
		stop: func(ctx context.Context) {
			// Checks in flight finish, or stop at ctx's end.
			done := make(chan struct{})
			go func() {
				s.GracefulStop()
				close(done)
			}()
			select {
			case <-done:
			case <-ctx.Done():
				s.Stop()
			}
		},
	}
}

// Check answers one CheckRequest: OK with the fact headers and the signed
// assertion to set on the request (replacing client copies, and removing
// any other header of the gateway's namespace the client sent), or DENIED
// with the status and body {} the HTTP endpoint would give.
func (a *extAuthz) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	g := a.g
	st := g.state.Load()
	h := req.GetAttributes().GetRequest().GetHttp()
	if h == nil || h.GetMethod() == "" || h.GetPath() == "" || h.GetHost() == "" {
		return denied(http.StatusBadRequest, nil), nil
	}
	header := http.Header{}
	if m := h.GetHeaders(); len(m) > 0 {
		for k, v := range m {
			if !strings.HasPrefix(k, ":") {
				header[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
			}
		}
	} else {
		for _, hv := range h.GetHeaderMap().GetHeaders() {
			v := hv.GetValue()
			if v == "" {
				v = string(hv.GetRawValue())
			}
			if !strings.HasPrefix(hv.GetKey(), ":") {
				header.Add(textproto.CanonicalMIMEHeaderKey(hv.GetKey()), v)
			}
		}
	}
	// forward_auth_secret comes from the gRPC call's metadata, which
	// Envoy sets (initial_metadata); never from the original's headers.
	delete(header, config.ForwardAuthSecretHeader)
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(strings.ToLower(config.ForwardAuthSecretHeader)); len(v) > 0 {
			header[config.ForwardAuthSecretHeader] = v
		}
	}
	remote := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		remote = p.Addr.String()
		if _, ok := p.Addr.(*net.UnixAddr); ok {
			remote = ""
		}
	}
	orig := original{method: h.GetMethod(), uri: h.GetPath(), host: h.GetHost(), convention: conventionGRPC}
	r := (&http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: st.forwardAuth.path}, RequestURI: st.forwardAuth.path,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: header, Host: orig.host, RemoteAddr: remote,
	}).WithContext(context.WithValue(ctx, grpcCheckKey{}, grpcSource(sourceAddr(req))))
	rec := newCheckRecorder()
	g.front(st, rec, r, func(st *state, w http.ResponseWriter, r *http.Request) {
		if !st.forwardAuth.callerAllowed(r) {
			g.refuse(w, r, refuseAuthCaller)
			return
		}
		if sr, ok := w.(*statusRecorder); ok {
			sr.original = orig
		}
		g.answerCheck(st, w, r, orig)
	})
	if rec.status == 0 {
		rec.status = http.StatusInternalServerError
	}
	if rec.status != http.StatusOK {
		return denied(rec.status, rec.header), nil
	}
	ok := &authv3.OkHttpResponse{}
	set := map[string]bool{}
	for name, values := range rec.header {
		if name == "Cache-Control" || name == "Content-Type" || name == "Content-Length" {
			continue
		}
		if len(values) == 1 && values[0] == "" {
			continue // a fact the token lacks: any client copy is removed below
		}
		for _, v := range values {
			ok.Headers = append(ok.Headers, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: strings.ToLower(name), Value: v},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			})
		}
		set[strings.ToLower(name)] = true
	}
	// What the proxy listener would strip goes too: the token (unless
	// keep_token_header), a client's copy of a fact the gateway does not
	// set this time (a did the token lacks), in any spelling; underscore
	// names (gunicorn reads Script_Name as SCRIPT_NAME); X-Forwarded-*
	// unless Envoy is a trusted proxy.
	stripped := header.Clone()
	st.stripClientHeaders(stripped, st.isTrusted(remote))
	for name := range header {
		lower := strings.ToLower(name)
		if _, kept := stripped[name]; !kept && !set[lower] {
			ok.HeadersToRemove = append(ok.HeadersToRemove, lower)
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}, nil
}

// denied is a DENIED answer with status and the body {}.
func denied(status int, header http.Header) *authv3.CheckResponse {
	code := codes.PermissionDenied
	if status == http.StatusUnauthorized {
		code = codes.Unauthenticated
	}
	d := &authv3.DeniedHttpResponse{
		Status: &typev3.HttpStatus{Code: typev3.StatusCode(status)},
		Body:   "{}",
		Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "content-type", Value: "application/json"},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}},
	}
	// The request id, and a rate limit's Retry-After and RateLimit
	// fields, reach the client; nothing that says why a token failed does.
	for _, name := range []string{RequestIDHeader, "Retry-After", "Ratelimit", "Ratelimit-Policy"} {
		if v := header.Get(name); v != "" {
			d.Headers = append(d.Headers, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: strings.ToLower(name), Value: v},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD})
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(code)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: d},
	}
}

// checkRecorder is the ResponseWriter of a gRPC check: it keeps the
// status and headers the HTTP endpoint would have answered with.
type checkRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newCheckRecorder() *checkRecorder { return &checkRecorder{header: http.Header{}} }

func (c *checkRecorder) Header() http.Header { return c.header }

func (c *checkRecorder) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *checkRecorder) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// sourceAddr is the downstream address of a CheckRequest, or the zero Addr.
func sourceAddr(req *authv3.CheckRequest) netip.Addr {
	sa := req.GetAttributes().GetSource().GetAddress().GetSocketAddress()
	a, err := netip.ParseAddr(sa.GetAddress())
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
