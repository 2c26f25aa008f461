// Package cli implements the approov-gateway command: serve, demo, token,
// sign, install-key, secret, bind, version and help. cmd/approov-gateway only calls [Main].
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
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

// Main runs the command line args (without the program name) and returns
// the exit status.
func Main(args []string, stdio IO) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(rest, stdio)
	case "demo":
		return demo(rest, stdio)
	case "token":
		return token(rest, stdio)
	case "sign":
		return signRequest(rest, stdio)
	case "install-key":
		return installKey(rest, stdio)
	case "secret":
		return secret(rest, stdio)
	case "bind":
		return bind(rest, stdio)
	case "version", "--version", "-version":
		fmt.Fprintf(stdio.Stdout, "approov-gateway %s\n", version.String())
		return exitOK
	case "help", "-h", "-help", "--help":
		return help(rest, stdio)
	}
	fmt.Fprintf(stdio.Stderr, "approov-gateway: unknown command %q (see approov-gateway help)\n", cmd)
	return exitUsage
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
  approov-gateway version
  approov-gateway help [serve|token|sign|install-key|settings]

Configuration: flags, APPROOV_* environment variables (also from ./.env) and an
optional YAML file (--config or APPROOV_CONFIG); see approov-gateway help settings.
`

func help(args []string, stdio IO) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Stdout, usage)
		return exitOK
	}
	switch args[0] {
	case "serve", "settings":
		fmt.Fprint(stdio.Stdout, "Settings of approov-gateway serve, by YAML key, environment variable and flag.\nPrecedence: flags > environment > .env > YAML file > defaults.\n\n")
		for _, s := range config.Settings() {
			flag := s.Flag
			if flag == "" {
				flag = "(no flag: a secret)"
			}
			def := ""
			if s.Default != "" {
				def = " (default " + s.Default + ")"
			}
			fmt.Fprintf(stdio.Stdout, "  %s\n      %s, %s\n      %s%s\n", s.Name, s.Env, flag, s.Usage, def)
		}
		fmt.Fprint(stdio.Stdout, "\n  routes, keys\n      YAML only: see docs/CONFIGURATION.md\n")
		fmt.Fprint(stdio.Stdout, "\nFlags of serve: --config FILE, --check-config, and one per setting above.\n")
		return exitOK
	case "token":
		fmt.Fprint(stdio.Stdout, tokenUsage)
		return exitOK
	case "sign":
		fmt.Fprint(stdio.Stdout, signUsage)
		return exitOK
	case "install-key":
		fmt.Fprint(stdio.Stdout, installKeyUsage)
		return exitOK
	}
	fmt.Fprintf(stdio.Stderr, "approov-gateway: no help on %q\n", args[0])
	return exitUsage
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
	cfg, flags, err := config.Load(src)
	if err != nil {
		printProblems(stdio.Stderr, err)
		return exitUsage
	}
	if flags.CheckConfig {
		warnings, err := gateway.Check(cfg)
		if err != nil {
			printProblems(stdio.Stderr, err)
			return exitUsage
		}
		for _, w := range warnings {
			fmt.Fprintf(stdio.Stderr, "approov-gateway: warning: %s\n", w)
		}
		fmt.Fprintf(stdio.Stdout, "configuration ok: %s\n", cfg.Summary())
		return exitOK
	}
	tuneGC()
	log := newLogger(cfg, stdio.Stderr)
	for _, name := range config.UnknownEnv(src) {
		log.Warn("unknown APPROOV_ environment variable ignored", "name", name)
	}
	g, err := gateway.New(cfg, gateway.Options{Logger: log, Load: func() (*config.Config, error) {
		cfg, _, err := config.Load(src)
		return cfg, err
	}})
	if err != nil {
		printProblems(stdio.Stderr, err)
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
