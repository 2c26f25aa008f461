package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/msgsig"
)

// explainFlags are the flags of token check --explain, which rebuilds the
// signature bases of a request and verifies its signatures.
type explainFlags struct {
	on                         bool
	method, url, tokenHeader   string
	accountKey, accountKeyFile string
	body                       bodyFlags
}

func (e *explainFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&e.on, "explain", false, "")
	fs.StringVar(&e.method, "method", "", "")
	fs.StringVar(&e.url, "url", "", "")
	fs.StringVar(&e.tokenHeader, "token-header", "", "")
	fs.StringVar(&e.accountKey, "account-key", "", "")
	fs.StringVar(&e.accountKeyFile, "account-key-file", "", "")
	e.body.register(fs)
}

// explainer holds what --explain needs: the request and the verifier of
// its signatures.
type explainer struct {
	req      *request
	verifier *msgsig.Verifier
}

// prepare checks the flags. Without --explain it returns nil; with it, the
// request that --method, --url, --header and the body describe, and a
// verifier with the account key when one is given or configured.
func (e *explainFlags) prepare(fields []string) (*explainer, error) {
	if !e.on {
		if e.method != "" || e.url != "" || e.tokenHeader != "" || e.accountKey != "" || e.accountKeyFile != "" || e.body.given() {
			return nil, errors.New("--method, --url, --token-header, --account-key, --account-key-file, --data and --data-file are for --explain")
		}
		return nil, nil
	}
	if e.url == "" {
		return nil, errors.New("--explain needs --url, the absolute URL the app requested")
	}
	method := e.method
	if method == "" {
		method = "GET"
	}
	tokenHeader, err := tokenHeaderFrom(e.tokenHeader)
	if err != nil {
		return nil, err
	}
	r, err := newRequest(method, e.url, fields, &e.body, tokenHeader)
	if err != nil {
		return nil, err
	}
	opts := []msgsig.VerifierOption{msgsig.WithTokenHeader(tokenHeader)}
	secret, from, err := accountKeyFrom(e.accountKey, e.accountKeyFile, true)
	if err != nil {
		return nil, err
	}
	if secret != nil {
		opts = append(opts, msgsig.WithAccountKey(secret))
	}
	v, err := msgsig.NewVerifier(opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", from, msgsigText(err))
	}
	return &explainer{req: r, verifier: v}, nil
}

// tokenArg returns the token to check: the argument or stdin, as token
// check reads it, or with --explain the request's token header when there
// is no argument. The request then carries the token, once.
func (x *explainer) tokenArg(args []string, stdin io.Reader) (string, error) {
	if x == nil {
		return readTokenArg(args, stdin)
	}
	inHeader := x.req.token()
	if len(args) == 0 && inHeader != "" {
		return inHeader, nil
	}
	tok, err := readTokenArg(args, stdin)
	switch {
	case err != nil:
		return "", err
	case inHeader == "":
		x.req.header.Set(x.req.tokenHeader, tok)
	case inHeader != tok:
		return "", fmt.Errorf("the token differs from the --header %s: give it once", x.req.tokenHeader)
	}
	return tok, nil
}

// signatureReport is what --explain found: the signature base of every
// label, and whether the signatures the token calls for verify.
type signatureReport struct {
	// Problem is why no base could be rebuilt at all, such as a missing
	// Signature-Input.
	Problem    string               `json:"problem,omitempty"`
	Signatures []explainedSignature `json:"signatures"`
	// Verdict is valid, invalid, not_checked (the token is invalid) or
	// none_needed (the token has neither ipk nor mskid).
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// Body is the Content-Digest check: ok, a reason code, or not_checked
	// when no body was given; empty when no verified signature covers it.
	Body string `json:"body,omitempty"`
}

// explainedSignature is one label's signature base, as rebuilt.
type explainedSignature struct {
	Label string `json:"label"`
	// Base is the signature base with the token and credentials hidden;
	// Digest, its SHA-256, is of the real one.
	Base   string `json:"base,omitempty"`
	Digest string `json:"sha256,omitempty"`
	// ClientDigest is the sha-256 of Signature-Base-Digest, when sent.
	ClientDigest string `json:"client_sha256,omitempty"`
	Error        string `json:"error,omitempty"`
}

// failed reports whether the request would be refused for its signatures
// or its body.
func (s *signatureReport) failed() bool {
	return s.Verdict == "invalid" || s.Body != "" && s.Body != msgsig.ReasonOK && s.Body != "not_checked"
}

// report rebuilds the bases of every signature the request carries and,
// when the token verified, verifies those its claims call for, as serve
// does under message_signing auto.
func (x *explainer) report(tok string, claims *approov.Claims, tokenErr error) *signatureReport {
	rep := &signatureReport{Signatures: []explainedSignature{}}
	bases, err := msgsig.Explain(x.req.msgsig())
	if err != nil {
		rep.Problem = reasonText(err)
	}
	for _, b := range bases {
		e := explainedSignature{Label: b.Label, Digest: b.Digest, ClientDigest: b.ClientDigest}
		if b.Err != nil {
			e.Error = reasonText(b.Err)
		} else {
			e.Base = redactBase(b.Base, tok)
		}
		rep.Signatures = append(rep.Signatures, e)
	}

	if tokenErr != nil {
		rep.Verdict, rep.Detail = "not_checked", "the token is invalid, so its claims say nothing"
		return rep
	}
	res, err := x.verifier.Verify(claims, x.req.msgsig())
	rep.Reason = msgsig.Reason(err)
	var labels []string
	switch {
	case err != nil:
		rep.Verdict, rep.Detail = "invalid", msgsigText(err)
	case res.Install || res.Account:
		rep.Verdict = "valid"
		if res.Install {
			labels = append(labels, msgsig.LabelInstall)
		}
		if res.Account {
			labels = append(labels, msgsig.LabelAccount)
		}
		rep.Detail = strings.Join(labels, ", ")
	default:
		rep.Verdict, rep.Detail = "none_needed", "the token has neither ipk nor mskid"
	}
	if res.Digest != nil {
		if !x.req.hasBody {
			rep.Body = "not_checked"
		} else {
			res.Digest.Write(x.req.body)
			rep.Body = msgsig.Reason(res.Digest.Verify())
		}
	}
	return rep
}

// reasonText is a msgsig error as its reason code and detail.
func reasonText(err error) string {
	return msgsig.Reason(err) + ": " + msgsigText(err)
}

// credentialFields are covered fields whose values explain shows by
// length only, as it hides the token: its output is for pasting into a
// ticket.
var credentialFields = []string{"authorization", "proxy-authorization", "cookie"}

// redactBase hides the token and the values of credentialFields in a
// signature base.
func redactBase(base, tok string) string {
	lines := strings.Split(base, "\n")
	for i, line := range lines {
		for _, name := range credentialFields {
			if prefix := `"` + name + `": `; strings.HasPrefix(line, prefix) {
				line = fmt.Sprintf("%s[%d bytes, not shown]", prefix, len(line)-len(prefix))
			}
		}
		if tok != "" {
			line = strings.ReplaceAll(line, tok, "[token]")
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// print writes the report as text, after token check's verdict.
func (s *signatureReport) print(w io.Writer) {
	if s.Problem != "" {
		fmt.Fprintf(w, "signature: none to explain (%s)\n", s.Problem)
	}
	for _, e := range s.Signatures {
		if e.Error != "" {
			fmt.Fprintf(w, "signature %s: no base (%s)\n", e.Label, e.Error)
			continue
		}
		fmt.Fprintf(w, "signature %s: base sha-256 %s\n", e.Label, e.Digest)
		for _, line := range strings.Split(e.Base, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
		switch {
		case e.ClientDigest == "":
		case e.ClientDigest == e.Digest:
			fmt.Fprintln(w, "  Signature-Base-Digest: the same: the app signed this base")
		default:
			fmt.Fprintf(w, "  Signature-Base-Digest: differs: the app signed a base with sha-256 %s (compare the @target-uri line with the URL the app used)\n", e.ClientDigest)
		}
	}
	switch s.Verdict {
	case "valid":
		fmt.Fprintf(w, "signatures: valid (ok: %s)\n", s.Detail)
	case "invalid":
		fmt.Fprintf(w, "signatures: invalid (%s: %s)\n", s.Reason, s.Detail)
	case "not_checked":
		fmt.Fprintf(w, "signatures: not checked (%s)\n", s.Detail)
	default:
		fmt.Fprintf(w, "signatures: none needed (%s)\n", s.Detail)
	}
	switch s.Body {
	case "":
	case msgsig.ReasonOK:
		fmt.Fprintln(w, "body: matches Content-Digest (ok)")
	case "not_checked":
		fmt.Fprintln(w, "body: not checked: give it with --data or --data-file")
	default:
		fmt.Fprintf(w, "body: invalid (%s)\n", s.Body)
	}
}
