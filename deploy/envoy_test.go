package deploy

import (
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	securityv1 "istio.io/api/security/v1"
	"sigs.k8s.io/yaml"
)

// TestEnvoyConfig decodes deploy/envoy/envoy.yaml into Envoy's bootstrap
// types, runs their validation, and checks the ext_authz filter: gRPC to
// the gateway's cluster over HTTP/2, API v3, failing closed, before the
// router.
func TestEnvoyConfig(t *testing.T) {
	js, err := yaml.YAMLToJSON([]byte(readRepoFile(t, "deploy", "envoy", "envoy.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("envoy.yaml is not an Envoy bootstrap: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("envoy.yaml: %v", err)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := b.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	filters := hcm.GetHttpFilters()
	if len(filters) != 2 || filters[0].GetName() != "envoy.filters.http.ext_authz" || filters[1].GetName() != "envoy.filters.http.router" {
		t.Fatalf("http filters: want ext_authz then the router")
	}
	var ea extauthzv3.ExtAuthz
	if err := filters[0].GetTypedConfig().UnmarshalTo(&ea); err != nil {
		t.Fatal(err)
	}
	if ea.GetFailureModeAllow() || ea.GetTransportApiVersion().String() != "V3" || ea.GetGrpcService().GetEnvoyGrpc().GetClusterName() != "approov_gateway" {
		t.Errorf("ext_authz: want gRPC v3 to approov_gateway, failing closed: %v", &ea)
	}
	if d := ea.GetGrpcService().GetTimeout().AsDuration(); d <= 0 || d > time.Second {
		t.Errorf("ext_authz timeout %v", d)
	}
	if hcm.GetCommonHttpProtocolOptions().GetHeadersWithUnderscoresAction().String() != "REJECT_REQUEST" {
		t.Errorf("underscore headers are not refused")
	}
	found := false
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == "approov_gateway" {
			found = strings.Contains(protojson.Format(c), "http2ProtocolOptions")
		}
	}
	if !found {
		t.Errorf("the approov_gateway cluster does not speak HTTP/2, which gRPC needs")
	}
}

// TestIstioConfig decodes the mesh config's extension provider and the
// AuthorizationPolicy into Istio's API types: the policy's CUSTOM action
// names the provider, which points at the gateway's gRPC port.
func TestIstioConfig(t *testing.T) {
	js, err := yaml.YAMLToJSON([]byte(readRepoFile(t, "deploy", "istio", "mesh-config.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	var mesh meshv1alpha1.MeshConfig
	if err := protojson.Unmarshal(js, &mesh); err != nil {
		t.Fatalf("mesh-config.yaml: %v", err)
	}
	p := mesh.GetExtensionProviders()
	if len(p) != 1 || p[0].GetName() != "approov" || p[0].GetEnvoyExtAuthzGrpc().GetPort() != 9100 {
		t.Fatalf("extension provider: %v", p)
	}

	var obj struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Spec       map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "deploy", "istio", "authorization-policy.yaml")), &obj); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(obj.Spec)
	if err != nil {
		t.Fatal(err)
	}
	specJSON, _ := yaml.YAMLToJSON(spec)
	var ap securityv1.AuthorizationPolicy
	if err := protojson.Unmarshal(specJSON, &ap); err != nil {
		t.Fatalf("authorization-policy.yaml: %v", err)
	}
	if obj.APIVersion != "security.istio.io/v1" || obj.Kind != "AuthorizationPolicy" || ap.GetAction().String() != "CUSTOM" || ap.GetProvider().GetName() != "approov" {
		t.Errorf("policy: %s %s %v", obj.APIVersion, obj.Kind, &ap)
	}
}

// TestEnvoyHTTPConfigInGuide decodes the Envoy configuration of
// docs/quickstart-nginx.md (ext_authz over HTTP) into Envoy's bootstrap
// types and validates it: the guide's YAML is what a reader pastes.
func TestEnvoyHTTPConfigInGuide(t *testing.T) {
	guide := readRepoFile(t, "docs", "quickstart-nginx.md")
	_, rest, ok := strings.Cut(guide, "## Envoy (`ext_authz`, HTTP service)")
	if !ok {
		t.Fatal("the guide has no Envoy section")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the Envoy section has no yaml block")
	}
	js, err := yaml.YAMLToJSON([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("the guide's Envoy configuration is not an Envoy bootstrap: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("the guide's Envoy configuration: %v", err)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := b.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	var ea extauthzv3.ExtAuthz
	if err := hcm.GetHttpFilters()[0].GetTypedConfig().UnmarshalTo(&ea); err != nil {
		t.Fatal(err)
	}
	if ea.GetFailureModeAllow() || ea.GetHttpService().GetPathPrefix() != "/_approov/verify" {
		t.Errorf("ext_authz: want the HTTP service at /_approov/verify, failing closed: %v", &ea)
	}
}
