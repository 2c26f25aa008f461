package h1

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pipeDial returns a dial function whose upstream reads one request and
// answers with raw, then closes.
func pipeDial(raw []byte) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			server.SetDeadline(time.Now().Add(5 * time.Second))
			req, err := http.ReadRequest(bufio.NewReader(server))
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			server.Write(raw)
		}()
		return client, nil
	}
}

// roundTripOutcome sends one request and describes what came back, the
// way a proxy would use it: a 101 to a request that asked for no upgrade
// counts as an error, as ReverseProxy refuses it.
func roundTripOutcome(rt http.RoundTripper, method string) string {
	req, _ := http.NewRequest(method, "http://upstream.test/", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return "error"
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return "error"
	}
	b, err := io.ReadAll(resp.Body)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d %q %v %q", resp.StatusCode, resp.Proto, resp.Header, b)
	if err != nil {
		sb.WriteString(" body error")
	}
	fmt.Fprintf(&sb, " trailer %v cl %d close %v", resp.Trailer, resp.ContentLength, resp.Close)
	return sb.String()
}

// FuzzResponses sends the same raw upstream response to this package's
// Transport and to net/http's: both must read it the same way, or both
// refuse it.
func FuzzResponses(f *testing.F) {
	for _, tc := range diffCases {
		for _, s := range tc.scripts {
			if raw := strings.Join(s.pieces, ""); len(raw) < 4096 {
				f.Add([]byte(raw), tc.method == "HEAD")
			}
		}
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"), false)
	f.Fuzz(func(t *testing.T, raw []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		fast := &Transport{Dial: pipeDial(raw), ResponseHeaderTimeout: 2 * time.Second}
		std := fallbackTransport(pipeDial(raw), 2*time.Second)
		std.DisableKeepAlives = true
		a, b := roundTripOutcome(fast, method), roundTripOutcome(std, method)
		if a != b {
			t.Fatalf("the transports read %q differently\nfast path: %s\nnet/http:  %s", raw, a, b)
		}
	})
}
