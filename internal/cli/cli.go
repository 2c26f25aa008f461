// Package cli implements the approov-gateway command: serve, demo, token,
// sign, install-key, secret, bind, version and help. cmd/approov-gateway only calls [Main].
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/gateway"
	"github.com/approov-gateway/approov/internal/version"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed (invalid token, serve error)
	exitUsage   = 2 // bad arguments or configuration
)

// IO is where a command reads and writes, and how it learns to stop.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Signals, when set, stands in for the process's signals in serve and
	// demo: the context ends as SIGTERM would end it, and each value on
	// reload is a SIGHUP. Tests set it; by default the signals are real.
	Signals func() (ctx context.Context, reload <-chan struct{}, stop func())
}

// signals returns the stop context and reload channel of a command.
func (stdio IO) signals() (context.Context, <-chan struct{}, func()) {
	if stdio.Signals != nil {
		return stdio.Signals()
	}
	return osSignals()
}

// command is one command of approov-gateway: its name, its help, which
// help TOPIC and COMMAND -h print, and what runs it.
type command struct {
	name string
	help func() string
	run  func(args []string, stdio IO) int
}

// commands are approov-gateway's commands, in the order usage lists them.
// It is filled in init: help, one of them, reads it.
var commands []command

func init() {
	text := func(s string) func() string { return func() string { return s } }
	commands = []command{
		{"serve", serveHelp, serve},
		{"demo", text(demoUsage), demo},
		{"token", text(tokenUsage), token},
		{"sign", text(signUsage), signRequest},
		{"install-key", text(installKeyUsage), installKey},
		{"secret", text(secretUsage), secret},
		{"bind", text(bindUsage), bind},
		{"version", text(versionUsage), versionCommand},
		{"help", text(helpUsage), help},
	}
}

// commandNamed returns the command called name.
func commandNamed(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// didYouMean suggests the command or topic name is likely a typo of.
func didYouMean(name string, extra ...string) string {
	names := extra
	for _, c := range commands {
		names = append(names, c.name)
	}
	if near := config.Nearest(name, names, 2); near != "" {
		return " (did you mean " + near + "?)"
	}
	return ""
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// Main runs the command line args (without the program name) and returns
// the exit status.
func Main(args []string, stdio IO) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Stderr, usage)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch {
	case isHelp(name):
		return help(rest, stdio)
	case name == "--version" || name == "-version":
		return versionCommand(rest, stdio)
	}
	c, ok := commandNamed(name)
	if !ok {
		fmt.Fprintf(stdio.Stderr, "approov-gateway: unknown command %q%s\n", name, orSeeHelp(didYouMean(name)))
		return exitUsage
	}
	return c.run(rest, stdio)
}

// orSeeHelp returns suggestion, or else where to look.
func orSeeHelp(suggestion string) string {
	if suggestion != "" {
		return suggestion
	}
	return " (see approov-gateway help)"
}

const usage = `approov-gateway locks an API to its genuine mobile app by checking Approov tokens.

Usage:
  approov-gateway serve [flags]       run the gateway (reverse proxy and forward-auth endpoint)
  approov-gateway serve --check-config
                                      check the configuration and exit
  approov-gateway demo                run the gateway in front of a built-in hello API, with tokens to try
  approov-gateway token gen|check|decode
                                      make, verify and read tokens
  approov-gateway sign [flags] METHOD URL
                                      sign a request as the app SDK does (message signing)
  approov-gateway install-key gen|ipk
                                      make a device's installation key, for token gen --ipk and sign
  approov-gateway secret gen [--assertion | --forward-auth | --message-signing]
                                      make a new random secret
  approov-gateway bind VALUE...       print the pay claim that binds a token to header values
  approov-gateway version             print the version, revision and Go version of this build
  approov-gateway help [COMMAND | settings]
                                      print the help of a command (also COMMAND -h), or of the settings

Configuration: flags, APPROOV_* environment variables (also from ./.env) and an
optional YAML file (--config or APPROOV_CONFIG); see approov-gateway help settings.
`

const helpUsage = `Usage: approov-gateway help [COMMAND | settings]

Prints the help of a command — serve, demo, token, sign, install-key, secret,
bind, version or help — as COMMAND -h does, or the settings of serve with
their environment variables, flags and defaults. Without a topic, the list
of commands.
`

const demoUsage = `Usage: approov-gateway demo [--listen ADDR] [--admin-listen ADDR]

Runs the gateway in front of a built-in hello API and prints curl commands
with tokens to try: valid, missing, expired, forged, and bound to an
Authorization header. The secret is APPROOV_BASE64_SECRET (or another key
setting, also from ./.env) if set, else a throwaway one, printed. Ctrl-C
stops it.

  --listen ADDR        address for the gateway (default 127.0.0.1:8002)
  --admin-listen ADDR  address for /healthz, /readyz and /metrics
                       (default 127.0.0.1:9002)
`

const bindUsage = `Usage: approov-gateway bind VALUE...

Prints the pay claim that binds a token to these header values: the base64
of the SHA-256 of the values concatenated in order, as the app SDK computes
it, for token gen --bind and token check --bind. Put -- before a value that
starts with a dash.

  approov-gateway bind 'Bearer abc'
`

const versionUsage = `Usage: approov-gateway version   (or approov-gateway --version)

Prints the version of this build, the VCS revision it was built from and
whether the checkout was dirty (had uncommitted changes), the time of that
commit, and the Go version, as Go recorded them in the binary.
`

// serveHelp is the help of serve: the command, then every setting.
func serveHelp() string {
	return `Usage: approov-gateway serve [--config FILE] [--check-config] [--SETTING=VALUE]...

Runs the gateway: a reverse proxy in front of the API that lets through
only requests with a valid Approov token, and a forward-auth endpoint for
nginx, Caddy, Traefik and Envoy. SIGHUP reloads the configuration; SIGTERM
stops it after the requests in flight.

  --config FILE     the YAML configuration file (APPROOV_CONFIG)
  --check-config    load and check everything, keys and routes too; print
                    every problem (exit 2) or "configuration ok: …" (exit 0)
  --SETTING VALUE   any setting below but the secrets; a boolean setting's
                    flag alone means true (--monitor), or takes =true or
                    =false (--monitor=false)

` + settingsHelp()
}

// settingsHelp lists every setting, from the settings table.
func settingsHelp() string {
	var b strings.Builder
	b.WriteString("Settings of approov-gateway serve, by YAML key, environment variable and flag.\nPrecedence: flags > environment > .env > YAML file > defaults.\n\n")
	for _, s := range config.Settings() {
		flag := s.Flag
		if flag == "" {
			flag = "(no flag: a secret)"
		}
		def := ""
		if s.Default != "" {
			def = " (default " + s.Default + ")"
		}
		fmt.Fprintf(&b, "  %s\n      %s, %s\n      %s%s\n", s.Name, s.Env, flag, s.Usage, def)
	}
	b.WriteString("\n  routes, keys\n      YAML only: see docs/CONFIGURATION.md\n")
	b.WriteString("\nFlags of serve: --config FILE, --check-config, and one per setting above.\n")
	return b.String()
}

// help prints the help of a command or of the settings.
func help(args []string, stdio IO) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Stdout, usage)
		return exitOK
	}
	topic := args[0]
	if isHelp(topic) {
		topic = "help"
	}
	if topic == "settings" {
		fmt.Fprint(stdio.Stdout, settingsHelp())
		return exitOK
	}
	if c, ok := commandNamed(topic); ok {
		fmt.Fprint(stdio.Stdout, c.help())
		return exitOK
	}
	fmt.Fprintf(stdio.Stderr, "approov-gateway: no help on %q%s\n", topic, orSeeHelp(didYouMean(topic, "settings")))
	return exitUsage
}

// versionCommand prints what Go recorded of this build.
func versionCommand(args []string, stdio IO) int {
	fs := newCommandFlags("version")
	positional, status, ok := parseCommand(fs, args, stdio, versionUsage, "version")
	if !ok {
		return status
	}
	if len(positional) > 0 {
		return fail(stdio.Stderr, "version", exitUsage, "unexpected argument %q", positional[0])
	}
	fmt.Fprint(stdio.Stdout, version.Current())
	return exitOK
}

// printProblems writes each configuration problem as one line.
func printProblems(w io.Writer, err error) {
	var p config.Problems
	if errors.As(err, &p) {
		for _, line := range p {
			fmt.Fprintf(w, "approov-gateway: %s\n", line)
		}
		return
	}
	fmt.Fprintf(w, "approov-gateway: %v\n", err)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// gcPercent is the gateway's default GOGC. Its live heap is a few MiB and
// nearly all its garbage lives for one request, so the default of 100 runs
// the collector very often; 400 was measured at about 8% more requests per
// second for about 13 MiB more resident memory (docs/BENCHMARKS.md). A GOGC
// in the environment wins.
const gcPercent = 400

func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

func serve(args []string, stdio IO) int {
	src := config.OSSource(args)
	cfg, flags, err := loadServe(src)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdio.Stdout, serveHelp())
		return exitOK
	case err != nil:
		printProblems(stdio.Stderr, err)
		if cfg != nil {
			printWarnings(stdio.Stderr, cfg.Warnings())
		}
		return exitUsage
	}
	if flags.CheckConfig {
		warnings, err := gateway.Check(cfg)
		if err != nil {
			printProblems(stdio.Stderr, located(cfg, err))
			printWarnings(stdio.Stderr, cfg.Warnings())
			return exitUsage
		}
		printWarnings(stdio.Stderr, append(cfg.Warnings(), warnings...))
		fmt.Fprintf(stdio.Stdout, "configuration ok: %s\n", cfg.SummaryAt(cfg.Addresses()))
		return exitOK
	}
	tuneGC()
	log := newLogger(cfg, stdio.Stderr)
	logWarnings(log, cfg.Warnings())
	g, err := gateway.New(cfg, gateway.Options{Logger: log, Load: func() (*config.Config, error) {
		cfg, _, err := loadServe(src)
		if err != nil {
			return nil, err
		}
		logWarnings(log, cfg.Warnings())
		return cfg, nil
	}})
	if err != nil {
		printProblems(stdio.Stderr, located(cfg, err))
		return exitUsage
	}
	if err := g.Listen(); err != nil {
		fmt.Fprintf(stdio.Stderr, "approov-gateway: %v\n", err)
		return exitFailure
	}
	ctx, reload, stop := stdio.signals()
	defer stop()
	if err := g.Serve(ctx, reload); err != nil {
		return exitFailure
	}
	return exitOK
}

// loadServe reads serve's configuration. When its problems are all in the
// configuration — not in the command line's syntax — it runs the gateway's
// own checks too, on the configuration with the bad values set aside, and
// returns both lists as one: one pass shows every problem, keys that do not
// load and route patterns ServeMux refuses beside the settings Load
// refused, rather than one stage at a time.
func loadServe(src config.Source) (*config.Config, *config.Flags, error) {
	cfg, flags, err := config.Load(src)
	var problems config.Problems
	if err == nil || !errors.As(err, &problems) {
		return cfg, flags, err
	}
	if _, err := gateway.Check(cfg.Buildable()); err != nil {
		seen := map[string]bool{}
		for _, p := range problems {
			seen[p] = true
		}
		for _, p := range located(cfg, err) {
			if !seen[p] {
				seen[p] = true
				problems = append(problems, p)
			}
		}
	}
	return cfg, flags, problems
}

// located returns the problems the gateway found in cfg, each at the line
// of the YAML file its value came from, where it did.
func located(cfg *config.Config, err error) config.Problems {
	var p config.Problems
	if !errors.As(err, &p) {
		p = config.Problems{err.Error()}
	}
	out := make(config.Problems, len(p))
	for i, line := range p {
		out[i] = cfg.Locate(line)
	}
	return out
}

// printWarnings writes each warning as one line.
func printWarnings(w io.Writer, warnings []string) {
	for _, line := range warnings {
		fmt.Fprintf(w, "approov-gateway: warning: %s\n", line)
	}
}

// logWarnings logs each warning of the configuration as the gateway logs
// its own.
func logWarnings(log *slog.Logger, warnings []string) {
	for _, w := range warnings {
		log.Warn("configuration", "warning", w)
	}
}

// osSignals turns SIGTERM and SIGINT into the end of ctx and SIGHUP into
// values on reload: the gateway does the rest.
func osSignals() (ctx context.Context, reload <-chan struct{}, stop func()) {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reloads := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reloads <- struct{}{}:
				default: // a reload is already pending
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, reloads, func() {
		signal.Stop(hup)
		close(done)
		cancel()
	}
}
