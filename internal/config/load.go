package config

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
)

// Problems is every problem found while loading a configuration, one line
// each.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Defaults returns a configuration with every default applied and nothing
// else: no key, no upstream. Callers that build configurations in code,
// such as the demo, start from it.
func Defaults() *Config {
	c := &Config{}
	for _, s := range settings {
		if s.def != "" {
			if err := s.value.set(c, s.def); err != nil {
				panic("config: bad default for " + s.name + ": " + err.Error())
			}
		}
	}
	return c
}

// Validate checks a configuration built in code, as Load checks one read
// from files and the environment.
func (c *Config) Validate() error {
	if p := c.validate(); len(p) > 0 {
		return p
	}
	return nil
}

// Load reads the configuration for the serve command. On a bad
// configuration it returns [Problems], every one found, and the
// configuration as far as it could be read, which [Config.Buildable] turns
// into one other checks can run on. Arguments that are not flags of serve
// come back as another error, which asks for help when it wraps
// [flag.ErrHelp] (-h or --help).
func Load(src Source) (*Config, *Flags, error) {
	fs, flags, values := NewFlagSet("serve")
	fs.SetOutput(new(strings.Builder))
	const hint = "see approov-gateway serve -h"
	if err := fs.Parse(src.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, FlagError(fs, err, hint)
	}
	if fs.NArg() > 0 {
		if why := boolFlagHint(fs, src.Args, fs.NArg()); why != "" {
			return nil, nil, fmt.Errorf("unexpected argument %q%s", fs.Arg(0), why)
		}
		return nil, nil, fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), hint)
	}
	setFlags := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if v, ok := values[strings.ReplaceAll(f.Name, "-", "_")]; ok {
			setFlags[f.Name] = *v
		}
	})

	c, problems := read(src, setFlags["config"])
	for _, s := range settings {
		if v, ok := setFlags[flagName(s.name)]; ok {
			if err := s.value.set(c, v); err != nil {
				problems = append(problems, "--"+flagName(s.name)+": "+err.Error())
			} else {
				delete(c.lines, s.name) // no longer the file's value
			}
		}
	}
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return c, flags, problems
	}
	return c, flags, nil
}

// read applies the defaults, the YAML file (file, or APPROOV_CONFIG when
// file is empty), and the environment with .env, collecting problems: the
// lines of .env it could not read, the APPROOV_ names that look like typos
// of a setting's, and bad values. The other unknown APPROOV_ names become
// the configuration's warnings.
func read(src Source, file string) (*Config, Problems) {
	c := Defaults()
	env := src.environment()
	problems := append(Problems(nil), env.dotenv.problems...)
	unknown, warnings := env.unknownNames()
	problems = append(problems, unknown...)
	c.warnings = warnings
	if file == "" {
		file, _, _ = env.get("APPROOV_CONFIG")
	}
	if file != "" {
		c.File = file
		path := file
		if !filepath.IsAbs(path) && src.Dir != "" {
			path = filepath.Join(src.Dir, path)
		}
		problems = append(problems, loadYAML(c, path, file)...)
	}
	for _, s := range settings {
		if v, from, ok := env.get(envName(s.name)); ok {
			if err := s.value.set(c, v); err != nil {
				problems = append(problems, from+": "+err.Error())
			} else {
				delete(c.lines, s.name) // no longer the file's value
			}
		}
	}
	return c, problems
}

// Warnings returns what Load found suspicious but not wrong: APPROOV_
// variables in the environment or .env that are no setting's, nor a near
// miss of one.
func (c *Config) Warnings() []string { return c.warnings }

// LoadKeySettings reads the settings as serve does — the YAML file named
// by file, or by APPROOV_CONFIG when file is empty, .env and the
// environment — but no flags, and checks only what [LoadKeys] needs: for
// commands such as token check, which verify with the keys serve would.
func LoadKeySettings(src Source, file string) (*Config, error) {
	c, problems := read(src, file)
	v := c.newValidation()
	c.validateKeys(v.add)
	problems = append(problems, v.problems...)
	if len(problems) > 0 {
		return c, problems
	}
	return c, nil
}
