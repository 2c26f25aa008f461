package gateway

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
)

func TestExtractQueryParam(t *testing.T) {
	for _, tt := range []struct {
		raw, param string
		values     []string
		rest       string
	}{
		{"approov_token=abc", "approov_token", []string{"abc"}, ""},
		{"a=1&approov_token=abc&b=%2F", "approov_token", []string{"abc"}, "a=1&b=%2F"},
		{"approov%5Ftoken=x&approov_token=y", "approov_token", []string{"x", "y"}, ""},
		{"a=1&b", "approov_token", nil, "a=1&b"},
		{"approov_token_x=1", "approov_token", nil, "approov_token_x=1"},
	} {
		values, rest := extractQueryParam(tt.raw, tt.param)
		if !reflect.DeepEqual(values, tt.values) || rest != tt.rest {
			t.Errorf("extractQueryParam(%q) = %q, %q; want %q, %q", tt.raw, values, rest, tt.values, tt.rest)
		}
	}
}

// wsBackend completes WebSocket handshakes by hand and echoes raw bytes.
func wsBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			fmt.Fprintf(w, "plain %s %s auth=%q", r.Method, r.RequestURI, r.Header.Get("Authorization"))
			return
		}
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Query: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]), r.URL.RawQuery)
		rw.Flush()
		io.Copy(conn, rw)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// wsDial opens a WebSocket through addr by hand; extra headers replace the
// handshake's own.
func wsDial(t *testing.T, addr, target string, extra http.Header) (net.Conn, *http.Response) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	hdr := h("Host", addr, "Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	for k, v := range extra {
		hdr[k] = v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", target)
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	io.WriteString(conn, b.String())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	return &bufConn{Conn: conn, r: br}, resp
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func echoes(t *testing.T, conn net.Conn) {
	t.Helper()
	msg := []byte("raw frames pass through untouched")
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != string(msg) {
		t.Fatalf("echo: %q %v", got, err)
	}
}

func TestHopByHop(t *testing.T) {
	ws := wsBackend(t)
	tg := newTestGateway(t, `
upstream: `+ws.URL+`
routes:
  - match: /bound/
    mode: binding
    binding_headers: [Authorization]
`)
	const auth = "Bearer alice"
	bound := token(t, map[string]any{"pay": approov.PayloadHash(auth)})
	base := []string{"Approov-Token", bound, "Authorization", auth}
	for _, tt := range []struct {
		connection string
		status     int
	}{
		{"Authorization", 400},
		{"authorization", 400},
		{"close, Authorization", 400},
		{"Approov-Token", 400},
		{"Approov-Result, Approov-Device-Id", 400},
		{"Approov_Device_Id", 400},
		{"Approov-Assertion", 400},
		{"X-Forwarded-For", 400},
		{"Forwarded", 400},
		{"close", 200},
		{"keep-alive", 200},
		{"te", 200},
		{"X-Hop-Only", 200},
	} {
		r := tg.do(t, "GET", "/bound/x", h(append(base, "Connection", tt.connection)...))
		if tt.status == 400 {
			// A Trailer header naming the same header is refused alike.
			if tr := tg.do(t, "GET", "/bound/x", h(append(base, "Trailer", tt.connection)...)); tr.status != 400 {
				t.Errorf("Trailer: %s: %d, want 400", tt.connection, tr.status)
			}
		}
		if r.status != tt.status {
			t.Errorf("Connection: %s: %d, want %d (%s)", tt.connection, r.status, tt.status, r.body)
		}
		if r.status == 200 && !strings.Contains(r.body, `auth="Bearer alice"`) {
			t.Errorf("Connection: %s: the bound credential did not reach the upstream: %s", tt.connection, r.body)
		}
	}

	// A WebSocket handshake keeps working: Connection: Upgrade passes.
	conn, resp := wsDial(t, tg.front.Listener.Addr().String(), "/bound/ws", h(base...))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-Websocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("WebSocket handshake: %s %v", resp.Status, resp.Header)
	}
	echoes(t, conn)
	if _, resp := wsDial(t, tg.front.Listener.Addr().String(), "/bound/ws", h(append(base, "Connection", "Upgrade, Authorization")...)); resp.StatusCode != 400 {
		t.Fatalf("WebSocket handshake nominating Authorization: %s", resp.Status)
	}
}

func TestQueryTokenOnlyOnGenuineHandshakes(t *testing.T) {
	ws := wsBackend(t)
	tg := newTestGateway(t, `
upstream: `+ws.URL+`
routes:
  - match: /ws/
    token_query_param: approov_token
`)
	valid := token(t, nil)
	addr := tg.front.Listener.Addr().String()
	conn, resp := wsDial(t, addr, "/ws/chat?room=7&approov_token="+valid, nil)
	if resp.StatusCode != 101 || resp.Header.Get("X-Query") != "room=7" {
		t.Fatalf("handshake with a query token: %s, upstream query %q", resp.Status, resp.Header.Get("X-Query"))
	}
	echoes(t, conn)
	for name, extra := range map[string]http.Header{
		"Upgrade alone, no WebSocket key": h("Connection", "keep-alive", "Sec-WebSocket-Key", ""),
		"Connection without upgrade":      h("Connection", "keep-alive"),
		"Upgrade: h2c":                    h("Upgrade", "h2c"),
		"no Sec-WebSocket-Version":        h("Sec-WebSocket-Version", ""),
	} {
		if _, resp := wsDial(t, addr, "/ws/chat?approov_token="+valid, extra); resp.StatusCode != 401 {
			t.Errorf("%s: %s, want 401", name, resp.Status)
		}
	}
	if r := tg.do(t, "GET", "/ws/x?approov_token="+valid, h("Upgrade", "websocket")); r.status != 401 {
		t.Fatalf("plain request with Upgrade: websocket and a query token: %d", r.status)
	}
	if r := tg.do(t, "POST", "/ws/x?approov_token="+valid, nil); r.status != 401 {
		t.Fatalf("POST with a query token: %d", r.status)
	}
}
