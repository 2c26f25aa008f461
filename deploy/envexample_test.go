package deploy

import (
	"regexp"
	"strings"
	"testing"
)

var (
	assignment          = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)
	commentedAssignment = regexp.MustCompile(`^#\s*([A-Z][A-Z0-9_]*)=`)
)

// envExample returns the variables .env.example sets, and the names it
// shows in comments as settings to add.
func envExample(t *testing.T) (set map[string]string, suggested []string) {
	t.Helper()
	set = map[string]string{}
	for i, line := range strings.Split(readRepoFile(t, ".env.example"), "\n") {
		line = strings.TrimSpace(line)
		if m := commentedAssignment.FindStringSubmatch(line); m != nil {
			suggested = append(suggested, m[1])
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := assignment.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf(".env.example:%d: want NAME=value, with no quotes or export, which every reader of .env takes alike", i+1)
		}
		if _, dup := set[m[1]]; dup {
			t.Errorf(".env.example: %s set twice", m[1])
		}
		set[m[1]] = m[2]
	}
	return set, suggested
}

// Every name is one the gateway or the Django example reads, and no secret
// has a value.
func TestEnvExample(t *testing.T) {
	byEnv, _ := settings(t)
	set, suggested := envExample(t)
	djangoSettings := readRepoFile(t, "examples", "django", "hello", "settings.py")
	for _, name := range suggested {
		checkEnvName(t, ".env.example", name)
	}
	for name, value := range set {
		if strings.HasPrefix(name, "APPROOV_") {
			checkEnvName(t, ".env.example", name)
		} else if !strings.Contains(djangoSettings, `os.environ.get("`+name+`"`) && !strings.Contains(djangoSettings, `os.environ["`+name+`"]`) {
			t.Errorf(".env.example: %s is read neither by the gateway nor by examples/django/hello/settings.py", name)
		}
		if (byEnv[name].secret || strings.Contains(name, "SECRET")) && value != "" {
			t.Errorf(".env.example: %s has a value: leave secrets empty, to be filled in the copy", name)
		}
	}
	// What the Django guide needs: a key, the assertion key, the upstream.
	for _, name := range []string{"APPROOV_BASE64_SECRET", "APPROOV_ASSERTION_SECRET", "APPROOV_UPSTREAM", "DJANGO_SECRET_KEY"} {
		if _, ok := set[name]; !ok {
			t.Errorf(".env.example does not set %s", name)
		}
	}
}
