package cli_test

import (
	"os"

	"github.com/approov-gateway/approov/internal/cli"
)

func ExampleMain() {
	// The pay claim of a token bound to this Authorization header.
	cli.Main([]string{"bind", "Bearer abc"}, cli.IO{Stdout: os.Stdout, Stderr: os.Stdout})
	cli.Main([]string{"token", "decode", "not-a-token"}, cli.IO{Stdout: os.Stdout, Stderr: os.Stdout})
	// Output:
	// w1Xc6WwWEogNEZQP/dkBTThsJT4MNlKmzQanIm970rY=
	// approov-gateway token decode: not a JWT: want three dot-separated parts, got 1
}
