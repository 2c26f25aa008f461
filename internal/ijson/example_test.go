package ijson_test

import (
	"fmt"

	"github.com/approov-gateway/approov/internal/ijson"
)

func ExampleMembers() {
	it := ijson.Members(`{"exp": 1800000000, "did": "caf\u00e9", "x": [1, {"y": null}]}`)
	for it.Next() {
		value := it.Value()
		if it.Kind() == ijson.KindString {
			value = ijson.Unescape(value, it.ValueEscaped())
		}
		fmt.Printf("%s %s %s\n", it.Name(), it.Kind(), value)
	}
	fmt.Println(it.Err())

	it = ijson.Members(`{"exp": 1, "\u0065xp": 2}`)
	for it.Next() {
	}
	fmt.Println(it.Err())
	// Output:
	// exp number 1800000000
	// did string café
	// x array [1, {"y": null}]
	// <nil>
	// ijson: duplicate member name
}
