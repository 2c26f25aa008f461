package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/gateway"
	"github.com/approov-gateway/approov/msgsig"
)

const tokenUsage = `Usage:
  approov-gateway token gen [flags]            sign a token; prints the token alone
  approov-gateway token check [flags] [TOKEN]  verify a token (or one read from stdin)
  approov-gateway token decode [TOKEN]         show a token's header and claims, unverified

The secret comes from --secret (base64 or base64url), --secret-file, or the
environment as for serve: APPROOV_BASE64_SECRET, APPROOV_BASE64URL_SECRET,
APPROOV_SECRET_FILE (also from ./.env).

token gen flags:
  --exp DURATION|TIME   expiry: a duration from now (5m, -1h for an expired token)
                        or a NumericDate (1700000000.5); default 1h
  --bind VALUE          bind the token to a header value (repeatable: values are
                        concatenated in order, as the app SDK does)
  --did ID, --ip ADDR, --kid ID
  --claim NAME=VALUE    any other claim (repeatable); VALUE is JSON if it parses,
                        a string otherwise
  --alg HS256|RS256|ES256, --key FILE   asymmetric signing with a PEM private key
  --ipk KEY.pem         the ipk claim: the public key of this installation key
                        (alias --install-key; make one with install-key gen), so
                        that requests must carry install signatures (see sign)
  --mskid ID            the mskid claim: the id of the account message signing
                        key, so that requests must carry account signatures

token check flags:
  --bind VALUE          check binding to this value (repeatable, concatenated)
  --header 'NAME: VALUE'
                        check binding to these request headers (repeatable, in order)
  --public-key FILE     verify RS256/ES256 with a PEM public key instead of a secret
  --config FILE         the YAML configuration whose keys serve uses (default:
                        APPROOV_CONFIG); without --secret, --secret-file or
                        --public-key, check reads every key serve would, from
                        the file, the environment and ./.env
  --leeway DURATION     clock skew allowed
  --json                machine-readable output
  --explain             after the verdict, print the signature base of each
                        label of a request's message signatures (token and
                        credentials hidden), its SHA-256, whether the
                        request's Signature-Base-Digest matches it, and
                        whether the signatures the token calls for verify.
                        The request: --url (absolute, as the app requested
                        it), --method (default GET), --header (its fields,
                        Signature-Input and Signature too; with --explain,
                        not bound headers: check binding with --bind),
                        --data or --data-file, --token-header; the token may
                        come in its header. Account signatures verify with
                        --account-key, --account-key-file or the environment,
                        as in sign.
Exit status of check: 0 valid, 1 invalid (the token, or with --explain its
signatures or body), 2 usage or configuration error.
`

func token(args []string, stdio IO) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Stderr, tokenUsage)
		return exitUsage
	}
	switch args[0] {
	case "gen":
		return tokenGen(args[1:], stdio)
	case "check":
		return tokenCheck(args[1:], stdio)
	case "decode":
		return tokenDecode(args[1:], stdio)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdio.Stdout, tokenUsage)
		return exitOK
	}
	fmt.Fprintf(stdio.Stderr, "approov-gateway token: unknown command %q (want gen, check or decode)\n", args[0])
	return exitUsage
}

// secretFrom resolves the HMAC secret: the flag, the file flag, then the
// environment (.env included) as serve reads it. It returns nil without
// error when none is set.
func secretFrom(flagValue, fileFlag string) ([]byte, string, error) {
	decode := func(s, from string) ([]byte, string, error) {
		b, err := approov.DecodeSecret(s)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %s", from, config.ErrorText(err))
		}
		return b, from, nil
	}
	readFile := func(path, from string) ([]byte, string, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("%s %s: %s", from, path, config.ErrorText(err))
		}
		return decode(string(data), from+" "+path)
	}
	switch {
	case flagValue != "":
		return decode(flagValue, "--secret")
	case fileFlag != "":
		return readFile(fileFlag, "--secret-file")
	}
	src := config.OSSource(nil)
	for _, name := range []string{"APPROOV_BASE64_SECRET", "APPROOV_BASE64URL_SECRET", "APPROOV_SECRET_FILE"} {
		v, ok, err := src.Lookup(name)
		if err != nil {
			return nil, "", err
		}
		if !ok || v == "" {
			continue
		}
		if name == "APPROOV_SECRET_FILE" {
			return readFile(v, name)
		}
		return decode(v, name)
	}
	return nil, "", nil
}

// parseExp reads --exp: a duration from now, or a NumericDate.
func parseExp(v string, now time.Time) (any, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(d), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("--exp %q: want a duration such as 5m or -1h, or a NumericDate such as 1700000000.5", v)
	}
	return json.Number(v), nil
}

func tokenGen(args []string, stdio IO) int {
	fs := newCommandFlags("token gen")
	secretFlag := fs.String("secret", "", "")
	secretFile := fs.String("secret-file", "", "")
	exp := fs.String("exp", "1h", "")
	did := fs.String("did", "", "")
	ip := fs.String("ip", "", "")
	kid := fs.String("kid", "", "")
	alg := fs.String("alg", approov.HS256, "")
	keyFile := fs.String("key", "", "")
	ipkFile := fs.String("ipk", "", "")
	fs.StringVar(ipkFile, "install-key", "", "")
	mskid := fs.String("mskid", "", "")
	var binds, claims listFlag
	fs.Var(&binds, "bind", "")
	fs.Var(&claims, "claim", "")
	positional, status, ok := parseCommand(fs, args, stdio, tokenUsage, "token")
	if !ok {
		return status
	}
	if len(positional) > 0 {
		return fail(stdio.Stderr, "token gen", exitUsage, "unexpected argument %q", positional[0])
	}

	now := time.Now()
	expValue, err := parseExp(*exp, now)
	if err != nil {
		return fail(stdio.Stderr, "token gen", exitUsage, "%v", err)
	}
	payload := map[string]any{"exp": expValue}
	for _, c := range claims {
		name, value, ok := strings.Cut(c, "=")
		if !ok || name == "" {
			return fail(stdio.Stderr, "token gen", exitUsage, "--claim %q: want NAME=VALUE", c)
		}
		var v any = value
		if json.Valid([]byte(value)) {
			v = json.RawMessage(value)
		}
		payload[name] = v
	}
	if *ipkFile != "" {
		key, err := loadInstallKey(*ipkFile)
		if err != nil {
			return fail(stdio.Stderr, "token gen", exitUsage, "--ipk %v", err)
		}
		// Cannot fail: loadInstallKey returns only P-256 keys.
		payload["ipk"], _ = msgsig.InstallationPublicKey(&key.PublicKey)
	}
	for flagName, value := range map[string]string{"did": *did, "ip": *ip, "mskid": *mskid} {
		if value != "" {
			payload[flagName] = value
		}
	}
	if len(binds) > 0 {
		payload["pay"] = approov.PayloadHash(strings.Join(binds, ""))
	}

	var signer *approovtest.Signer
	switch *alg {
	case approov.HS256:
		if *keyFile != "" {
			return fail(stdio.Stderr, "token gen", exitUsage, "--key is for RS256 and ES256; HS256 uses the secret")
		}
		secret, _, err := secretFrom(*secretFlag, *secretFile)
		if err != nil {
			return fail(stdio.Stderr, "token gen", exitUsage, "%v", err)
		}
		if secret == nil {
			return fail(stdio.Stderr, "token gen", exitUsage, "no secret: use --secret, --secret-file or APPROOV_BASE64_SECRET (make one with approov-gateway secret gen)")
		}
		signer, err = approovtest.NewSigner(*alg, secret, *kid)
		if err != nil {
			return fail(stdio.Stderr, "token gen", exitUsage, "%v", config.ErrorText(err))
		}
	case approov.RS256, approov.ES256:
		if *keyFile == "" {
			return fail(stdio.Stderr, "token gen", exitUsage, "--alg %s needs --key FILE, a PEM private key", *alg)
		}
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return fail(stdio.Stderr, "token gen", exitUsage, "--key: %v", err)
		}
		key, err := approovtest.ParsePrivateKey(data)
		if err != nil {
			return fail(stdio.Stderr, "token gen", exitUsage, "--key %s: %s", *keyFile, config.ErrorText(err))
		}
		signer, err = approovtest.NewSigner(*alg, key, *kid)
		if err != nil {
			return fail(stdio.Stderr, "token gen", exitUsage, "--key %s: %s", *keyFile, config.ErrorText(err))
		}
	default:
		return fail(stdio.Stderr, "token gen", exitUsage, "--alg %q: want HS256, RS256 or ES256", *alg)
	}
	tok, err := signer.Sign(payload)
	if err != nil {
		return fail(stdio.Stderr, "token gen", exitUsage, "%v", config.ErrorText(err))
	}
	fmt.Fprintln(stdio.Stdout, tok)
	return exitOK
}

// readTokenArg takes the token from the one positional argument, or from
// stdin.
func readTokenArg(args []string, stdin io.Reader) (string, error) {
	switch len(args) {
	case 0:
		line, err := bufio.NewReader(io.LimitReader(stdin, 1<<20)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", err
		}
		tok := strings.TrimSpace(line)
		if tok == "" {
			return "", errors.New("no token: give it as an argument or on stdin")
		}
		return tok, nil
	case 1:
		return strings.TrimSpace(args[0]), nil
	}
	return "", fmt.Errorf("want one token, got %d arguments", len(args))
}

// decoded is a token's header and claims, decoded without verification.
type decoded struct {
	Header json.RawMessage `json:"header"`
	Claims json.RawMessage `json:"claims"`
}

func decodeToken(tok string) (*decoded, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: want three dot-separated parts, got %d", len(parts))
	}
	seg := func(i int, name string) (json.RawMessage, error) {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil {
			return nil, fmt.Errorf("%s is not base64url", name)
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("%s is not JSON", name)
		}
		return json.RawMessage(b), nil
	}
	h, err := seg(0, "header")
	if err != nil {
		return nil, err
	}
	c, err := seg(1, "claims")
	if err != nil {
		return nil, err
	}
	return &decoded{Header: h, Claims: c}, nil
}

// timeLines describes the token's times in human terms.
func timeLines(claims json.RawMessage, now time.Time) []string {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(claims))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return nil
	}
	var out []string
	for _, name := range []string{"exp", "nbf", "iat"} {
		n, ok := m[name].(json.Number)
		if !ok {
			continue
		}
		f, err := n.Float64()
		if err != nil || math.Abs(f) > 253402300799 {
			continue
		}
		sec := math.Floor(f)
		t := time.Unix(int64(sec), int64((f-sec)*1e9))
		d := t.Sub(now).Round(time.Second)
		rel := "in " + humanDuration(d)
		if d < 0 {
			rel = humanDuration(-d) + " ago"
		}
		label := map[string]string{"exp": "expires", "nbf": "valid from", "iat": "issued"}[name]
		if name == "exp" && d <= 0 {
			label = "expired"
		}
		out = append(out, fmt.Sprintf("%s: %s %s (%s)", name, label, t.UTC().Format(time.RFC3339), rel))
	}
	return out
}

// humanDuration writes short durations as Go does (4m59s) and long ones in
// days.
func humanDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int64(d/(24*time.Hour)))
	}
	return d.String()
}

func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "  ", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func tokenDecode(args []string, stdio IO) int {
	fs := newCommandFlags("token decode")
	asJSON := fs.Bool("json", false, "")
	positional, status, ok := parseCommand(fs, args, stdio, tokenUsage, "token")
	if !ok {
		return status
	}
	tok, err := readTokenArg(positional, stdio.Stdin)
	if err != nil {
		return fail(stdio.Stderr, "token decode", exitUsage, "%v", err)
	}
	d, err := decodeToken(tok)
	if err != nil {
		return fail(stdio.Stderr, "token decode", exitFailure, "%v", err)
	}
	if *asJSON {
		out, _ := json.Marshal(struct {
			Verified bool `json:"verified"`
			*decoded
		}{false, d})
		fmt.Fprintln(stdio.Stdout, string(out))
		return exitOK
	}
	fmt.Fprintln(stdio.Stdout, "UNVERIFIED: decoded without checking the signature; do not trust these values.")
	fmt.Fprintf(stdio.Stdout, "header:\n  %s\nclaims:\n  %s\n", indentJSON(d.Header), indentJSON(d.Claims))
	for _, l := range timeLines(d.Claims, time.Now()) {
		fmt.Fprintln(stdio.Stdout, l)
	}
	return exitOK
}

func tokenCheck(args []string, stdio IO) int {
	fs := newCommandFlags("token check")
	secretFlag := fs.String("secret", "", "")
	secretFile := fs.String("secret-file", "", "")
	publicKey := fs.String("public-key", "", "")
	kid := fs.String("kid", "", "")
	configFile := fs.String("config", "", "")
	leeway := fs.Duration("leeway", 0, "")
	asJSON := fs.Bool("json", false, "")
	var binds, headers listFlag
	fs.Var(&binds, "bind", "")
	fs.Var(&headers, "header", "")
	var explainFlags explainFlags
	explainFlags.register(fs)
	positional, status, ok := parseCommand(fs, args, stdio, tokenUsage, "token")
	if !ok {
		return status
	}
	explaining, err := explainFlags.prepare(headers)
	if err != nil {
		return fail(stdio.Stderr, "token check", exitUsage, "%v", err)
	}
	if explaining != nil {
		headers = nil // the request's fields, not bound headers
	}
	tok, err := explaining.tokenArg(positional, stdio.Stdin)
	if err != nil {
		return fail(stdio.Stderr, "token check", exitUsage, "%v", err)
	}
	if len(binds) > 0 && len(headers) > 0 {
		return fail(stdio.Stderr, "token check", exitUsage, "use --bind or --header, not both")
	}

	var keys []*approov.Key
	var checks, setOpts []approov.Option
	switch {
	case *publicKey != "":
		data, err := os.ReadFile(*publicKey)
		if err != nil {
			return fail(stdio.Stderr, "token check", exitUsage, "--public-key: %v", err)
		}
		key, err := approov.ParsePublicKey(*kid, data)
		if err != nil {
			return fail(stdio.Stderr, "token check", exitUsage, "--public-key %s: %s", *publicKey, config.ErrorText(err))
		}
		keys = append(keys, key)
	case *secretFlag != "" || *secretFile != "":
		secret, _, err := secretFrom(*secretFlag, *secretFile)
		if err != nil {
			return fail(stdio.Stderr, "token check", exitUsage, "%v", err)
		}
		key, err := approov.NewSecretKey(*kid, secret)
		if err != nil {
			return fail(stdio.Stderr, "token check", exitUsage, "%s", config.ErrorText(err))
		}
		keys = append(keys, key)
	default:
		// Every key serve would verify with, read the way serve reads it.
		cfg, err := config.LoadKeySettings(config.OSSource(nil), *configFile)
		if err != nil {
			printProblems(stdio.Stderr, err)
			return exitUsage
		}
		if keys, _, err = config.LoadKeys(cfg); err != nil {
			printProblems(stdio.Stderr, err)
			return exitUsage
		}
		// The JWK set too, fetched once: a check that cannot read a key
		// source serve reads would not answer as serve does.
		if set, status := loadJWKS(stdio, cfg); status != 0 {
			return status
		} else if set != nil {
			setOpts = append(setOpts, approov.WithKeySet(set))
		}
		// And the claim checks serve applies with them.
		checks = []approov.Option{approov.WithIssuer(cfg.Issuer), approov.WithAudience(cfg.Audience),
			approov.WithMaxLifetime(cfg.MaxTokenLifetime), approov.WithLeeway(max(cfg.Leeway, *leeway))}
	}

	opts := append(append([]approov.Option{approov.WithKeys(keys...), approov.WithLeeway(*leeway)}, setOpts...), checks...)
	h := http.Header{}
	if len(binds) > 0 || len(headers) > 0 {
		var names []string
		if len(binds) > 0 {
			// The values as given, concatenated: one synthetic header
			// whose raw value is hashed as a bound header's is.
			names = []string{"Bound-Value"}
			h.Set("Bound-Value", strings.Join(binds, ""))
		}
		for _, hv := range headers {
			name, value, ok := strings.Cut(hv, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return fail(stdio.Stderr, "token check", exitUsage, "--header %q: want 'Name: value'", hv)
			}
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			names = append(names, name)
			h.Add(name, strings.TrimSpace(value))
		}
		b, err := approov.NewBinding(names)
		if err != nil {
			return fail(stdio.Stderr, "token check", exitUsage, "%s", config.ErrorText(err))
		}
		opts = append(opts, approov.WithBinding(b))
	}
	v, err := approov.NewVerifier(opts...)
	if err != nil {
		return fail(stdio.Stderr, "token check", exitUsage, "%s", config.ErrorText(err))
	}
	h.Set(approov.DefaultTokenHeader, tok)
	claims, verr := v.VerifyRequest(h)
	var signatures *signatureReport
	if explaining != nil {
		signatures = explaining.report(tok, &claims, verr)
	}

	d, decErr := decodeToken(tok)
	reason, detail := approov.Reason(verr), ""
	var e *approov.Error
	if errors.As(verr, &e) {
		detail = e.Detail()
	}
	if *asJSON {
		out := map[string]any{"valid": verr == nil, "reason": reason}
		if detail != "" {
			out["detail"] = detail
		}
		if d != nil {
			out["header"], out["claims"] = d.Header, d.Claims
		}
		if signatures != nil {
			out["message_signatures"] = signatures
		}
		b, _ := json.Marshal(out)
		fmt.Fprintln(stdio.Stdout, string(b))
	} else {
		label := "verified"
		if verr != nil {
			label = "UNVERIFIED"
		}
		if decErr == nil {
			fmt.Fprintf(stdio.Stdout, "header (%s):\n  %s\nclaims (%s):\n  %s\n", label, indentJSON(d.Header), label, indentJSON(d.Claims))
			for _, l := range timeLines(d.Claims, time.Now()) {
				fmt.Fprintln(stdio.Stdout, l)
			}
		}
		if verr == nil {
			fmt.Fprintln(stdio.Stdout, "verdict: valid (ok)")
		} else {
			fmt.Fprintf(stdio.Stdout, "verdict: invalid (%s: %s)\n", reason, detail)
		}
		if signatures != nil {
			signatures.print(stdio.Stdout)
		}
	}
	if verr != nil || signatures != nil && signatures.failed() {
		return exitFailure
	}
	return exitOK
}

// loadJWKS fetches the JWK set cfg names, if any, once, and returns its
// key set; skipped keys are printed as warnings. It returns a non-zero
// status, having said why, when the set cannot be fetched.
func loadJWKS(stdio IO, cfg *config.Config) (*approov.KeySet, int) {
	src, err := gateway.NewJWKSSource(cfg, nil)
	if err != nil {
		return nil, fail(stdio.Stderr, "token check", exitUsage, "jwks_url: %v", err)
	}
	if src == nil {
		return nil, 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.JWKSTimeout)
	defer cancel()
	if err := src.Refresh(ctx); err != nil {
		return nil, fail(stdio.Stderr, "token check", exitUsage, "jwks_url: %v", err)
	}
	for _, k := range src.Status().Skipped {
		fmt.Fprintf(stdio.Stderr, "approov-gateway token check: warning: jwks %s\n", k)
	}
	return src.Set(), 0
}
