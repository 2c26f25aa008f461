package cli

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/msgsig"
)

const secretUsage = `Usage: approov-gateway secret gen [--assertion | --forward-auth | --message-signing]
  secret gen                 a throwaway Approov secret, for tests: APPROOV_BASE64_SECRET
  secret gen --assertion     a key for signed facts: APPROOV_ASSERTION_SECRET, the same value
                             for the gateway and the backend
  secret gen --forward-auth  a shared secret for the proxy calling forward auth:
                             APPROOV_FORWARD_AUTH_SECRET
  secret gen --message-signing
                             a throwaway account message signing key, for tests of
                             account signatures (sign): APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL
`

func secret(args []string, stdio IO) int {
	if len(args) > 0 && (isHelp(args[0]) || args[0] == "help") {
		fmt.Fprint(stdio.Stdout, secretUsage)
		return exitOK
	}
	if len(args) == 0 {
		fmt.Fprint(stdio.Stderr, secretUsage)
		return exitUsage
	}
	if args[0] != "gen" {
		return fail(stdio.Stderr, "secret", exitUsage, "unknown command %q (want gen)", args[0])
	}
	fs := newCommandFlags("secret gen")
	assertionKey := fs.Bool("assertion", false, "")
	forwardAuth := fs.Bool("forward-auth", false, "")
	messageSigning := fs.Bool("message-signing", false, "")
	positional, status, ok := parseCommand(fs, args[1:], stdio, secretUsage, "secret")
	if !ok {
		return status
	}
	if len(positional) > 0 {
		return fail(stdio.Stderr, "secret gen", exitUsage, "unexpected argument %q (see approov-gateway help secret)", positional[0])
	}
	switch {
	case *assertionKey && (*forwardAuth || *messageSigning) || *forwardAuth && *messageSigning:
		return fail(stdio.Stderr, "secret gen", exitUsage, "one kind of secret at a time: --assertion, --forward-auth or --message-signing")
	case *assertionKey:
		fmt.Fprintf(stdio.Stdout, "APPROOV_ASSERTION_SECRET=%s\n", base64.StdEncoding.EncodeToString(approovtest.NewSecret()))
	case *forwardAuth:
		fmt.Fprintf(stdio.Stdout, "APPROOV_FORWARD_AUTH_SECRET=%s\n", base64.RawURLEncoding.EncodeToString(approovtest.NewSecret()[:32]))
	case *messageSigning:
		fmt.Fprintf(stdio.Stdout, "%s=%s\n", accountKeyEnv[0], base64.RawURLEncoding.EncodeToString(approovtest.NewSecret()[:msgsig.MinAccountKeySize]))
	default:
		// Both encodings of one secret; the second is a comment, so that
		// the output can go straight into a .env file, which takes one.
		s := approovtest.NewSecret()
		fmt.Fprintf(stdio.Stdout, "APPROOV_BASE64_SECRET=%s\n# the same secret, base64url: APPROOV_BASE64URL_SECRET=%s\n",
			base64.StdEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s))
	}
	return exitOK
}

func bind(args []string, stdio IO) int {
	values, status, ok := parseCommand(newCommandFlags("bind"), args, stdio, bindUsage, "bind")
	if !ok {
		return status
	}
	if len(values) == 0 {
		return fail(stdio.Stderr, "bind", exitUsage, "usage: approov-gateway bind VALUE... (the bound header values, in order)")
	}
	fmt.Fprintln(stdio.Stdout, approov.PayloadHash(strings.Join(values, "")))
	return exitOK
}
