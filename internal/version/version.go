// Package version names the build of approov-gateway that is running, for
// the version command, the start-up log line and the build_info metric.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// set is the version given at build time with
// -ldflags "-X github.com/approov-gateway/approov/internal/version.set=v1.2.3".
var set = ""

// String returns the version of this build: the one set at build time,
// else the module version Go recorded, else "(devel)".
func String() string { return Current().Version }

// Build is what Go recorded about a build of approov-gateway
// (runtime/debug.ReadBuildInfo), for the version command and the
// approov_gateway_build_info metric's labels.
type Build struct {
	// Version is the version set at build time, else the module version
	// (v1.2.3, or a pseudo-version when built with go install
	// module@commit), else "(devel)" for a build from a checkout.
	Version string
	// Revision is the VCS revision the build came from, "" when Go did not
	// record one (go build -buildvcs=false, or no checkout).
	Revision string
	// Modified reports that the checkout was dirty — it had changes not
	// committed — so the build is not exactly Revision.
	Modified bool
	// Time is the time of Revision's commit, RFC 3339, "" when unknown.
	// Go records no time of building, which keeps builds reproducible.
	Time string
	// GoVersion is the Go toolchain that built it, such as go1.26.0.
	GoVersion string
}

// Current returns the facts of the running build.
func Current() Build {
	bi, ok := debug.ReadBuildInfo()
	return fromBuildInfo(bi, ok)
}

func fromBuildInfo(bi *debug.BuildInfo, ok bool) Build {
	b := Build{Version: "(devel)"}
	if ok {
		b.GoVersion = bi.GoVersion
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			case "vcs.time":
				b.Time = s.Value
			}
		}
	}
	if set != "" {
		b.Version = set
	}
	return b
}

// String writes the build as the version command prints it: the version on
// the first line, then each fact Go recorded on a line of its own.
func (b Build) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "approov-gateway %s\n", b.Version)
	if b.Revision != "" {
		modified := ""
		if b.Modified {
			modified = " (dirty: built with uncommitted changes)"
		}
		fmt.Fprintf(&s, "revision: %s%s\n", b.Revision, modified)
	}
	if b.Time != "" {
		fmt.Fprintf(&s, "commit time: %s\n", b.Time)
	}
	if b.GoVersion != "" {
		fmt.Fprintf(&s, "go: %s\n", b.GoVersion)
	}
	return s.String()
}
