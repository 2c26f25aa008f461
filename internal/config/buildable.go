package config

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strconv"
)

// standInSecret is the key Buildable gives a configuration without one, so
// that its routes are still built and checked. It never verifies a token:
// a configuration with problems is never served.
var standInSecret = base64.StdEncoding.EncodeToString([]byte("approov-gateway: the stand-in key of a configuration check, unused"))

// Buildable returns a copy of c, a configuration in which Load or Validate
// found problems, that code written for valid configurations can build on:
// every value a problem was found in is back at its default (a route's
// field unset), a route without a match has a stand-in pattern on a host
// that cannot be routed, and a configuration without a key has a stand-in
// key. The gateway's own checks run on it to report, in the same pass as
// Load's problems, the problems only they find — keys that do not load,
// route patterns ServeMux refuses — without repeating Load's or tripping
// over a value Load refused. Never serve it.
func (c *Config) Buildable() *Config {
	b := *c
	b.Routes = slices.Clone(c.Routes)
	b.Keys = slices.Clone(c.Keys)
	for path := range c.invalid {
		if m := listPath.FindStringSubmatch(path); m != nil {
			i, _ := strconv.Atoi(m[2])
			if m[1] == "routes" && m[3] != "" && i < len(b.Routes) {
				resetRouteField(&b.Routes[i], i, m[3])
			}
			continue
		}
		for _, s := range settings {
			if s.name == path {
				// Every default parses, and "" is the default of the
				// settings without one.
				_ = s.value.set(&b, s.def)
			}
		}
	}
	if b.Base64Secret == "" && b.Base64URLSecret == "" && b.SecretFile == "" && b.PublicKeyFile == "" && len(b.Keys) == 0 && b.JWKSURL == "" {
		b.Base64Secret = standInSecret
	}
	return &b
}

// resetRouteField unsets the field of r, the i-th route, that the YAML
// file calls field; a missing match becomes a pattern of its own that no
// other can conflict with, on a host under .invalid (RFC 6761).
func resetRouteField(r *Route, i int, field string) {
	if field == "match" {
		r.Match = fmt.Sprintf("route-%d.approov-gateway.invalid/", i)
		return
	}
	v := reflect.ValueOf(r).Elem()
	for j := range v.NumField() {
		if v.Type().Field(j).Tag.Get("yaml") == field {
			v.Field(j).SetZero()
		}
	}
}
