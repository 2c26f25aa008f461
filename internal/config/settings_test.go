package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"65536", 65536},
		{" 65536 ", 65536},
		{"64KiB", 64 << 10},
		{"64k", 64 << 10},
		{"64K", 64 << 10},
		{"64 KiB", 64 << 10},
		{"1MiB", 1 << 20},
		{"1m", 1 << 20},
		{"1M", 1 << 20},
		{"2GiB", 2 << 30},
		{"2g", 2 << 30},
		{"2G", 2 << 30},
		{"4294967296g", 1 << 62},
		{"4611686018427387904", 1 << 62},
	}
	for _, tt := range good {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", " ", "k", "KiB", "-1", "-1k", "1.5k", "1e3", "1KB", "1kb", "1kib", "1TiB", "1 k b", "0x10",
		// One unit only: a second one is a typo, not a bigger unit.
		"1mk", "1Kk", "1gm", "1KiBk", "1kKiB",
		// More than 2^62 bytes.
		"4294967297g", "4611686018427387905", "9223372036854775807", "99999999999999999999",
		leak, leak + "MiB",
	}
	for _, in := range bad {
		got, err := parseSize(in)
		if err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
			continue
		}
		if err.Error() != "not a size (use for example 65536, 64KiB or 1MiB)" {
			t.Errorf("parseSize(%q): error %q", in, err)
		}
	}
}

// otherValue returns a valid text for s that differs from its default.
func otherValue(t *testing.T, s setting) string {
	t.Helper()
	switch v := s.value.(type) {
	case textValue:
		return "127.0.0.1:1234"
	case choiceValue:
		for _, c := range v.choices {
			if c != s.def {
				return c
			}
		}
	case durationValue:
		return "7s"
	case intValue, autoIntValue, sizeValue:
		return "7777"
	case boolValue:
		return fmt.Sprint(s.def != "true")
	case listValue:
		return "ip,sub"
	case prefixesValue:
		return "10.0.0.0/8"
	}
	t.Fatalf("%s: no other value for %T", s.name, s.value)
	return ""
}

// TestRestartOnly changes one setting at a time and checks that a reload
// reports it exactly when the settings table marks it restart-only.
func TestRestartOnly(t *testing.T) {
	if got := RestartOnly(Defaults(), Defaults()); got != nil {
		t.Errorf("RestartOnly of equal configurations = %q", got)
	}
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			a, b := Defaults(), Defaults()
			if err := s.value.set(b, otherValue(t, s)); err != nil {
				t.Fatal(err)
			}
			var want []string
			if s.restart {
				want = []string{s.name}
			}
			if got := RestartOnly(a, b); !slices.Equal(got, want) {
				t.Errorf("RestartOnly = %q, want %q", got, want)
			}
		})
	}

	t.Run("several, in table order", func(t *testing.T) {
		a, b := Defaults(), Defaults()
		b.LogLevel, b.Listen, b.Monitor, b.MaxConnections, b.Routes = "debug", ":8080", true, 10, []Route{{Match: "/"}}
		if got, want := RestartOnly(a, b), []string{"listen", "max_connections", "log_level"}; !slices.Equal(got, want) {
			t.Errorf("RestartOnly = %q, want %q", got, want)
		}
	})
}

// TestChanged names every setting that differs, then routes and keys.
func TestChanged(t *testing.T) {
	if got := Changed(Defaults(), Defaults()); got != nil {
		t.Errorf("Changed of equal configurations = %q", got)
	}
	for _, s := range settings {
		a, b := Defaults(), Defaults()
		if err := s.value.set(b, otherValue(t, s)); err != nil {
			t.Fatal(err)
		}
		if got := Changed(a, b); !slices.Equal(got, []string{s.name}) {
			t.Errorf("%s: Changed = %q", s.name, got)
		}
	}
	a, b := Defaults(), Defaults()
	b.Monitor, b.Listen, b.Routes, b.Keys = true, ":1", []Route{{Match: "/"}}, []Key{{ID: "k"}}
	if got, want := Changed(a, b), []string{"monitor", "listen", "routes", "keys"}; !slices.Equal(got, want) {
		t.Errorf("Changed = %q, want %q", got, want)
	}
}

// TestSettingsMarkdown: every setting is one row, secrets have no flag.
func TestSettingsMarkdown(t *testing.T) {
	md := settingsMarkdown()
	rows := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if len(rows) != 2+len(settings) {
		t.Fatalf("%d rows for %d settings", len(rows)-2, len(settings))
	}
	for i, s := range settings {
		row := rows[2+i]
		if n := strings.Count(md, "| `"+s.name+"` |"); n != 1 {
			t.Errorf("%s appears %d times", s.name, n)
		}
		cells := strings.Split(row, " | ")
		if len(cells) != 6 {
			t.Errorf("%s: row %q has %d cells", s.name, row, len(cells))
			continue
		}
		wantFlag := "`--" + flagName(s.name) + "`"
		if s.secret {
			wantFlag = "—"
		}
		wantReload := map[bool]string{true: "restart", false: "live"}[s.restart]
		if cells[0] != "| `"+s.name+"`" || cells[1] != "`"+envName(s.name)+"`" || cells[2] != wantFlag || cells[4] != wantReload {
			t.Errorf("row %q", row)
		}
	}
}

// TestFlagSet: serve has a flag for every setting but the secrets, which
// would show in a process list, and the flag defaults are the settings'.
func TestFlagSet(t *testing.T) {
	fs, _, values := NewFlagSet("serve")
	for _, s := range Settings() {
		f := fs.Lookup(strings.TrimPrefix(flagName(s.Name), "--"))
		switch {
		case s.Secret && (f != nil || s.Flag != ""):
			t.Errorf("secret %s has a flag", s.Name)
		case !s.Secret && (f == nil || s.Flag != "--"+f.Name):
			t.Errorf("%s: flag %q", s.Name, s.Flag)
		case !s.Secret && (f.DefValue != s.Default || *values[s.Name] != s.Default || !strings.Contains(f.Usage, s.Env)):
			t.Errorf("%s: default %q, usage %q", s.Name, f.DefValue, f.Usage)
		}
	}
	for _, name := range []string{"config", "check-config"} {
		if fs.Lookup(name) == nil {
			t.Errorf("no --%s", name)
		}
	}
}

// TestDefaults: the defaults are valid but for what has none, a key and
// an upstream.
func TestDefaults(t *testing.T) {
	c := Defaults()
	p := problemsOf(t, c.Validate())
	if len(p) != 2 || !strings.HasPrefix(p[0], "no key: ") || !strings.HasPrefix(p[1], "no upstream: ") {
		t.Errorf("problems of the defaults: %q", p)
	}
	c.Base64Secret, c.Upstream = secret, "http://127.0.0.1:8000"
	if err := c.Validate(); err != nil {
		t.Errorf("defaults with a key and an upstream: %v", err)
	}
}
