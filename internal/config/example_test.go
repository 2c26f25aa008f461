package config_test

import (
	"fmt"

	"github.com/approov-gateway/approov/internal/config"
)

func ExampleLoad() {
	env := map[string]string{
		"APPROOV_BASE64_SECRET":   "c2NyaXB0IHRlc3Qgc2VjcmV0OiA2NCBieXRlcywgdGhlIHNpemUgb2YgYW4gQXBwcm9vdiBzZWNyZXQuLi4uLg==",
		"APPROOV_UPSTREAM":        "http://127.0.0.1:8000",
		"APPROOV_BINDING_HEADERS": "Authorization",
	}
	src := config.Source{
		Args:   []string{"--listen", "0.0.0.0:8002"},
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
	cfg, _, err := config.Load(src)
	fmt.Println(err, cfg.Listen, cfg.Upstream, cfg.BindingHeaders, cfg.RouteMode(nil))

	env["APPROOV_LEEWAY"] = "soon"
	_, _, err = config.Load(src)
	fmt.Println(err)
	// Output:
	// <nil> 0.0.0.0:8002 http://127.0.0.1:8000 [Authorization] binding
	// APPROOV_LEEWAY: not a duration (use for example 30s or 1m)
}

func ExampleSplitPattern() {
	method, host, path := config.SplitPattern("GET API.Example.com./v1/")
	fmt.Printf("%q %q %q %q\n", method, host, path, config.CanonicalPatternHost(host))
	// Output:
	// "GET" "API.Example.com." "/v1/" "api.example.com"
}
