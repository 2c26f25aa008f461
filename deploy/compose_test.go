package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// composeFile is the part of the Compose specification compose.yaml uses.
// It is decoded strictly: a key it lacks fails the tests, so that a
// misspelt key (enviroment:) cannot pass unnoticed. A new key goes here,
// with a check when it matters.
type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Networks map[string]composeNetwork `json:"networks"`
}

type composeService struct {
	Image       string            `json:"image"`
	Build       *composeBuild     `json:"build"`
	EnvFile     string            `json:"env_file"`
	Environment map[string]string `json:"environment"`
	Ports       []string          `json:"ports"`
	Volumes     []string          `json:"volumes"`
	Networks    []string          `json:"networks"`
	DependsOn   []string          `json:"depends_on"`
	ReadOnly    bool              `json:"read_only"`
	Tmpfs       []string          `json:"tmpfs"`
	CapDrop     []string          `json:"cap_drop"`
	SecurityOpt []string          `json:"security_opt"`
	Restart     string            `json:"restart"`
}

type composeBuild struct {
	Context    string `json:"context"`
	Dockerfile string `json:"dockerfile"`
	Target     string `json:"target"`
}

type composeNetwork struct {
	Internal bool `json:"internal"`
	IPAM     *struct {
		Config []struct {
			Subnet string `json:"subnet"`
		} `json:"config"`
	} `json:"ipam"`
}

func loadCompose(t *testing.T) (composeFile, string) {
	t.Helper()
	text := readRepoFile(t, "compose.yaml")
	var c composeFile
	if err := yaml.UnmarshalStrict([]byte(text), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c, text
}

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`)

// publishedPort returns the host and container ports of a "HOST:PORT:PORT"
// mapping.
func publishedPort(t *testing.T, service, mapping string) (host, port string) {
	t.Helper()
	i := strings.LastIndex(mapping, ":")
	h, _, err := net.SplitHostPort(mapping[:i])
	if err != nil {
		t.Fatalf("compose.yaml %s: port %s: want HOST:PORT:PORT", service, mapping)
	}
	return h, mapping[i+1:]
}

// The three services are wired as the comments say: nginx to the gateway
// to Django, Django reachable through the gateway only, each setting a real
// one and no secret written into the file.
func TestCompose(t *testing.T) {
	c, text := loadCompose(t)
	byEnv, _ := settings(t)
	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"django", "gateway", "nginx"}) {
		t.Fatalf("compose.yaml services %q, want django, gateway and nginx", names)
	}
	nginx, gateway, django := c.Services["nginx"], c.Services["gateway"], c.Services["django"]

	// Builds: the gateway from the Dockerfile's default target, Django
	// from its Dockerfile, with sources that exist.
	if b := gateway.Build; b == nil || b.Context != "." || b.Dockerfile != "Dockerfile" || b.Target != "gateway" {
		t.Errorf("gateway: build %+v, want the Dockerfile's gateway target from the repository root", gateway.Build)
	}
	if b := django.Build; b == nil || b.Context != "." || b.Dockerfile == "" {
		t.Errorf("django: build %+v, want a Dockerfile built from the repository root", django.Build)
	} else {
		djangoStages := parseDockerfile(t, readRepoFile(t, b.Dockerfile))
		for _, copy := range djangoStages[len(djangoStages)-1].all("COPY") {
			src := strings.Fields(copy)[0]
			if _, err := os.Stat(repoPath(src)); err != nil {
				t.Errorf("%s: COPY %s: %v", b.Dockerfile, src, err)
			}
		}
	}
	for name, s := range c.Services {
		if s.Image == "" {
			t.Errorf("%s: no image", name)
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if _, err := os.Stat(repoPath(src)); err != nil || !strings.HasSuffix(v, ":ro") {
				t.Errorf("%s: volume %s: want a file of the repository, read-only", name, v)
			}
		}
		for _, p := range s.Ports {
			if host, _ := publishedPort(t, name, p); host != "127.0.0.1" {
				t.Errorf("%s: port %s published beyond this host", name, p)
			}
		}
		for env, value := range s.Environment {
			if strings.HasPrefix(env, "APPROOV_") {
				checkEnvName(t, "compose.yaml "+name, env)
			}
			if (byEnv[env].secret || strings.Contains(env, "SECRET")) && !strings.HasPrefix(value, "${"+env) {
				t.Errorf("%s: %s is written into compose.yaml: take it from .env", name, env)
			}
		}
	}

	// Confinement of the two services built here.
	for _, name := range []string{"gateway", "django"} {
		s := c.Services[name]
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") || !slices.Contains(s.Tmpfs, "/tmp") {
			t.Errorf("%s: want read_only, cap_drop ALL, no-new-privileges and a tmpfs on /tmp", name)
		}
	}

	// Networks: nginx and the gateway on edge, the gateway and Django on
	// backend, which has no way out. The gateway trusts nginx's network.
	if !slices.Equal(nginx.Networks, []string{"edge"}) || !slices.Equal(gateway.Networks, []string{"edge", "backend"}) || !slices.Equal(django.Networks, []string{"backend"}) {
		t.Error("networks: want nginx on edge, the gateway on edge and backend, Django on backend only")
	}
	if !c.Networks["backend"].Internal {
		t.Error("the backend network must be internal")
	}
	edge := c.Networks["edge"].IPAM
	if edge == nil || len(edge.Config) != 1 || gateway.Environment["APPROOV_TRUSTED_PROXIES"] != edge.Config[0].Subnet {
		t.Error("the gateway's APPROOV_TRUSTED_PROXIES must be the edge network's subnet, fixed in its ipam")
	}

	// Addresses: nginx → gateway → Django agree, and the admin port is the
	// one published.
	if gateway.EnvFile != ".env" {
		t.Errorf("gateway: env_file %q, want .env, as .env.example says", gateway.EnvFile)
	}
	listen := gateway.Environment["APPROOV_LISTEN"]
	if _, port, err := net.SplitHostPort(listen); err != nil || !strings.Contains(readRepoFile(t, "deploy", "compose", "nginx.conf"), "server gateway:"+port+";") {
		t.Errorf("nginx.conf does not send to gateway:PORT of APPROOV_LISTEN=%s", listen)
	}
	if _, port, _ := net.SplitHostPort(gateway.Environment["APPROOV_ADMIN_LISTEN"]); len(gateway.Ports) != 1 || !strings.HasSuffix(gateway.Ports[0], ":"+port) {
		t.Errorf("gateway: ports %q, want the admin port, %s", gateway.Ports, port)
	}
	upstream, err := url.Parse(gateway.Environment["APPROOV_UPSTREAM"])
	if err != nil || c.Services[upstream.Hostname()].Build == nil {
		t.Fatalf("gateway: APPROOV_UPSTREAM=%s is not a service of compose.yaml", gateway.Environment["APPROOV_UPSTREAM"])
	}
	djangoStages := parseDockerfile(t, readRepoFile(t, django.Build.Dockerfile))
	if cmd := strings.Join(djangoStages[len(djangoStages)-1].all("CMD"), ""); !strings.Contains(cmd, `"--bind", "0.0.0.0:`+upstream.Port()+`"`) {
		t.Errorf("django: gunicorn does not listen on port %s of its container, the gateway's upstream", upstream.Port())
	}
	if allowed := django.Environment["DJANGO_ALLOWED_HOSTS"]; !slices.Contains(strings.Split(allowed, ","), upstream.Hostname()) {
		t.Errorf("django: DJANGO_ALLOWED_HOSTS=%s lacks %s, the Host the gateway sends", allowed, upstream.Hostname())
	}
	if !slices.Contains(nginx.DependsOn, "gateway") {
		t.Error("nginx must start after the gateway: it resolves gateway when it starts")
	}

	// Every variable compose.yaml takes from .env is in .env.example.
	set, _ := envExample(t)
	for _, m := range interpolation.FindAllStringSubmatch(text, -1) {
		if _, ok := set[m[1]]; !ok {
			t.Errorf("compose.yaml uses ${%s}, which .env.example does not set", m[1])
		}
	}
	for name, value := range django.Environment {
		if strings.HasPrefix(name, "APPROOV_") && byEnv[name].secret && !strings.HasPrefix(value, "${"+name+":?") {
			t.Errorf("django: %s: want ${%s:?…}, so that compose stops when .env lacks it", name, name)
		}
	}
}

// interpolate replaces ${NAME}, ${NAME:-default} and ${NAME:?error} with
// NAME's value in env, as compose does from .env.
func interpolate(t *testing.T, value string, env map[string]string) string {
	t.Helper()
	return regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[-?][^}]*)?\}`).ReplaceAllStringFunc(value, func(ref string) string {
		name := interpolation.FindStringSubmatch(ref)[1]
		v, ok := env[name]
		if !ok || v == "" {
			t.Fatalf("compose.yaml: ${%s} without a value in the test's .env", name)
		}
		return v
	})
}

// The three services of compose.yaml with their own configuration, on
// loopback instead of in containers: Debian's nginx with nginx.conf, the
// gateway with the environment compose gives it, gunicorn with the Django
// example as its Dockerfile runs it. Only the addresses differ: each
// service's name and port becomes a free loopback port.
func TestComposeStack(t *testing.T) {
	requirePrograms(t, "nginx", "gunicorn")
	c, _ := loadCompose(t)
	gatewaySvc, djangoSvc := c.Services["gateway"], c.Services["django"]
	dir := t.TempDir()

	// .env, as a newcomer fills in .env.example.
	dotenv, _ := envExample(t)
	for name, value := range dotenv {
		if value == "" {
			dotenv[name] = randomKey(t, 64)
		}
	}
	djangoAddr, gatewayAddr, adminAddr, nginxAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)

	// Django, from the example's directory, which its Dockerfile copies.
	stages := parseDockerfile(t, readRepoFile(t, djangoSvc.Build.Dockerfile))
	var argv []string
	if err := json.Unmarshal([]byte(strings.Join(stages[len(stages)-1].all("CMD"), "")), &argv); err != nil {
		t.Fatal(err)
	}
	i := slices.Index(argv, "--bind")
	argv[i+1] = djangoAddr
	var djangoEnv []string
	for name, value := range djangoSvc.Environment {
		value = interpolate(t, value, dotenv)
		if name == "DJANGO_ALLOWED_HOSTS" {
			value = "127.0.0.1"
		}
		djangoEnv = append(djangoEnv, name+"="+value)
	}
	// approov_django, which the image pip-installs, from the repository.
	pythonDir, err := filepath.Abs(repoPath("python"))
	if err != nil {
		t.Fatal(err)
	}
	djangoEnv = append(djangoEnv, "PYTHONPATH="+pythonDir)
	django := start(t, repoPath("examples", "django"), djangoEnv, argv[0], argv[1:]...)

	// The gateway: .env, then compose's environment, addresses moved.
	moved := map[string]string{
		"APPROOV_UPSTREAM":        "http://" + djangoAddr,
		"APPROOV_LISTEN":          gatewayAddr,
		"APPROOV_ADMIN_LISTEN":    adminAddr,
		"APPROOV_TRUSTED_PROXIES": "127.0.0.1/32",
	}
	gatewayEnv := maps.Clone(dotenv)
	for name, value := range gatewaySvc.Environment {
		if v, ok := moved[name]; ok {
			value = v
		}
		gatewayEnv[name] = interpolate(t, value, dotenv)
	}
	var env []string
	for name, value := range gatewayEnv {
		env = append(env, name+"="+value)
	}
	gateway := start(t, dir, env, gatewayBinary(t), "serve")

	// nginx, with nginx.conf as compose mounts it.
	site := readRepoFile(t, "deploy", "compose", "nginx.conf")
	for old, new := range map[string]string{"server gateway:8002;": "server " + gatewayAddr + ";", "listen 80;": "listen " + nginxAddr + ";"} {
		if !strings.Contains(site, old) {
			t.Fatalf("nginx.conf has no %q to move", old)
		}
		site = strings.ReplaceAll(site, old, new)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, site)), 0o600); err != nil {
		t.Fatal(err)
	}
	nginx := start(t, dir, nil, "nginx", "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf)

	waitHTTP(t, django, "http://"+djangoAddr+"/healthz", 401, 30*time.Second) // no assertion, no entry
	waitHTTP(t, gateway, "http://"+adminAddr+"/readyz", 200, 15*time.Second)
	waitHTTP(t, nginx, "http://"+nginxAddr+"/", 401, 15*time.Second)

	tokenGen := exec.Command(gatewayBinary(t), "token", "gen", "--did", "compose-phone")
	tokenGen.Dir = dir
	tokenGen.Env = append(baseEnv(), "APPROOV_BASE64_SECRET="+dotenv["APPROOV_BASE64_SECRET"])
	token, err := tokenGen.Output()
	if err != nil {
		t.Fatalf("token gen: %v", err)
	}

	get := func(path string, header map[string]string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+nginxAddr+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	if status, _, body := get("/", nil); status != 401 || body != "{}" {
		t.Errorf("no token: %d %s, want 401 {}", status, body)
	}
	status, _, body := get("/whoami", map[string]string{"Approov-Token": strings.TrimSpace(string(token)), "Approov-Device-Id": "forged"})
	var who struct {
		DeviceID string `json:"device_id"`
		Verified bool   `json:"verified"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &who) != nil || who.DeviceID != "compose-phone" || !who.Verified {
		t.Errorf("valid token, forged device id: %d %s, want 200 and the token's device, verified", status, body)
	}

	// The gateway stopped: nginx answers JSON, not its HTML page.
	gateway.stop()
	if status, contentType, body := get("/", nil); status != 503 || contentType != "application/json" || body != `{"error":"unavailable"}` {
		t.Errorf("gateway stopped: %d %s %s, want 503 with JSON", status, contentType, body)
	}
}
