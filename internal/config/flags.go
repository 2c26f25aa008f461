package config

import (
	"flag"
	"fmt"
	"strings"
)

// Flags are the command-line options that are not settings.
type Flags struct {
	CheckConfig bool
}

// settingFlag is the flag of a setting. It keeps the text as given, for
// the setting's own parser to judge, so that a bad flag is reported as a
// bad value of the setting, like a bad environment variable. A boolean
// setting's flag is a boolean flag: --monitor alone means true, and it never
// takes the next argument as its value (--monitor=false turns it off).
type settingFlag struct {
	text    *string
	boolean bool
}

var _ flag.Value = (*settingFlag)(nil)

func (f *settingFlag) String() string {
	if f == nil || f.text == nil {
		return "" // the zero value the flag package makes to find defaults
	}
	return *f.text
}

func (f *settingFlag) Set(v string) error { *f.text = v; return nil }

// IsBoolFlag tells the flag package that the flag needs no value.
func (f *settingFlag) IsBoolFlag() bool { return f.boolean }

// NewFlagSet returns the flag set of the serve command: one flag per
// non-secret setting, plus --config and --check-config. The map holds the
// text each setting's flag was given, by setting name, and config.
func NewFlagSet(name string) (*flag.FlagSet, *Flags, map[string]*string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	values := map[string]*string{}
	for _, s := range settings {
		if s.secret {
			continue
		}
		text := s.def
		_, boolean := s.value.(boolValue)
		fs.Var(&settingFlag{text: &text, boolean: boolean}, flagName(s.name), s.usage+" ("+envName(s.name)+")")
		values[s.name] = &text
	}
	values["config"] = fs.String("config", "", "YAML configuration file (APPROOV_CONFIG)")
	f := &Flags{}
	fs.BoolVar(&f.CheckConfig, "check-config", false, "check the configuration, print what is wrong, and exit")
	return fs, f, values
}

// FlagError returns err, an error of fs.Parse other than [flag.ErrHelp],
// as the commands report it: an undefined flag is named with two dashes,
// as the help writes flags, and with the flag of fs it is likely a typo of
// (within two edits), if any. Where there is no such suggestion, hint (such
// as "see approov-gateway help token") follows in brackets.
func FlagError(fs *flag.FlagSet, err error, hint string) error {
	name, undefined := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !undefined {
		return fmt.Errorf("%w (%s)", err, hint)
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if near := Nearest(strings.ToLower(name), names, 2); near != "" {
		return fmt.Errorf("unknown flag --%s (did you mean --%s?)", name, near)
	}
	return fmt.Errorf("unknown flag --%s (%s)", name, hint)
}

// boolFlagHint explains an argument that is left over after a boolean
// flag: "--monitor false" sets --monitor and leaves "false", because a
// boolean flag takes a value only after "=".
func boolFlagHint(fs *flag.FlagSet, args []string, rest int) string {
	i := len(args) - rest
	if i < 1 || i >= len(args) {
		return ""
	}
	name := strings.TrimLeft(args[i-1], "-")
	f := fs.Lookup(name)
	if f == nil || strings.Contains(args[i-1], "=") {
		return ""
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
		return ""
	}
	return fmt.Sprintf("; --%s is a boolean flag: --%s alone turns it on, --%s=%s sets it", name, name, name, args[i])
}
