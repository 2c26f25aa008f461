package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startDjango runs the example under gunicorn with settings, pinned like
// every process under test, bound to bind: a loopback address, or
// "unix:" and a socket path. It returns once /healthz answers.
func (b *bench) startDjango(settings, workerClass, bind string, tok tokens) (*exec.Cmd, error) {
	env := []string{"DJANGO_SETTINGS_MODULE=" + settings, "APPROOV_BASE64_SECRET=" + tok.secretB64, "PYTHONDONTWRITEBYTECODE=1",
		"APPROOV_ASSERTION_SECRET=" + tok.assertionKey, "PYTHONPATH=" + filepath.Join(b.root, "python")}
	cmd, err := b.start(filepath.Join(b.root, "examples", "django"), env, "/usr/bin/gunicorn", "--bind", bind,
		"--workers", strconv.Itoa(b.workers), "--worker-class", workerClass, "--log-level", "warning", "hello.wsgi:application")
	if err != nil {
		return nil, err
	}
	if socket, ok := strings.CutPrefix(bind, "unix:"); ok {
		return cmd, waitUnixHTTP(socket, "/healthz", 20*time.Second)
	}
	return cmd, waitHTTP("http://" + bind + "/healthz")
}

// waitUnixHTTP waits up to within for the HTTP server on a Unix socket to
// answer path.
func waitUnixHTTP(socket, path string, within time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://localhost" + path)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nothing answered on %s within %v", socket, within)
}

func (b *bench) djangoScenarios() error {
	for _, wc := range b.workerClasses {
		if err := b.djangoWith(wc); err != nil {
			return err
		}
	}
	return nil
}

// The Django group's scenarios, by the names the report gives them.
const (
	djangoRow       = "Django alone (no checks)"
	inprocRow       = "Django + in-process PyJWT middleware"
	packageRow      = "Django + approov_django, in process"
	viaGatewayRow   = "approov-gateway → Django"
	viaSocketRow    = "approov-gateway → Django, Unix socket"
	signedRow       = "approov-gateway → Django, signed facts verified"
	signedSocketRow = "approov-gateway → Django, Unix socket, signed facts verified"
	viaAuthRequest  = "nginx auth_request → approov-gateway → Django"
	defaultMinRatio = 0.95
)

// minRatioToInProcess is the target for valid traffic through the gateway
// against Django checking tokens itself, by gunicorn worker class: gthread
// keeps the gateway's connections alive, so more is asked of it.
var minRatioToInProcess = map[string]float64{"sync": 0.95, "gthread": 1.1}

// djangoWith runs the Django group with one gunicorn worker class: sync
// closes every connection, so a proxy in front dials per request; gthread
// keeps connections alive. The gateway reaches Django over loopback TCP
// and, in other rows, over a Unix socket; Django behind it either trusts
// it (no Approov middleware: only the gateway can reach it), as issue
// 12's targets are set, or verifies the facts it signs.
func (b *bench) djangoWith(workerClass string) error {
	tok := newTokens()
	plain := freeAddr()
	plainCmd, err := b.startDjango("hello.settings_nochecks", workerClass, plain, tok)
	if err != nil {
		return err
	}
	plainSocket := filepath.Join(b.tmp, "gunicorn-"+workerClass+"-plain.sock")
	plainSocketCmd, err := b.startDjango("hello.settings_nochecks", workerClass, "unix:"+plainSocket, tok)
	if err != nil {
		return err
	}
	gwPlain, gwPlainCmd, err := b.startGateway(tok, "upstream: http://"+plain+"\n")
	if err != nil {
		return err
	}
	gwPlainSocket, gwPlainSocketCmd, err := b.startGateway(tok, "upstream: unix:"+plainSocket+"\n")
	if err != nil {
		return err
	}
	// Django verifying the facts the gateway signs.
	backend := freeAddr()
	backendCmd, err := b.startDjango("hello.settings", workerClass, backend, tok)
	if err != nil {
		return err
	}
	socket := filepath.Join(b.tmp, "gunicorn-"+workerClass+".sock")
	socketCmd, err := b.startDjango("hello.settings", workerClass, "unix:"+socket, tok)
	if err != nil {
		return err
	}
	inproc := freeAddr()
	inprocCmd, err := b.startDjango("hello.settings_inprocess", workerClass, inproc, tok)
	if err != nil {
		return err
	}
	pkg := freeAddr()
	pkgCmd, err := b.startDjango("hello.settings_standalone", workerClass, pkg, tok)
	if err != nil {
		return err
	}
	signed := "APPROOV_ASSERTION_SECRET=" + tok.assertionKey
	gw, gwCmd, err := b.startGateway(tok, "upstream: http://"+backend+"\n", signed)
	if err != nil {
		return err
	}
	// Over a socket the gateway sends Host: localhost, which the example's
	// ALLOWED_HOSTS lists.
	gwSocket, gwSocketCmd, err := b.startGateway(tok, "upstream: unix:"+socket+"\n", signed)
	if err != nil {
		return err
	}
	fa, faCmd, err := b.startGateway(tok, "forward_auth_only: true\n", "APPROOV_FORWARD_AUTH_CONVENTION=nginx", signed)
	if err != nil {
		return err
	}
	nginx, nginxCmd, err := b.startNginx(backend, fa)
	if err != nil {
		return err
	}
	pg := func(cs ...*exec.Cmd) []int {
		var out []int
		for _, c := range cs {
			out = append(out, c.Process.Pid)
		}
		return out
	}
	token := []string{"Approov-Token: " + tok.valid}
	bad := []string{"Approov-Token: " + tok.badSig}
	group := "django " + workerClass + " "
	valid, err := b.measure(group+"valid", []scenario{
		{name: djangoRow, url: "http://" + plain + "/", backend: pg(plainCmd)},
		{name: inprocRow, url: "http://" + inproc + "/", headers: token, backend: pg(inprocCmd)},
		{name: packageRow, url: "http://" + pkg + "/", headers: token, backend: pg(pkgCmd)},
		{name: viaGatewayRow, url: "http://" + gwPlain + "/", headers: token, proxy: pg(gwPlainCmd), backend: pg(plainCmd)},
		{name: viaSocketRow, url: "http://" + gwPlainSocket + "/", headers: token, proxy: pg(gwPlainSocketCmd), backend: pg(plainSocketCmd)},
		{name: signedRow, url: "http://" + gw + "/", headers: token, proxy: pg(gwCmd), backend: pg(backendCmd)},
		{name: signedSocketRow, url: "http://" + gwSocket + "/", headers: token, proxy: pg(gwSocketCmd), backend: pg(socketCmd)},
		{name: viaAuthRequest, url: "http://" + nginx + "/", headers: token, proxy: pg(nginxCmd, faCmd), backend: pg(backendCmd)},
	})
	if err != nil {
		return err
	}
	flood, err := b.measure(group+"flood", []scenario{
		{name: inprocRow, url: "http://" + inproc + "/", headers: bad, reject: true, backend: pg(inprocCmd)},
		{name: packageRow, url: "http://" + pkg + "/", headers: bad, reject: true, backend: pg(pkgCmd)},
		{name: viaGatewayRow, url: "http://" + gwPlain + "/", headers: bad, reject: true, proxy: pg(gwPlainCmd), backend: pg(plainCmd)},
		{name: viaAuthRequest, url: "http://" + nginx + "/", headers: bad, reject: true, proxy: pg(nginxCmd, faCmd), backend: pg(backendCmd)},
	})
	if err != nil {
		return err
	}
	b.stopAll()
	ref := valid[inprocRow]
	fmt.Fprintf(&b.report, "## Django, gunicorn %[2]s workers\n\nThe example API under gunicorn, %[1]d %[2]s workers in every case: with no check; with the vendor's in-process PyJWT middleware; with approov_django checking tokens itself; and behind the gateway, either trusting it (no Approov middleware, as where only the gateway can reach Django: the rows issue 12's targets are set on) or verifying the facts it signs (approov_django's gateway mode, one HMAC-SHA256 assertion per request). Valid traffic carries a valid token; the flood carries tokens signed with another secret, as failed attestations get (all answered 401; requests/s counts rejections). Proxy CPU is the gateway's, or nginx's and the forward-auth gateway's together; backend CPU is gunicorn's (master and workers).\n\nValid traffic:\n\n", b.workers, workerClass)
	b.table(ordered(valid, djangoRow, inprocRow, packageRow, viaGatewayRow, viaSocketRow, signedRow, signedSocketRow, viaAuthRequest), "in-process", ref)
	fmt.Fprintf(&b.report, "Invalid-token flood (no Unix socket row: rejected requests never reach Django):\n\n")
	floodRef := flood[inprocRow]
	b.table(ordered(flood, inprocRow, packageRow, viaGatewayRow, viaAuthRequest), "in-process", floodRef)
	gwFlood := flood[viaGatewayRow]
	b.target(gwFlood.rps.med >= 8*floodRef.rps.med, "invalid-token flood (%s): the gateway rejects at least 8× the requests/s of the in-process middleware (%.1f×)", workerClass, gwFlood.rps.med/floodRef.rps.med)
	want, ok := minRatioToInProcess[workerClass]
	if !ok {
		want = defaultMinRatio
	}
	for _, row := range []string{viaGatewayRow, viaSocketRow} {
		got := valid[row].rps.med / ref.rps.med
		b.target(got >= want, "valid traffic to Django (%s): %s at least %.2f× Django with the in-process middleware (%.2f×)", workerClass, row, want, got)
	}
	return nil
}
