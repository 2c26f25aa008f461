package e2e_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/approov-gateway/approov/internal/e2e"
)

func ExampleBaseEnv() {
	// A developer's own settings never leak into the processes a test starts.
	os.Setenv("APPROOV_UPSTREAM", "http://developer-machine:8000")
	leaked := false
	for _, kv := range e2e.BaseEnv() {
		leaked = leaked || strings.HasPrefix(kv, "APPROOV_")
	}
	fmt.Println("APPROOV_ variables passed on:", leaked)
	// Output:
	// APPROOV_ variables passed on: false
}
