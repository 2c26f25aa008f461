package main

import (
	"fmt"
	"net/http/httptest"
)

func Example() {
	rec := httptest.NewRecorder()
	newHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 {"message": "Hello, World!"}
}
