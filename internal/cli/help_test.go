package cli

import (
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
)

// TestHelpEverywhere: -h, -help and --help on every command and
// subcommand, wherever they come, print its help on stdout and exit 0; so
// does help TOPIC for every command.
func TestHelpEverywhere(t *testing.T) {
	isolate(t)
	tests := []struct {
		args []string
		want string
	}{
		{nil, usage},
		{[]string{"serve"}, serveHelp()},
		{[]string{"serve", "--monitor", "--listen", "127.0.0.1:1"}, serveHelp()},
		{[]string{"demo"}, demoUsage},
		{[]string{"demo", "--listen", "127.0.0.1:1"}, demoUsage},
		{[]string{"token"}, tokenUsage},
		{[]string{"token", "gen"}, tokenUsage},
		{[]string{"token", "check"}, tokenUsage},
		{[]string{"token", "check", "x.y.z", "--json"}, tokenUsage},
		{[]string{"token", "decode"}, tokenUsage},
		{[]string{"sign"}, signUsage},
		{[]string{"install-key"}, installKeyUsage},
		{[]string{"install-key", "gen"}, installKeyUsage},
		{[]string{"install-key", "ipk"}, installKeyUsage},
		{[]string{"secret"}, secretUsage},
		{[]string{"secret", "gen"}, secretUsage},
		{[]string{"secret", "gen", "--assertion"}, secretUsage},
		{[]string{"bind"}, bindUsage},
		{[]string{"bind", "Bearer abc"}, bindUsage},
		{[]string{"version"}, versionUsage},
		{[]string{"help"}, helpUsage},
	}
	for _, tt := range tests {
		for _, flag := range []string{"-h", "-help", "--help"} {
			args := append(append([]string(nil), tt.args...), flag)
			code, stdout, stderr := run(t, "", args...)
			if code != 0 || stdout != tt.want || stderr != "" {
				t.Errorf("%q: status %d, stderr %q, stdout\n%s", args, code, stderr, stdout)
			}
		}
	}

	for _, c := range commands {
		code, stdout, stderr := run(t, "", "help", c.name)
		if code != 0 || stdout != c.help() || stderr != "" || !strings.HasPrefix(stdout, "Usage") {
			t.Errorf("help %s: status %d, stderr %q, stdout\n%s", c.name, code, stderr, stdout)
		}
		if !strings.Contains(usage, "approov-gateway "+c.name) {
			t.Errorf("the usage does not list %s", c.name)
		}
		if !strings.Contains(helpUsage, c.name) {
			t.Errorf("the help of help does not name %s", c.name)
		}
	}
	// help as a subcommand, as in token help.
	for _, cmd := range []string{"token", "install-key", "secret"} {
		if code, stdout, _ := run(t, "", cmd, "help"); code != 0 || !strings.HasPrefix(stdout, "Usage") {
			t.Errorf("%s help: status %d, %q", cmd, code, stdout)
		}
	}
	// A subcommand's topic is its command's.
	if code, stdout, _ := run(t, "", "help", "token", "gen"); code != 0 || stdout != tokenUsage {
		t.Errorf("help token gen: status %d, %q", code, stdout)
	}
	// serve's help says how flags take values, then lists the settings.
	if h := serveHelp(); !strings.Contains(h, "--monitor=false") || !strings.HasSuffix(h, settingsHelp()) {
		t.Errorf("serve help:\n%s", h)
	}
}

// TestBindDashes: -- lets a value start with a dash; without it, such a
// value is an unknown flag, not silently hashed.
func TestBindDashes(t *testing.T) {
	isolate(t)
	if code, stdout, _ := run(t, "", "bind", "--", "-x", "--y"); code != 0 || stdout != approov.PayloadHash("-x--y")+"\n" {
		t.Errorf("status %d, %q", code, stdout)
	}
	if code, _, stderr := run(t, "", "bind", "-x"); code != 2 || stderr != "approov-gateway bind: unknown flag --x (see approov-gateway help bind)\n" {
		t.Errorf("status %d, %q", code, stderr)
	}
}
