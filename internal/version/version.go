// Package version names the build of approov-gateway that is running, for
// the version command, the start-up log line and the build_info metric.
package version

import "runtime/debug"

// set is the version given at build time with
// -ldflags "-X github.com/approov-gateway/approov/internal/version.set=v1.2.3".
var set = ""

// String returns the version of this build: the one set at build time,
// else the module version Go recorded, else "(devel)".
func String() string {
	if set != "" {
		return set
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
