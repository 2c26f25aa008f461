package msgsig_test

import (
	"bytes"
	"testing"

	"github.com/dunglas/httpsfv"
)

// TestStructuredFieldParser pins what this package relies on in
// github.com/dunglas/httpsfv, so that an upgrade that changes it fails
// here rather than in production.
func TestStructuredFieldParser(t *testing.T) {
	// Byte sequences and strings are told apart; padding is required.
	d, err := httpsfv.UnmarshalDictionary([]string{`a=:AQID:, b="AQID"`})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := d.Get("a")
	b, _ := d.Get("b")
	if v, ok := a.(httpsfv.Item).Value.([]byte); !ok || !bytes.Equal(v, []byte{1, 2, 3}) {
		t.Errorf("byte sequence: %#v", a)
	}
	if v, ok := b.(httpsfv.Item).Value.(string); !ok || v != "AQID" {
		t.Errorf("string: %#v", b)
	}
	if _, err := httpsfv.UnmarshalDictionary([]string{`a=:AQI:`}); err == nil {
		t.Error("an unpadded byte sequence parsed: the Signature tests expect it refused")
	}
	if d, err := httpsfv.UnmarshalDictionary([]string{`a=:AQJ=:`}); err != nil {
		t.Errorf("non-zero pad bits refused: %v", err)
	} else if v, _ := d.Get("a"); !bytes.Equal(v.(httpsfv.Item).Value.([]byte), []byte{1, 2}) {
		t.Errorf("non-zero pad bits: %#v", v)
	}

	// Instances of a field are joined into one dictionary; a repeated key
	// keeps its first place and takes its last value.
	d, err = httpsfv.UnmarshalDictionary([]string{`x=1, y=2`, `x=3`})
	if err != nil {
		t.Fatal(err)
	}
	if names := d.Names(); len(names) != 2 || names[0] != "x" {
		t.Errorf("names %v", names)
	}
	if x, _ := d.Get("x"); x.(httpsfv.Item).Value != int64(3) {
		t.Errorf("x = %#v", x)
	}

	// An inner list serialises back with its parameters in the order
	// received, integers as int64.
	d, err = httpsfv.UnmarshalDictionary([]string{`s=( "a"  "b" );z=1;alg="x";a=?0`})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.Get("s")
	out, err := httpsfv.Marshal(s.(httpsfv.InnerList))
	if err != nil || out != `("a" "b");z=1;alg="x";a=?0` {
		t.Errorf("%q %v", out, err)
	}
	if z, _ := s.(httpsfv.InnerList).Params.Get("z"); z != int64(1) {
		t.Errorf("z = %#v", z)
	}
}
