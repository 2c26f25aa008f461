package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated parts of docs/CONFIGURATION.md")

const (
	tableBegin = "<!-- settings table: generated from internal/config/settings.go by go test ./internal/config -run TestDocumented -update -->\n"
	tableEnd   = "<!-- end of settings table -->\n"
)

// TestDocumented keeps docs/CONFIGURATION.md in step with the code: its
// settings table is the one settingsMarkdown generates from the settings
// table, and every forwarded fact's header is named.
func TestDocumented(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "CONFIGURATION.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("docs/CONFIGURATION.md lacks the settings table markers")
	}
	want := doc[:begin+len(tableBegin)] + settingsMarkdown() + doc[end:]
	if want != doc {
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			t.Errorf("docs/CONFIGURATION.md's settings table is not the generated one: run go test ./internal/config -run TestDocumented -update")
		}
	}
	for _, f := range facts {
		if !strings.Contains(doc, "`Approov-"+f.Header+"`") {
			t.Errorf("docs/CONFIGURATION.md does not name the header of %s", f.Name)
		}
	}
}
