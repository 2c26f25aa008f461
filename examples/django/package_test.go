package django_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/e2e"
)

// TestPackageInProcess: approov_django checking tokens inside Django
// (APPROOV_MODE = "in_process"), under gunicorn, with no gateway. Every
// case of the matrix gets the gateway's verdict, not the PyJWT
// reference's: exp required and numeric, duplicate claims and headers
// refused, binding per view.
func TestPackageInProcess(t *testing.T) {
	addr := e2e.FreeAddr(t)
	startDjango(t, "hello.settings_standalone", addr)
	base := "http://" + addr
	runMatrix(t, "approov_django in process", base, false, "", nil)
	checkScriptName(t, base)

	valid := sign(t, map[string]any{"did": "device-7"})
	status, w := getWhoami(t, base+"/whoami", withForgeries(http.Header{"Approov-Token": {valid}}))
	if status != 200 || str(w.DeviceID) != "device-7" || !w.Verified {
		t.Errorf("whoami with a valid token and forged facts: %d %+v", status, w)
	}
	status, w = getWhoami(t, base+"/public/whoami", withForgeries(nil))
	if status != 200 || w.DeviceID != nil || w.Verified || str(w.Result) != "public" {
		t.Errorf("exempt view: %d %+v", status, w)
	}
	if got := get(t, base+"/nope", nil); got.Status != 401 {
		t.Errorf("an unrouted path without a token: %d, want 401 (the default policy)", got.Status)
	}
}

// startUvicorn runs the hello API under uvicorn (ASGI) with settings, and
// waits until it answers.
func startUvicorn(t *testing.T, settings string, env ...string) string {
	t.Helper()
	e2e.Require(t, "/usr/bin/python3")
	addr := e2e.FreeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	env = append(env, "DJANGO_SETTINGS_MODULE="+settings, "PYTHONDONTWRITEBYTECODE=1", "APPROOV_BASE64_SECRET="+secretB64, pythonPath)
	if !hasVar(env, "APPROOV_ASSERTION_SECRET") {
		env = append(env, "APPROOV_ASSERTION_SECRET="+gatewayAssertionKey)
	}
	p := e2e.Start(t, djangoDir, env, "/usr/bin/python3", "-m", "uvicorn", "--host", host, "--port", port,
		"--no-access-log", "hello.asgi:application")
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return addr
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("uvicorn did not start on %s: %v\n%s", addr, err, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPackageUnderUvicorn: approov_django under an ASGI server, where the
// middleware runs async and takes the raw request-target from the ASGI
// scope. Behind the gateway, the assertion checks hold as under gunicorn;
// on its own, the token checks do.
func TestPackageUnderUvicorn(t *testing.T) {
	t.Run("behind the gateway", func(t *testing.T) {
		django := startUvicorn(t, "hello.settings")
		if got := get(t, "http://"+django+"/", nil); got.Status != 401 || got.Body != "{}" {
			t.Fatalf("uvicorn alone, no assertion: %d %q", got.Status, got.Body)
		}
		gw := startGateway(t, "upstream: http://"+django+"\n")
		runMatrix(t, "gateway → uvicorn", gw.URL(), false, "", nil)
		checkFacts(t, "gateway → uvicorn", gw.URL())
		// A target whose decoding changes it: the assertion binds the raw
		// one, which the scope's raw_path gives byte for byte.
		tok := sign(t, map[string]any{"did": "device-8"})
		status, w := getWhoami(t, gw.URL()+"/whoami?q=a%2Fb", http.Header{"Approov-Token": {tok}})
		if status != 200 || str(w.DeviceID) != "device-8" {
			t.Errorf("whoami with an escaped query: %d %+v", status, w)
		}
	})
	t.Run("in process", func(t *testing.T) {
		base := "http://" + startUvicorn(t, "hello.settings_standalone")
		runMatrix(t, "approov_django in process under uvicorn", base, false, "", nil)
		const auth = "Bearer user-1-session"
		bound := sign(t, map[string]any{"pay": approov.PayloadHash(auth)})
		if got := get(t, base+"/bound/", http.Header{"Approov-Token": {bound}, "Authorization": {auth, auth}}); got.Status != 401 {
			t.Errorf("Authorization twice under ASGI: %d, want 401", got.Status)
		}
		if got := get(t, base+"/whoami", http.Header{"Approov-Token": {sign(t, map[string]any{"did": "d"}), strings.Repeat("x", 10)}}); got.Status != 401 {
			t.Errorf("two token headers under ASGI: %d, want 401", got.Status)
		}
	})
}
