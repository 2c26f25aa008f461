package msgsig_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/msgsig"
)

// The issue's known-answer request: a token with an ipk claim, and an
// install signature over the method, the target URI and the token.
func Example() {
	at := func() time.Time { return time.Unix(1744292760, 0) }
	tokens, err := approov.NewVerifier(approov.WithBase64Secret(vectorSecret), approov.WithAudience("approov.io"), approov.WithClock(at))
	if err != nil {
		panic(err)
	}
	signatures, err := msgsig.NewVerifier(msgsig.WithClock(at))
	if err != nil {
		panic(err)
	}

	// The request as the gateway receives it, behind no proxy.
	header := http.Header{
		"Approov-Token":   {vectorToken},
		"Signature-Input": {`install=("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256";created=1744292750;expires=1999999999`},
		"Signature":       {`install=:eqCroJn6E04gnRx5vftlLHY0qLeaTpEYv+U0VJkdzJUDvxekODhb+L/2z89Lrk0L42p/0jQzhAhMHxFYVWWs7g==:`},
	}
	uri, err := msgsig.TargetURI("http", "0.0.0.0:8111", "/token?param1=value1&param2=value2")
	if err != nil {
		panic(err)
	}

	// The token first, then the signature its claims call for.
	claims, err := tokens.VerifyRequest(header)
	if err != nil {
		fmt.Println("token:", approov.Reason(err))
		return
	}
	r := &msgsig.Request{Method: "GET", TargetURI: uri, Header: header}
	res, err := signatures.Verify(&claims, r)
	fmt.Println("install signature verified:", res.Install, msgsig.Reason(err))

	// The same request for another URI.
	r.TargetURI = strings.Replace(uri, "param2=value2", "param2=value3", 1)
	_, err = signatures.Verify(&claims, r)
	fmt.Println(msgsig.Reason(err), errors.Is(err, msgsig.ErrInvalid))

	// What the server rebuilt, for troubleshooting: the SHA-256 of the
	// base, which the app's Signature-Base-Digest carries in debug mode.
	r.TargetURI = uri
	ex, _ := msgsig.Explain(r)
	fmt.Println(ex[0].Label, ex[0].Digest)
	// Output:
	// install signature verified: true ok
	// signature_invalid true
	// install 6K4F6LGF+NhHQy7YLLiIgNcBFthYfn4xbqoLoLW1GY4=
}
