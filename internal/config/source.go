package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Source is where settings come from: the arguments after the subcommand,
// the process environment and the working directory (for .env).
type Source struct {
	Args    []string
	Getenv  func(string) (string, bool)
	Environ func() []string
	Dir     string
}

// OSSource is the process's own arguments, environment and directory.
func OSSource(args []string) Source {
	dir, _ := os.Getwd()
	return Source{Args: args, Getenv: os.LookupEnv, Environ: os.Environ, Dir: dir}
}

// environment is the environment as settings see it: the process's, then
// the .env file's for names the process does not set, as python-dotenv does
// by default.
type environment struct {
	src    Source
	dotenv dotenv
}

func (src Source) environment() environment {
	return environment{src: src, dotenv: readDotenv(filepath.Join(src.Dir, ".env"))}
}

// get returns the value of the variable name and where it came from, as a
// problem names it: the variable, or the line of .env and the variable.
func (e environment) get(name string) (value, from string, ok bool) {
	if v, ok := e.src.Getenv(name); ok {
		return v, name, true
	}
	if v, ok := e.dotenv.vars[name]; ok {
		return v, fmt.Sprintf(".env:%d: %s", e.dotenv.lines[name], name), true
	}
	return "", "", false
}

// Lookup returns the value of an environment variable as settings see it,
// .env included, for commands that read a few settings without loading a
// whole configuration. The error lists the lines of .env that could not be
// read; the others still count.
func (src Source) Lookup(name string) (value string, ok bool, err error) {
	e := src.environment()
	value, _, ok = e.get(name)
	if len(e.dotenv.problems) > 0 {
		return value, ok, e.dotenv.problems
	}
	return value, ok, nil
}

// otherPrefixes are the prefixes of APPROOV_ variables that are not ours
// to judge: Approov's own CLI reads APPROOV_MANAGEMENT_TOKEN.
var otherPrefixes = []string{"APPROOV_MANAGEMENT"}

// unknownNames judges the APPROOV_ variables of the environment and .env
// that name no setting. One within two edits of a setting's variable is
// a typo that would leave the setting at its default — APPROOV_MONITR
// leaves the gateway enforcing, APPROOV_BINDING_HEADER without binding —
// so it is a problem, with the name meant. Any other is a warning only:
// programs beside the gateway, such as its Django package, may share the
// environment and the .env file. Names come sorted, the environment's
// first, then .env's in the file's order.
func (e environment) unknownNames() (problems Problems, warnings []string) {
	known := []string{"APPROOV_CONFIG"}
	for _, s := range settings {
		known = append(known, envName(s.name))
	}
	judge := func(name, where string) {
		if !strings.HasPrefix(name, "APPROOV_") || slices.Contains(known, name) {
			return
		}
		for _, p := range otherPrefixes {
			if strings.HasPrefix(name, p) {
				return
			}
		}
		if near := Nearest(strings.ToUpper(name), known, 2); near != "" {
			problems = append(problems, fmt.Sprintf("%s: unknown setting (did you mean %s?)", where, near))
			return
		}
		warnings = append(warnings, where+": not a setting of approov-gateway; ignored")
	}
	var names []string
	if e.src.Environ != nil {
		for _, kv := range e.src.Environ() {
			name, _, _ := strings.Cut(kv, "=")
			names = append(names, name)
		}
	}
	sort.Strings(names)
	inEnv := map[string]bool{}
	for _, name := range names {
		inEnv[name] = true
		judge(name, name)
	}
	dotenvNames := make([]string, 0, len(e.dotenv.vars))
	for name := range e.dotenv.vars {
		if !inEnv[name] {
			dotenvNames = append(dotenvNames, name)
		}
	}
	sort.Slice(dotenvNames, func(i, j int) bool { return e.dotenv.lines[dotenvNames[i]] < e.dotenv.lines[dotenvNames[j]] })
	for _, name := range dotenvNames {
		judge(name, fmt.Sprintf(".env:%d: %s", e.dotenv.lines[name], name))
	}
	return problems, warnings
}
