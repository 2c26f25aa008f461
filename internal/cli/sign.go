package cli

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/approov-gateway/approov/msgsig"
)

const signUsage = `Usage:
  approov-gateway sign [flags] METHOD URL

Signs a request as the Approov SDK does (RFC 9421 message signatures), so
that signing can be tested without a device. Prints the fields to add to
the request, Content-Digest (with a body), Signature-Input and Signature,
or with --curl a curl command that sends it. URL is the absolute URL the
app requests: its scheme, host, port, path and query make the target URI
signed. Errors exit with status 2.

  approov-gateway install-key gen > device.pem
  approov-gateway sign --install-key device.pem --curl \
    --header "Approov-Token: $(approov-gateway token gen --ipk device.pem)" \
    POST http://127.0.0.1:8002/api/orders --data '{"n": 1}'

Keys, one or both:
  --install-key FILE.pem  sign as the installation (label install, ECDSA P-256): the
                          token's ipk must be its public key (token gen --ipk FILE.pem)
  --account-key BASE64, --account-key-file FILE
                          sign with the account message signing key (label account,
                          HMAC-SHA256). Without them the key comes from
                          APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL or _BASE64
                          (also from ./.env), as serve reads it, when there is no
                          --install-key or the token has an mskid claim

The request:
  --header 'NAME: VALUE'  a header field (repeatable), the token's included:
                          --header "Approov-Token: $(approov-gateway token gen ...)"
  --data STRING, --data-file FILE
                          the body; unless empty, its Content-Digest (sha-256) is
                          added and covered, as the SDK does
  --token-header NAME     the header the token is in (default: APPROOV_TOKEN_HEADER,
                          else Approov-Token)

The signature:
  --components LIST       the covered components, comma-separated (default, as the
                          SDK: @method, @target-uri, the token header, then those of
                          authorization, content-length, content-type and
                          content-digest the request has)
  --form bytes|string     the Signature member as a byte sequence, sig=:base64:
                          (RFC 9421; SDK 3.4.1 to 3.5.1), or a string, sig="base64"
                          (later SDKs); default bytes
  --created UNIX          the created parameter (default: now)
  --expires DURATION      expires is created + DURATION (default 15s, as the SDK;
                          0 leaves it out)

Output:
  --curl                  print a curl command line that sends the signed request
`

// forms maps --form to a msgsig.Form.
var forms = map[string]msgsig.Form{"bytes": msgsig.FormByteSequence, "string": msgsig.FormString}

// signRequest runs the sign command.
func signRequest(args []string, stdio IO) int {
	const cmd = "sign"
	fs := newCommandFlags(cmd)
	installKeyFile := fs.String("install-key", "", "")
	accountKey := fs.String("account-key", "", "")
	accountKeyFile := fs.String("account-key-file", "", "")
	var fields listFlag
	fs.Var(&fields, "header", "")
	var body bodyFlags
	body.register(fs)
	tokenHeaderFlag := fs.String("token-header", "", "")
	componentsFlag := fs.String("components", "", "")
	formFlag := fs.String("form", "bytes", "")
	created := fs.String("created", "", "")
	expires := fs.Duration("expires", msgsig.DefaultLifetime, "")
	asCurl := fs.Bool("curl", false, "")
	positional, status, ok := parseCommand(fs, args, stdio, signUsage, cmd)
	if !ok {
		return status
	}
	if len(positional) != 2 {
		return fail(stdio.Stderr, cmd, exitUsage, "want METHOD URL, got %d arguments (see approov-gateway help sign)", len(positional))
	}

	tokenHeader, err := tokenHeaderFrom(*tokenHeaderFlag)
	if err != nil {
		return fail(stdio.Stderr, cmd, exitUsage, "%v", err)
	}
	r, err := newRequest(positional[0], positional[1], fields, &body, tokenHeader)
	if err != nil {
		return fail(stdio.Stderr, cmd, exitUsage, "%v", err)
	}
	if err := checkContentLength(r); err != nil {
		return fail(stdio.Stderr, cmd, exitUsage, "%v", err)
	}
	claims := unverifiedClaims(r.token())
	form, ok := forms[*formFlag]
	if !ok {
		return fail(stdio.Stderr, cmd, exitUsage, "--form %q: want bytes or string", *formFlag)
	}
	opts := []msgsig.SignerOption{msgsig.WithForm(form), msgsig.WithTokenHeader(tokenHeader)}
	if *expires < 0 || *expires%time.Second != 0 {
		return fail(stdio.Stderr, cmd, exitUsage, "--expires %v: want a whole number of seconds, 0 or more", *expires)
	}
	opts = append(opts, msgsig.WithLifetime(*expires))
	if *created != "" {
		sec, err := strconv.ParseInt(*created, 10, 64)
		if err != nil {
			return fail(stdio.Stderr, cmd, exitUsage, "--created %q: want a Unix time in seconds, such as 1744292750", *created)
		}
		opts = append(opts, msgsig.WithClock(func() time.Time { return time.Unix(sec, 0) }))
	}

	var signers []*msgsig.Signer
	var install *ecdsa.PrivateKey
	if *installKeyFile != "" {
		if install, err = loadInstallKey(*installKeyFile); err != nil {
			return fail(stdio.Stderr, cmd, exitUsage, "--install-key %v", err)
		}
		s, err := msgsig.NewInstallSigner(install, opts...)
		if err != nil {
			return fail(stdio.Stderr, cmd, exitUsage, "%s", msgsigText(err))
		}
		signers = append(signers, s)
	}
	_, hasMSKID := claims["mskid"]
	secret, from, err := accountKeyFrom(*accountKey, *accountKeyFile, install == nil || hasMSKID)
	if err != nil {
		return fail(stdio.Stderr, cmd, exitUsage, "%v", err)
	}
	if secret != nil {
		s, err := msgsig.NewAccountSigner(secret, opts...)
		if err != nil {
			return fail(stdio.Stderr, cmd, exitUsage, "%s: %s", from, msgsigText(err))
		}
		signers = append(signers, s)
	}
	if len(signers) == 0 {
		return fail(stdio.Stderr, cmd, exitUsage, "no key: use --install-key FILE.pem, --account-key BASE64, --account-key-file FILE or %s", accountKeyEnv[0])
	}

	var components []string
	if *componentsFlag != "" {
		components = strings.FieldsFunc(*componentsFlag, func(c rune) bool { return c == ',' || c == ' ' })
	} else if r.token() == "" {
		return fail(stdio.Stderr, cmd, exitUsage, "no %s header, which the signature covers: add --header \"%s: $(approov-gateway token gen ...)\"", tokenHeader, tokenHeader)
	}
	digest := ""
	if len(r.body) > 0 && r.header.Get("Content-Digest") == "" {
		// As the SDK does for a body of known length above 0.
		digest = msgsig.ContentDigest(r.body)
		r.header.Set("Content-Digest", digest)
	}
	var inputs, values []string
	for _, s := range signers {
		sig, err := s.Sign(r.msgsig(), components)
		if err != nil {
			return fail(stdio.Stderr, cmd, exitUsage, "%s", msgsigText(err))
		}
		inputs, values = append(inputs, sig.Input), append(values, sig.Value)
	}
	for _, w := range signWarnings(claims, install, secret != nil) {
		fmt.Fprintf(stdio.Stderr, "approov-gateway sign: warning: %s\n", w)
	}

	// The labels of one field are members of one dictionary: one line each.
	added := [][2]string{{"Signature-Input", strings.Join(inputs, ", ")}, {"Signature", strings.Join(values, ", ")}}
	if digest != "" {
		added = append([][2]string{{"Content-Digest", digest}}, added...)
	}
	if *asCurl {
		fmt.Fprintln(stdio.Stdout, curlCommand(r, added))
		return exitOK
	}
	for _, f := range added {
		fmt.Fprintf(stdio.Stdout, "%s: %s\n", f[0], f[1])
	}
	return exitOK
}

// checkContentLength refuses a Content-Length that is not the body's: the
// request could not be sent as signed.
func checkContentLength(r *request) error {
	v, ok := r.header["Content-Length"]
	if !ok {
		return nil
	}
	if len(v) != 1 || v[0] != strconv.Itoa(len(r.body)) {
		return fmt.Errorf("--header Content-Length: the body is %d bytes", len(r.body))
	}
	return nil
}

// unverifiedClaims decodes the claims of tok without verifying it, to see
// which signatures it calls for; nil when it is not a token.
func unverifiedClaims(tok string) map[string]any {
	d, err := decodeToken(tok)
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(d.Claims, &claims) != nil {
		return nil
	}
	return claims
}

// signWarnings says which signatures the token calls for that sign does
// not make, or makes with another key: the gateway would refuse those
// requests, which a test may well mean, so they are warnings.
func signWarnings(claims map[string]any, install *ecdsa.PrivateKey, account bool) []string {
	var out []string
	if ipk, ok := claims["ipk"].(string); ok {
		switch {
		case install == nil:
			out = append(out, "the token has an ipk claim, so the gateway needs an install signature too: add --install-key")
		case !sameIPK(ipk, install):
			out = append(out, "the token's ipk is not the public key of --install-key: the install signature will not verify (make the token with token gen --ipk)")
		}
	}
	if _, ok := claims["mskid"]; ok && !account {
		out = append(out, "the token has an mskid claim, so the gateway needs an account signature too: add --account-key")
	}
	return out
}

// sameIPK reports whether the ipk claim is key's public key, whatever its
// base64 padding.
func sameIPK(ipk string, key *ecdsa.PrivateKey) bool {
	want, err := msgsig.InstallationPublicKey(&key.PublicKey)
	return err == nil && strings.TrimRight(ipk, "=") == strings.TrimRight(want, "=")
}

// curlCommand returns a curl command line that sends r with the added
// fields, for a POSIX shell: every argument that needs it single-quoted,
// the URL last. --path-as-is and --globoff keep curl from rewriting the
// path or reading [ ] and { } in the URL, which would change what the
// signature covers.
func curlCommand(r *request, added [][2]string) string {
	args := [][]string{{"curl", "-i", "--globoff", "--path-as-is"}}
	switch {
	case r.method == "HEAD" && !r.hasBody:
		// -X HEAD would leave curl waiting for a body.
		args[0] = append(args[0], "--head")
	case r.method != "GET" || r.hasBody:
		args[0] = append(args[0], "-X", r.method)
	}
	for _, f := range append(r.fields, added...) {
		h := f[0] + ": " + f[1]
		if f[1] == "" {
			// curl removes a header given as "Name:"; "Name;" sends it empty.
			h = f[0] + ";"
		}
		args = append(args, []string{"-H", h})
	}
	switch {
	case r.bodyFile != "":
		args = append(args, []string{"--data-binary", "@" + r.bodyFile})
	case r.hasBody && bytes.HasPrefix(r.body, []byte("@")):
		// --data-binary would read a file named by the rest; --data-raw
		// sends the text as it is, as --data-binary sends other text.
		args = append(args, []string{"--data-raw", string(r.body)})
	case r.hasBody:
		args = append(args, []string{"--data-binary", string(r.body)})
	}
	args = append(args, []string{r.targetURI})
	lines := make([]string, len(args))
	for i, words := range args {
		quoted := make([]string, len(words))
		for j, w := range words {
			quoted[j] = shellQuote(w)
		}
		lines[i] = strings.Join(quoted, " ")
	}
	return strings.Join(lines, " \\\n  ")
}

// shellQuote quotes s as one word for a POSIX shell: as it is when every
// byte is safe, else in single quotes, where a quote inside closes them,
// adds an escaped quote and opens them again.
func shellQuote(s string) string {
	safe := s != ""
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_./:@%+,", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
