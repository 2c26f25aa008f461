package main_test

import (
	"debug/buildinfo"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestVersion: the released binary's version and --version print what Go
// recorded in it, read back here with debug/buildinfo: the module version,
// the VCS revision and whether the checkout was dirty, the commit's time,
// and the Go version.
func TestVersion(t *testing.T) {
	bi, err := buildinfo.ReadFile(e2e.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	want := "approov-gateway " + bi.Main.Version + "\n"
	if bi.Main.Version == "" {
		want = "approov-gateway (devel)\n"
	}
	if rev := settings["vcs.revision"]; rev != "" {
		want += "revision: " + rev
		if settings["vcs.modified"] == "true" {
			want += " (dirty: built with uncommitted changes)"
		}
		want += "\n"
	}
	if tm := settings["vcs.time"]; tm != "" {
		want += "commit time: " + tm + "\n"
	}
	want += "go: " + bi.GoVersion + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := e2e.Run(t, "", nil, args...)
		if code != 0 || stdout != want || stderr != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout\n%s\nwant\n%s", strings.Join(args, " "), code, stderr, stdout, want)
		}
	}
}
