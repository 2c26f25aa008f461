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

func ExampleEnvName() {
	fmt.Println(config.EnvName("binding_headers"), "--"+config.FlagName("binding_headers"))
	// Output:
	// APPROOV_BINDING_HEADERS --binding-headers
}

func ExampleParseSize() {
	for _, s := range []string{"65536", "64KiB", "64k", "1MiB", "2g", "1.5MiB", "1mk"} {
		n, err := config.ParseSize(s)
		fmt.Println(s, n, err)
	}
	// Output:
	// 65536 65536 <nil>
	// 64KiB 65536 <nil>
	// 64k 65536 <nil>
	// 1MiB 1048576 <nil>
	// 2g 2147483648 <nil>
	// 1.5MiB 0 not a size (use for example 65536, 64KiB or 1MiB)
	// 1mk 0 not a size (use for example 65536, 64KiB or 1MiB)
}

func ExampleSplitPattern() {
	method, host, path := config.SplitPattern("GET API.Example.com./v1/")
	fmt.Printf("%q %q %q %q\n", method, host, path, config.CanonicalPatternHost(host))
	// Output:
	// "GET" "API.Example.com." "/v1/" "api.example.com"
}
