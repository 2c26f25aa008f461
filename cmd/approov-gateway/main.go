// Command approov-gateway locks an API to its genuine mobile app: a reverse
// proxy and forward-auth service that checks Approov tokens, plus tools to
// make and check tokens. Run approov-gateway help for the commands.
package main

import (
	"os"

	"github.com/approov-gateway/approov/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
