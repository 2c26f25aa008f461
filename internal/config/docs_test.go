package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocumented keeps docs/CONFIGURATION.md in step with the code: every
// setting appears with its environment variable, flag and default.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "CONFIGURATION.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		flag := s.Flag
		if flag == "" {
			flag = "—"
		} else {
			flag = "`" + flag + "`"
		}
		def := ""
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		row := strings.ReplaceAll("| `"+s.Name+"` | `"+s.Env+"` | "+flag+" | "+def+" |", "|  |", "| |")
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/CONFIGURATION.md lacks the row %s", row)
		}
	}
	for claim, header := range ForwardedClaims {
		if !strings.Contains(string(doc), "`Approov-"+header+"`") {
			t.Errorf("docs/CONFIGURATION.md does not name the header of %s", claim)
		}
	}
}
