package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/assertion"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/gateway"
)

// helloAPI is the demo's built-in backend, in the spirit of the Approov
// quickstarts: GET / answers {"message": "Hello, World!"}; /device shows the
// device id the gateway vouched for; anything else is 404 {}. It trusts
// only the gateway's signed assertions, as a backend behind the gateway
// should (approovhttp.BehindGateway).
func helloAPI(facts *assertion.Verifier) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]string{"message": "Hello, World!"})
	})
	mux.HandleFunc("GET /bound", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]string{"message": "Hello, World! Your token is bound to your Authorization header."})
	})
	mux.HandleFunc("GET /device", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := approovhttp.ClaimsFromContext(r.Context())
		reply(w, map[string]string{"device_id": claims.DeviceID, "token_expiry": claims.Expiry.UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "{}\n")
	})
	return approovhttp.BehindGateway(facts)(mux)
}

func demo(args []string, stdio IO) int {
	fs := newCommandFlags("demo")
	listen := fs.String("listen", "127.0.0.1:8002", "")
	adminListen := fs.String("admin-listen", "127.0.0.1:9002", "")
	positional, status, ok := parseCommand(fs, args, stdio, demoUsage, "demo")
	if !ok {
		return status
	}
	if len(positional) > 0 {
		return fail(stdio.Stderr, "demo", exitUsage, "unexpected argument %q (see approov-gateway help demo)", positional[0])
	}

	// A secret from the environment is used, and never printed; without
	// one, the demo makes a throwaway secret.
	secret, from, err := secretFrom("", "")
	if err != nil {
		return fail(stdio.Stderr, "demo", exitUsage, "%v", err)
	}
	printSecret := secret == nil
	if secret == nil {
		secret, from = approovtest.NewSecret(), "freshly generated"
	}

	backendLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(stdio.Stderr, "demo", exitFailure, "%v", err)
	}
	// The gateway signs what it forwards with a throwaway assertion key;
	// the hello API verifies it.
	assertionSecret := base64.StdEncoding.EncodeToString(approovtest.NewSecret())
	keys, err := assertion.ParseKeys(assertionSecret)
	if err != nil {
		return fail(stdio.Stderr, "demo", exitFailure, "%v", err)
	}
	facts, err := assertion.NewVerifier(keys)
	if err != nil {
		return fail(stdio.Stderr, "demo", exitFailure, "%v", err)
	}
	backend := &http.Server{Handler: helloAPI(facts), ReadHeaderTimeout: 10 * time.Second}
	go backend.Serve(backendLn)
	defer backend.Close()

	cfg := config.Defaults()
	cfg.Base64Secret = base64.StdEncoding.EncodeToString(secret)
	cfg.AssertionSecret = assertionSecret
	cfg.Listen, cfg.AdminListen = *listen, *adminListen
	cfg.Upstream = "http://" + backendLn.Addr().String()
	cfg.LogFormat = "text"
	cfg.Routes = []config.Route{{Name: "bound", Match: "/bound", Mode: config.ModeBinding, BindingHeaders: []string{"Authorization"}}}
	if err := cfg.Validate(); err != nil {
		printProblems(stdio.Stderr, err)
		return exitUsage
	}
	tuneGC()
	g, err := gateway.New(cfg, gateway.Options{Logger: newLogger(cfg, stdio.Stderr)})
	if err != nil {
		printProblems(stdio.Stderr, err)
		return exitFailure
	}
	if err := g.Listen(); err != nil {
		return fail(stdio.Stderr, "demo", exitFailure, "%v (choose another with --listen or --admin-listen)", err)
	}
	addrs := g.Addrs()
	if err := printDemo(stdio.Stdout, secret, from, printSecret, "http://"+addrs.Listen, addrs.Admin); err != nil {
		return fail(stdio.Stderr, "demo", exitFailure, "%v", err)
	}
	ctx, _, stop := stdio.signals()
	defer stop()
	if err := g.Serve(ctx, nil); err != nil {
		return fail(stdio.Stderr, "demo", exitFailure, "%v", err)
	}
	return exitOK
}

// demoCase is one request the demo suggests, and the status it gets.
type demoCase struct {
	title   string
	status  int
	path    string
	headers []string
}

// printDemo prints the demo's instructions for the gateway at base, and
// its admin endpoints at adminAddr unless that is "" (off).
func printDemo(w io.Writer, secret []byte, from string, showSecret bool, base, adminAddr string) error {
	good := approovtest.MustSigner(approov.HS256, secret, "")
	bad := approovtest.MustSigner(approov.HS256, approovtest.NewSecret(), "")
	now := time.Now().Truncate(time.Second)
	sign := func(s *approovtest.Signer, claims map[string]any) string {
		tok, err := s.Sign(claims)
		if err != nil {
			panic(err) // static claims always encode
		}
		return tok
	}
	const auth = "Bearer demo-user-session"
	valid := sign(good, map[string]any{"exp": now.Add(time.Hour), "did": "demo-device-1"})
	bound := sign(good, map[string]any{"exp": now.Add(time.Hour), "did": "demo-device-1", "pay": approov.PayloadHash(auth)})
	expired := sign(good, map[string]any{"exp": now.Add(-time.Minute), "did": "demo-device-1"})
	forged := sign(bad, map[string]any{"exp": now.Add(time.Hour), "did": "demo-device-1"})

	cases := []demoCase{
		{"A valid token", 200, "/", []string{"Approov-Token: " + valid}},
		{"No token", 401, "/", nil},
		{"An expired token", 401, "/", []string{"Approov-Token: " + expired}},
		{"A token signed with another secret, as failed attestations get", 401, "/", []string{"Approov-Token: " + forged}},
		{"The facts the gateway forwards to the API", 200, "/device", []string{"Approov-Token: " + valid}},
		{"A token bound to its Authorization header", 200, "/bound", []string{"Approov-Token: " + bound, "Authorization: " + auth}},
		{"The same token with someone else's Authorization header", 401, "/bound", []string{"Approov-Token: " + bound, "Authorization: Bearer someone-else"}},
		{"A token without binding where binding is required", 401, "/bound", []string{"Approov-Token: " + valid, "Authorization: " + auth}},
	}

	var b strings.Builder
	fmt.Fprintf(&b, "approov-gateway demo: the gateway listens on %s, in front of a built-in hello API.\n", base)
	if showSecret {
		enc := base64.StdEncoding.EncodeToString(secret)
		fmt.Fprintf(&b, "Secret (%s, base64): %s\n", from, enc)
		fmt.Fprintf(&b, "Make more tokens with: APPROOV_BASE64_SECRET=%s approov-gateway token gen --did my-device\n", enc)
	} else {
		fmt.Fprintf(&b, "Secret: from %s.\n", from)
	}
	fmt.Fprintf(&b, "\nTry these; the tokens are valid for an hour. Route / needs a token, /bound a bound one.\n")
	for i, c := range cases {
		fmt.Fprintf(&b, "\n# %d. %s: expect %d\ncurl -i", i+1, c.title, c.status)
		for _, h := range c.headers {
			fmt.Fprintf(&b, " -H '%s'", h)
		}
		fmt.Fprintf(&b, " %s%s\n", base, c.path)
	}
	if adminAddr != "" {
		fmt.Fprintf(&b, "\nHealth and metrics: curl http://%s/readyz ; curl http://%s/metrics\n", adminAddr, adminAddr)
	}
	b.WriteString("Press Ctrl-C to stop.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
