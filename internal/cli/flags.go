package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/approov-gateway/approov/internal/config"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// fail prints one line and returns status.
func fail(w io.Writer, cmd string, status int, format string, args ...any) int {
	fmt.Fprintf(w, "approov-gateway %s: %s\n", cmd, fmt.Sprintf(format, args...))
	return status
}

// newCommandFlags returns the flag set of a command, which parseCommand
// parses: the flag package itself prints nothing.
func newCommandFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseCommand parses args with fs, flags and positional arguments in any
// order. When it returns false, the command is done: -h, -help or --help
// printed usage on stdout (status 0), or a bad flag its one line on stderr,
// with the flag it is likely a typo of (status 2).
func parseCommand(fs *flag.FlagSet, args []string, stdio IO, usage, topic string) (positional []string, status int, ok bool) {
	positional, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdio.Stdout, usage)
		return nil, exitOK, false
	case err != nil:
		return nil, fail(stdio.Stderr, fs.Name(), exitUsage, "%v", config.FlagError(fs, err, "see approov-gateway help "+topic)), false
	}
	return positional, exitOK, true
}

// parseInterspersed parses args with fs, allowing flags after positional
// arguments (token check TOKEN --bind x), which the flag package alone
// stops at. Everything after "--" is positional. It returns the positional
// arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if parsed := args[:len(args)-len(rest)]; len(parsed) > 0 && parsed[len(parsed)-1] == "--" {
			return append(positional, rest...), nil // the flag package took the "--"
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
