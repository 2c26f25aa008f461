package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const unitFile = "deploy/systemd/approov-gateway.service"

// unit is a systemd unit file: each section's directives, every assignment
// in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, text string) unit {
	t.Helper()
	u := unit{}
	section := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, "\\") {
				t.Fatalf("%s:%d: want KEY=value in a section, on one line", unitFile, i+1)
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	return u
}

// environment returns the service's Environment= assignments, one each.
func (u unit) environment(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, kv := range u["Service"]["Environment"] {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || strings.ContainsAny(kv, " \"'") {
			t.Fatalf("%s: Environment=%s: want one NAME=value, unquoted", unitFile, kv)
		}
		env[name] = value
	}
	return env
}

// The unit confines the gateway as docs/DEPLOYMENT.md says, and hands it its
// secrets as credentials.
func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, readRepoFile(t, unitFile))
	service := u["Service"]
	want := map[string]string{
		"ExecStart":                "/usr/local/bin/approov-gateway serve",
		"ExecReload":               "/bin/kill -HUP $MAINPID",
		"Restart":                  "on-failure",
		"RestartPreventExitStatus": "2",
		"DynamicUser":              "yes",
		"ProtectSystem":            "strict",
		"ProtectHome":              "yes",
		"PrivateTmp":               "yes",
		"PrivateDevices":           "yes",
		"NoNewPrivileges":          "yes",
		"CapabilityBoundingSet":    "",
		"AmbientCapabilities":      "",
		"RestrictAddressFamilies":  "AF_INET AF_INET6",
		"MemoryDenyWriteExecute":   "yes",
		"LockPersonality":          "yes",
		"RestrictNamespaces":       "yes",
		"SystemCallArchitectures":  "native",
	}
	for key, value := range want {
		if got := service[key]; !slices.Equal(got, []string{value}) {
			t.Errorf("%s=%q, want %s=%s", key, got, key, value)
		}
	}
	if got := service["SystemCallFilter"]; len(got) == 0 || got[0] != "@system-service" {
		t.Errorf("SystemCallFilter=%q, want @system-service first", got)
	}
	for _, forbidden := range []string{"User", "Group", "EnvironmentFile", "ProcSubset"} {
		if _, ok := service[forbidden]; ok {
			t.Errorf("%s= is set: DynamicUser makes the user; settings come from the YAML file and .env, which SIGHUP reads again; ProcSubset=pid hides /proc/stat from the process metrics", forbidden)
		}
	}

	// Secrets: each *_FILE setting names a credential the unit loads, and
	// no secret is in the environment.
	byEnv, _ := settings(t)
	env := u.environment(t)
	credentials := map[string]string{}
	for _, lc := range service["LoadCredential"] {
		id, path, ok := strings.Cut(lc, ":")
		if !ok || !filepath.IsAbs(path) {
			t.Errorf("LoadCredential=%s: want ID:/absolute/path", lc)
		}
		credentials[id] = path
	}
	for name, value := range env {
		checkEnvName(t, unitFile, name)
		if byEnv[name].secret {
			t.Errorf("Environment=%s: a secret in the environment; use LoadCredential= and %s_FILE", name, name)
		}
		if strings.HasSuffix(name, "_FILE") {
			id, ok := strings.CutPrefix(value, "%d/")
			if _, loaded := credentials[id]; !ok || !loaded {
				t.Errorf("Environment=%s=%s: want %%d/ID of a LoadCredential=", name, value)
			}
			delete(credentials, id)
		}
	}
	for id := range credentials {
		t.Errorf("LoadCredential=%s: no setting reads it", id)
	}
	for _, name := range []string{"APPROOV_SECRET_FILE", "APPROOV_ASSERTION_SECRET_FILE"} {
		if _, ok := env[name]; !ok {
			t.Errorf("no Environment=%s", name)
		}
	}

	// Draining must finish before systemd kills.
	_, byName := settings(t)
	drain, _ := time.ParseDuration(byName["shutdown_timeout"].def)
	if stop, err := time.ParseDuration(strings.Join(service["TimeoutStopSec"], "")); err != nil || stop <= drain {
		t.Errorf("TimeoutStopSec=%q, want longer than shutdown_timeout's default, %v", service["TimeoutStopSec"], drain)
	}
}

// unitForTest writes the unit to dir with ExecStart on the built binary,
// which systemd-analyze verify requires to exist.
func unitForTest(t *testing.T, dir string) string {
	t.Helper()
	text := readRepoFile(t, unitFile)
	if !strings.Contains(text, "ExecStart=/usr/local/bin/approov-gateway ") {
		t.Fatal("ExecStart is not /usr/local/bin/approov-gateway")
	}
	text = strings.ReplaceAll(text, "ExecStart=/usr/local/bin/approov-gateway ", "ExecStart="+gatewayBinary(t)+" ")
	path := filepath.Join(dir, filepath.Base(unitFile))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// systemd reads the unit without a complaint, and rates its confinement
// no worse than it does now.
func TestSystemdAnalyze(t *testing.T) {
	requirePrograms(t, "systemd-analyze")
	path := unitForTest(t, t.TempDir())
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The exposure level, 0 to 100 (shown as 0.0 to 10.0), is 12 now:
	// above it, a directive that confines the service has been lost.
	out, err = exec.Command("systemd-analyze", "security", "--offline=yes", "--threshold=12", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Log(lines[len(lines)-1])
}

// The gateway accepts the unit's settings, with the credentials as systemd
// makes them: files of mode 0400 in $CREDENTIALS_DIRECTORY.
func TestSystemdCheckConfig(t *testing.T) {
	requirePrograms(t)
	u := parseUnit(t, readRepoFile(t, unitFile))
	root := t.TempDir()
	credentials := filepath.Join(root, "credentials")
	if err := os.Mkdir(credentials, 0o700); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"approov-secret": randomKey(t, 64), "assertion-secret": randomKey(t, 64)}
	for _, lc := range u["Service"]["LoadCredential"] {
		id, _, _ := strings.Cut(lc, ":")
		if err := os.WriteFile(filepath.Join(credentials, id), []byte(secrets[id]+"\n"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	workDir := strings.Join(u["Service"]["WorkingDirectory"], "")
	dir := filepath.Join(root, workDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for name, value := range u.environment(t) {
		value = strings.ReplaceAll(value, "%d", credentials)
		if strings.HasPrefix(value, workDir+"/") {
			value = filepath.Join(root, value)
		}
		env = append(env, name+"="+value)
	}
	gatewayYAML := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(gatewayYAML, []byte("upstream: http://127.0.0.1:8000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkConfig(t, dir, env)
}
