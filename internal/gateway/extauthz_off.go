//go:build !extauthz

package gateway

import (
	"context"
	"errors"
	"net"
)

// extAuthzBuilt says this build serves ext_authz_grpc_listen: the default
// build does not, since gRPC and Envoy's API types double the binary's
// size (DESIGN.md); build with -tags extauthz for it.
const extAuthzBuilt = false

// extAuthzListener is never reached in this build: the configuration is
// refused first (see build).
func (g *Gateway) extAuthzListener(ln net.Listener) listener {
	return listener{name: "ext_authz_grpc_listen", ln: ln,
		serve: func() error { return errors.New("this build has no ext_authz; build with -tags extauthz") },
		stop:  func(_ context.Context) {}}
}
