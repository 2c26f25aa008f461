package config

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
)

// TestBooleanFlags: a boolean setting's flag alone means true, =false
// turns it off, and it never takes the next argument as its value.
func TestBooleanFlags(t *testing.T) {
	noUpstream := map[string]string{"APPROOV_BASE64_SECRET": secret}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(c *Config, f *Flags) bool
	}{
		{"alone", valid, []string{"--monitor"}, func(c *Config, _ *Flags) bool { return c.Monitor }},
		{"one dash", valid, []string{"-access-log"}, func(c *Config, _ *Flags) bool { return c.AccessLog }},
		{"=false", with("APPROOV_MONITOR", "true"), []string{"--monitor=false"}, func(c *Config, _ *Flags) bool { return !c.Monitor }},
		{"=1", valid, []string{"--monitor=1"}, func(c *Config, _ *Flags) bool { return c.Monitor }},
		{"before a flag with a value", valid, []string{"--monitor", "--listen", "127.0.0.1:8003", "--check-config"},
			func(c *Config, f *Flags) bool { return c.Monitor && c.Listen == "127.0.0.1:8003" && f.CheckConfig }},
		{"before another boolean flag", noUpstream, []string{"--forward-auth-only", "--check-config"},
			func(c *Config, f *Flags) bool { return c.ForwardAuthOnly && f.CheckConfig }},
		{"not given", with("APPROOV_MONITOR", "true"), []string{"--check-config"}, func(c *Config, _ *Flags) bool { return c.Monitor }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, err := Load(source(t, tt.env, nil, tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c, f) {
				t.Errorf("%q: monitor %v, access_log %v, forward_auth_only %v, listen %q, check-config %v", tt.args, c.Monitor, c.AccessLog, c.ForwardAuthOnly, c.Listen, f.CheckConfig)
			}
		})
	}

	// A value the setting does not take is the setting's problem, as from
	// the environment, and never repeated.
	_, _, err := Load(source(t, valid, nil, "--monitor="+leak))
	if p := problemsOf(t, err); !slices.Equal(p, Problems{"--monitor: not true or false"}) {
		t.Errorf("problems %q", p)
	}
	assertNoLeak(t, err)
}

// TestBooleanFlagsAreTheBooleanSettings: exactly the flags of boolean
// settings, and --check-config, need no value.
func TestBooleanFlagsAreTheBooleanSettings(t *testing.T) {
	fs, _, _ := NewFlagSet("serve")
	byFlag := map[string]setting{}
	for _, s := range settings {
		byFlag[flagName(s.name)] = s
	}
	fs.VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		isBool := ok && b.IsBoolFlag()
		s, isSetting := byFlag[f.Name]
		_, want := s.value.(boolValue)
		if !isSetting {
			want = f.Name == "check-config"
		}
		if isBool != want {
			t.Errorf("--%s: boolean %v, want %v", f.Name, isBool, want)
		}
	})
}

// TestLoadHelp: -h and --help ask for help, which Load leaves to the
// command to print.
func TestLoadHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"--monitor", "-h"}} {
		if _, _, err := Load(source(t, valid, nil, args...)); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: %v, want flag.ErrHelp", args, err)
		}
	}
}

// TestFlagError: an undefined flag gets the flag it is within two edits of,
// else the hint; other errors keep their text and get the hint.
func TestFlagError(t *testing.T) {
	fs := flag.NewFlagSet("token check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("bind", "", "")
	fs.String("header", "", "")
	fs.String("public-key", "", "")
	fs.Bool("json", false, "")
	const hint = "see approov-gateway help token"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--bnd", "x"}, "unknown flag --bnd (did you mean --bind?)"},
		{[]string{"--headers", "x"}, "unknown flag --headers (did you mean --header?)"},
		{[]string{"-publickey", "x"}, "unknown flag --publickey (did you mean --public-key?)"},
		{[]string{"--JSON"}, "unknown flag --JSON (did you mean --json?)"},
		{[]string{"--secret", "x"}, "unknown flag --secret (see approov-gateway help token)"},
		{[]string{"--bind"}, "flag needs an argument: -bind (see approov-gateway help token)"},
	} {
		err := fs.Parse(tt.args)
		if err == nil {
			t.Fatalf("%q parsed", tt.args)
		}
		if got := FlagError(fs, err, hint).Error(); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestNearest: the closest name within the distance, the first of equals.
func TestNearest(t *testing.T) {
	names := []string{"monitor", "listen", "leeway"}
	for _, tt := range []struct {
		name string
		max  int
		want string
	}{
		{"monitr", 2, "monitor"},
		{"monitor", 2, "monitor"},
		{"lsten", 2, "listen"},
		{"leeweigh", 2, ""},
		{"xyz", 2, ""},
		{"leeway", 0, "leeway"},
	} {
		if got := Nearest(tt.name, names, tt.max); got != tt.want {
			t.Errorf("Nearest(%q, %d) = %q, want %q", tt.name, tt.max, got, tt.want)
		}
	}
}
