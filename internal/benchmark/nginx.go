package main

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/approov-gateway/approov/internal/e2e"
)

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
