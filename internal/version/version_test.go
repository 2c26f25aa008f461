package version

import (
	"runtime/debug"
	"testing"
)

// TestFromBuildInfo reads what Go records of a build: from a checkout,
// from go install module@version, and nothing at all.
func TestFromBuildInfo(t *testing.T) {
	checkout := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "8991d45f0e4c2e7f0d7c1b3a5e6f7a8b9c0d1e2f"},
		{Key: "vcs.time", Value: "2025-06-01T12:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	installed := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}
	tests := []struct {
		name   string
		bi     *debug.BuildInfo
		ok     bool
		set    string
		want   Build
		output string
	}{
		{"checkout", checkout, true, "",
			Build{Version: "(devel)", Revision: "8991d45f0e4c2e7f0d7c1b3a5e6f7a8b9c0d1e2f", Modified: true, Time: "2025-06-01T12:00:00Z", GoVersion: "go1.26.0"},
			"approov-gateway (devel)\nrevision: 8991d45f0e4c2e7f0d7c1b3a5e6f7a8b9c0d1e2f (dirty: built with uncommitted changes)\ncommit time: 2025-06-01T12:00:00Z\ngo: go1.26.0\n"},
		{"installed", installed, true, "",
			Build{Version: "v1.2.3", GoVersion: "go1.26.0"},
			"approov-gateway v1.2.3\ngo: go1.26.0\n"},
		{"set at build time", installed, true, "v9.9.9",
			Build{Version: "v9.9.9", GoVersion: "go1.26.0"},
			"approov-gateway v9.9.9\ngo: go1.26.0\n"},
		{"no build information", nil, false, "",
			Build{Version: "(devel)"},
			"approov-gateway (devel)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := set
			set = tt.set
			defer func() { set = old }()
			got := fromBuildInfo(tt.bi, tt.ok)
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if got.String() != tt.output {
				t.Errorf("String\n%s\nwant\n%s", got, tt.output)
			}
		})
	}
}

// TestCurrent: the running build's version is String's.
func TestCurrent(t *testing.T) {
	if b := Current(); b.Version != String() || b.Version == "" || b.GoVersion == "" {
		t.Errorf("Current = %+v, String = %q", b, String())
	}
}
