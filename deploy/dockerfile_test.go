package deploy

import (
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"
)

// instruction is one instruction of a Dockerfile, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, COPY…
	args string
}

// stage is one FROM of a Dockerfile and the instructions under it.
type stage struct {
	name, from string
	body       []instruction
}

func (s stage) all(cmd string) []string {
	var args []string
	for _, in := range s.body {
		if in.cmd == cmd {
			args = append(args, in.args)
		}
	}
	return args
}

// parseDockerfile reads the stages of a Dockerfile: enough of the format
// for these tests, which a file that outgrows it fails loudly.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var joined strings.Builder
	first := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if joined.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if joined.Len() == 0 {
			first = i + 1
		}
		if rest, ok := strings.CutSuffix(trimmed, "\\"); ok {
			joined.WriteString(rest + " ")
			continue
		}
		joined.WriteString(trimmed)
		cmd, args, _ := strings.Cut(joined.String(), " ")
		joined.Reset()
		in := instruction{line: first, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		switch in.cmd {
		case "ARG":
			if len(stages) == 0 {
				continue // a global ARG, for the FROM lines
			}
		case "FROM":
			f := strings.Fields(in.args)
			s := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			} else if len(f) != 1 {
				t.Fatalf("Dockerfile:%d: FROM %s: want IMAGE [AS NAME]", in.line, in.args)
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	return stages
}

// imageStages returns the Dockerfile's stages by name, and the chain of
// stages the default target (the last) is built on, itself first.
func imageStages(t *testing.T) (byName map[string]stage, chain []stage) {
	t.Helper()
	stages := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	byName = map[string]stage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	for s, ok := stages[len(stages)-1], true; ok; s, ok = byName[s.from] {
		chain = append(chain, s)
	}
	return byName, chain
}

// The image: static, non-root, no shell; built by both targets alike.
func TestDockerfile(t *testing.T) {
	byName, chain := imageStages(t)
	if got := chain[0].name; got != "gateway" {
		t.Errorf("the default target (the last stage) is %q, want gateway", got)
	}
	if prebuilt, ok := byName["prebuilt"]; !ok || prebuilt.from != "runtime" || chain[0].from != "runtime" {
		t.Errorf("the prebuilt and gateway targets must both be FROM runtime, which holds everything but the files")
	}
	if base := chain[len(chain)-1]; base.from != "scratch" {
		t.Errorf("the image is built FROM %s, want scratch: no shell, no packages", base.from)
	}
	runtime := byName["runtime"]
	for _, s := range []stage{runtime, byName["prebuilt"], byName["gateway"]} {
		if runs := s.all("RUN"); len(runs) > 0 {
			t.Errorf("stage %s: RUN in a stage on scratch, which has no shell", s.name)
		}
		if copies := s.all("COPY"); s.name != "runtime" && len(copies) != 1 {
			t.Errorf("stage %s: %d COPY, want the one of rootfs", s.name, len(copies))
		}
	}
	if got := byName["prebuilt"].all("COPY"); len(got) != 1 || got[0] != "rootfs/ /" {
		t.Errorf("prebuilt copies %q, want rootfs/ /, as deploy/image/build lays it out", got)
	}
	if got := byName["gateway"].all("COPY"); len(got) != 1 || got[0] != "--from=build /rootfs/ /" {
		t.Errorf("gateway copies %q, want --from=build /rootfs/ /", got)
	}
	build := strings.Join(byName["build"].all("RUN"), "\n")
	for _, want := range []string{`CGO_ENABLED=0 go build -trimpath -tags "${GO_TAGS}" -o /rootfs/approov-gateway ./cmd/approov-gateway`, "/rootfs/etc/ssl/certs/", "chmod 1777 /rootfs/tmp"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage does not run %q", want)
		}
	}
	script := readRepoFile(t, "deploy", "image", "build")
	for _, want := range []string{"CGO_ENABLED=0 go build -trimpath", `"$rootfs/approov-gateway"`, `"$rootfs/etc/ssl/certs/ca-certificates.crt"`, `-m 1777 "$rootfs/tmp"`, "--target prebuilt"} {
		if !strings.Contains(script, want) {
			t.Errorf("deploy/image/build does not lay out rootfs as the build stage does: no %q", want)
		}
	}

	if got := runtime.all("USER"); !slices.Equal(got, []string{"65532:65532"}) {
		t.Errorf("USER %q, want 65532:65532", got)
	}
	var entrypoint []string
	if got := runtime.all("ENTRYPOINT"); len(got) != 1 || json.Unmarshal([]byte(got[0]), &entrypoint) != nil || !slices.Equal(entrypoint, []string{"/approov-gateway", "serve"}) {
		t.Errorf("ENTRYPOINT %q, want the exec form [\"/approov-gateway\", \"serve\"]: there is no shell to run the other", got)
	}
	if len(runtime.all("HEALTHCHECK")) > 0 || len(runtime.all("SHELL")) > 0 {
		t.Error("HEALTHCHECK or SHELL in an image with no shell")
	}

	// The addresses the image listens on are the ports it exposes.
	env := map[string]string{}
	for _, args := range runtime.all("ENV") {
		for _, kv := range strings.Fields(args) {
			name, value, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("ENV %s: want NAME=value pairs", args)
			}
			checkEnvName(t, "Dockerfile", name)
			env[name] = value
		}
	}
	var listenPorts []string
	for _, name := range []string{"APPROOV_LISTEN", "APPROOV_ADMIN_LISTEN"} {
		host, port, err := net.SplitHostPort(env[name])
		if err != nil || host != "" {
			t.Errorf("ENV %s=%s: want :PORT, every interface, or no one outside the container reaches it", name, env[name])
		}
		listenPorts = append(listenPorts, port)
	}
	if got := strings.Fields(strings.Join(runtime.all("EXPOSE"), " ")); !slices.Equal(got, listenPorts) {
		t.Errorf("EXPOSE %q, but the gateway listens on %q", got, listenPorts)
	}
}

// No secret goes into a build context, and the source does.
func TestDockerignore(t *testing.T) {
	var patterns []string
	for line := range strings.Lines(readRepoFile(t, ".dockerignore")) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	for _, want := range []string{"**/.env", "**/*.env"} {
		if !slices.Contains(patterns, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") || p == "*" || strings.Contains(p, ".go") || strings.Contains(p, "examples") || strings.Contains(p, ".git") {
			t.Errorf(".dockerignore: %s would keep a build from source out of its context", p)
		}
	}
}
