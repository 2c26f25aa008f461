package main_test

import (
	"debug/elf"
	"testing"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestStaticBinary: the binary the tests run, built as the README says, is
// one static executable: no dynamic loader, no shared libraries.
func TestStaticBinary(t *testing.T) {
	f, err := elf.Open(e2e.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (%v)", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs shared libraries: %v", libs)
	}
}
