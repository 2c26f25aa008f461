package cli

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/msgsig"
)

const secretUsage = `usage: approov-gateway secret gen [--assertion | --forward-auth | --message-signing]
  secret gen                 a throwaway Approov secret, for tests: APPROOV_BASE64_SECRET
  secret gen --assertion     a key for signed facts: APPROOV_ASSERTION_SECRET, the same value
                             for the gateway and the backend
  secret gen --forward-auth  a shared secret for the proxy calling forward auth:
                             APPROOV_FORWARD_AUTH_SECRET
  secret gen --message-signing
                             a throwaway account message signing key, for tests of
                             account signatures (sign): APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL`

func secret(args []string, stdio IO) int {
	if len(args) == 0 || args[0] != "gen" || len(args) > 2 {
		return fail(stdio.Stderr, "secret", exitUsage, "%s", secretUsage)
	}
	kind := ""
	if len(args) == 2 {
		kind = args[1]
	}
	switch kind {
	case "":
		// Both encodings of one secret; the second is a comment, so that
		// the output can go straight into a .env file, which takes one.
		s := approovtest.NewSecret()
		fmt.Fprintf(stdio.Stdout, "APPROOV_BASE64_SECRET=%s\n# the same secret, base64url: APPROOV_BASE64URL_SECRET=%s\n",
			base64.StdEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s))
	case "--assertion", "-assertion":
		fmt.Fprintf(stdio.Stdout, "APPROOV_ASSERTION_SECRET=%s\n", base64.StdEncoding.EncodeToString(approovtest.NewSecret()))
	case "--forward-auth", "-forward-auth":
		fmt.Fprintf(stdio.Stdout, "APPROOV_FORWARD_AUTH_SECRET=%s\n", base64.RawURLEncoding.EncodeToString(approovtest.NewSecret()[:32]))
	case "--message-signing", "-message-signing":
		fmt.Fprintf(stdio.Stdout, "%s=%s\n", accountKeyEnv[0], base64.RawURLEncoding.EncodeToString(approovtest.NewSecret()[:msgsig.MinAccountKeySize]))
	default:
		return fail(stdio.Stderr, "secret", exitUsage, "%s", secretUsage)
	}
	return exitOK
}

func bind(args []string, stdio IO) int {
	if len(args) == 0 {
		return fail(stdio.Stderr, "bind", exitUsage, "usage: approov-gateway bind VALUE... (the bound header values, in order)")
	}
	fmt.Fprintln(stdio.Stdout, approov.PayloadHash(strings.Join(args, "")))
	return exitOK
}
