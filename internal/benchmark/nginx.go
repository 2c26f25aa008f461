package main

import (
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// njsModule is where Debian's libnginx-mod-http-js installs njs.
const njsModule = "/usr/lib/nginx/modules/ngx_http_js_module.so"

// njsCheck is the token check nginx runs in process for the njs rows.
//
//go:embed approov_check.js
var njsCheck []byte

// proxyBlock is the http-level nginx configuration of the nginx rows in
// front of the trivial backend: proxy_pass to an upstream block that keeps
// up to 64 idle connections, as a tuned nginx runs, with the X-Forwarded
// headers the gateway and the ReverseProxy floor set too. With jsDir, the
// directory of approov_check.js, the token is checked first, in process,
// and a failure is answered 401 {}. keepalive_requests is raised on both
// legs so that nginx does not close wrk's or the backend's connections
// every 1,000 requests, which neither Go server does.
func proxyBlock(backend, listen, jsDir string) string {
	check, js := "", ""
	if jsDir != "" {
		js = fmt.Sprintf(`
    js_path %s;
    js_import approov from approov_check.js;
    js_set $approov_ok approov.check;`, jsDir)
		check = `
            if ($approov_ok != 1) {
                return 401 '{}';
            }`
	}
	return fmt.Sprintf(`    upstream backend {
        server %s;
        keepalive 64;
        keepalive_requests 1000000;
    }%s
    server {
        listen %s;
        keepalive_requests 1000000;
        default_type application/json;
        location / {%s
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
    }`, backend, js, listen, check)
}

// njsMain is what nginx.conf needs at its top for the njs rows: the
// module, and the secret kept in nginx's environment for the workers.
const njsMain = "load_module " + njsModule + ";\nenv APPROOV_BASE64_SECRET;\n"

// startNginxConf runs nginx from dir, pinned like every process under
// test, with the main-level lines main and the http-level block httpBlock,
// and waits until it answers on listen.
func (b *bench) startNginxConf(dir, main, httpBlock, listen string, env []string) (*exec.Cmd, error) {
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main+e2e.NginxConf(dir, httpBlock)), 0o600); err != nil {
		return nil, err
	}
	cmd, err := b.start(dir, env, "nginx", "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", path)
	if err != nil {
		return nil, err
	}
	return cmd, waitHTTP("http://" + listen + "/")
}

// startNginxProxy runs nginx as a keep-alive reverse proxy in front of
// backend, checking tokens with njs first when njs is set, and returns its
// address and process.
func (b *bench) startNginxProxy(backend string, njs bool, tok tokens) (string, *exec.Cmd, error) {
	dir, err := os.MkdirTemp(b.tmp, "nginx-")
	if err != nil {
		return "", nil, err
	}
	listen := freeAddr()
	main, jsDir, env := "", "", []string(nil)
	if njs {
		if err := os.WriteFile(filepath.Join(dir, "approov_check.js"), njsCheck, 0o600); err != nil {
			return "", nil, err
		}
		main, jsDir, env = njsMain, dir, []string{"APPROOV_BASE64_SECRET=" + tok.secretB64}
	}
	cmd, err := b.startNginxConf(dir, main, proxyBlock(backend, listen, jsDir), listen, env)
	return listen, cmd, err
}

// startNginx runs nginx with the tested server block of
// docs/quickstart-nginx.md, pointed at django and the forward-auth gateway.
func (b *bench) startNginx(django, gateway string) (string, *exec.Cmd, error) {
	listen := freeAddr()
	site, err := e2e.FrontConfig("nginx tested", django, gateway, listen)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(b.tmp, "nginx-")
	if err != nil {
		return "", nil, err
	}
	cmd, err := b.startNginxConf(dir, "", site, listen, nil)
	return listen, cmd, err
}

// proveCheck proves that the token check behind url is one before it is
// measured: a valid token gets the backend's 200, and no token, a bad
// signature and every other refused token get 401.
func proveCheck(url string, tok tokens) error {
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(token string) (int, string, error) {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return 0, "", err
		}
		if token != "" {
			req.Header.Set("Approov-Token", token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	var failures []string
	status, body, err := get(tok.valid)
	if err != nil {
		return err
	}
	if status != 200 || !strings.Contains(body, "Hello") {
		failures = append(failures, fmt.Sprintf("valid token: %d %q, want 200 from the backend", status, body))
	}
	names := []string{"no token"}
	for name := range tok.refused {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		status, body, err := get(tok.refused[name])
		if err != nil {
			return err
		}
		if status != 401 || body != "{}" {
			failures = append(failures, fmt.Sprintf("%s: %d %q, want 401 {}", name, status, body))
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("the token check at %s is not one:\n  %s", url, strings.Join(failures, "\n  "))
	}
	return nil
}
