package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// setting is one row of the settings table in docs/CONFIGURATION.md,
// generated from the gateway's internal/config/settings.go.
type setting struct {
	name   string // YAML key: base64_secret
	env    string // environment variable: APPROOV_BASE64_SECRET
	def    string // default, as the table shows it: 15s
	secret bool   // secrets have no flag, so that they never show in a process list
}

var (
	settingsOnce   sync.Once
	settingsByEnv  map[string]setting
	settingsByName map[string]setting
	settingsErr    string
)

// settings returns the gateway's settings by environment variable and by
// YAML name.
func settings(t *testing.T) (byEnv, byName map[string]setting) {
	t.Helper()
	settingsOnce.Do(func() {
		settingsByEnv, settingsByName, settingsErr = readSettingsTable(repoPath("docs", "CONFIGURATION.md"))
	})
	if settingsErr != "" {
		t.Fatal(settingsErr)
	}
	return settingsByEnv, settingsByName
}

func readSettingsTable(path string) (byEnv, byName map[string]setting, problem string) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err.Error()
	}
	_, table, ok := strings.Cut(string(doc), "<!-- settings table")
	table, _, ok2 := strings.Cut(table, "<!-- end of settings table -->")
	if !ok || !ok2 {
		return nil, nil, path + ": no settings table between its markers"
	}
	byEnv, byName = map[string]setting{}, map[string]setting{}
	for line := range strings.Lines(table) {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`APPROOV_") {
			continue
		}
		cell := func(i int) string { return strings.Trim(strings.TrimSpace(cells[i]), "`") }
		s := setting{name: cell(1), env: cell(2), def: cell(4), secret: cell(3) == "—"}
		byEnv[s.env], byName[s.name] = s, s
	}
	// The YAML file itself is named outside the table, in the text above it.
	if strings.Contains(string(doc), "`APPROOV_CONFIG`") {
		byEnv["APPROOV_CONFIG"] = setting{env: "APPROOV_CONFIG"}
	}
	// A table this parser no longer reads would make every name unknown.
	for _, want := range []string{"APPROOV_BASE64_SECRET", "APPROOV_SECRET_FILE", "APPROOV_ASSERTION_SECRET_FILE", "APPROOV_LISTEN", "APPROOV_ADMIN_LISTEN", "APPROOV_UPSTREAM"} {
		if _, ok := byEnv[want]; !ok {
			return nil, nil, path + ": the settings table has no " + want + ": has its format changed?"
		}
	}
	if !byEnv["APPROOV_BASE64_SECRET"].secret || byEnv["APPROOV_SECRET_FILE"].secret {
		return nil, nil, path + ": the settings table's flag column no longer tells secrets apart"
	}
	return byEnv, byName, ""
}

// checkEnvName fails the test unless name, used in file, is a setting of
// the gateway.
func checkEnvName(t *testing.T, file, name string) {
	t.Helper()
	byEnv, _ := settings(t)
	if _, ok := byEnv[name]; !ok {
		t.Errorf("%s: %s is not a setting of the gateway (docs/CONFIGURATION.md)", file, name)
	}
}

// repoPath returns a path in the repository, whose root is this module's
// parent directory.
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{".."}, elem...)...)
}

func readRepoFile(t *testing.T, elem ...string) string {
	t.Helper()
	b, err := os.ReadFile(repoPath(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSettingsTable(t *testing.T) {
	byEnv, byName := settings(t)
	if len(byName) < 40 || len(byEnv) != len(byName)+1 {
		t.Fatalf("read %d settings by environment variable and %d by name: the table has more", len(byEnv), len(byName))
	}
	for name, s := range byName {
		if s.env != "APPROOV_"+strings.ToUpper(name) {
			t.Errorf("%s: environment variable of %s, not APPROOV_ and its name in capitals", s.env, name)
		}
	}
	if _, err := time.ParseDuration(byName["shutdown_timeout"].def); err != nil {
		t.Errorf("default of shutdown_timeout: %v", err)
	}
}
