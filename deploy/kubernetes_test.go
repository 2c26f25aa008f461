package deploy

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const kubernetesDir = "deploy/kubernetes"

// manifests are the objects of deploy/kubernetes, one of each kind.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeManifest decodes one YAML document into the k8s.io/api type of its
// kind, refusing fields the type does not have and keys given twice: a
// misspelt field would otherwise be dropped without a word, by this test
// and by kubectl apply alike.
func decodeManifest(doc []byte) (any, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	var obj any
	switch head.APIVersion + " " + head.Kind {
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 Secret":
		obj = &corev1.Secret{}
	default:
		return nil, fmt.Errorf("apiVersion %q kind %q: not a kind these manifests use", head.APIVersion, head.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob(repoPath(kubernetesDir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", kubernetesDir, err)
	}
	var m manifests
	once := func(file string, have bool) {
		if have {
			t.Fatalf("%s: a second object of a kind the tests expect once", file)
		}
	}
	for _, file := range files {
		if !strings.HasSuffix(file, ".yaml") {
			t.Fatalf("%s: not a .yaml file", file)
		}
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range documentSeparator.Split(string(text), -1) {
			if isEmptyYAML(doc) {
				continue
			}
			obj, err := decodeManifest([]byte(doc))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			switch o := obj.(type) {
			case *appsv1.Deployment:
				once(file, m.deployment != nil)
				m.deployment = o
			case *corev1.Service:
				once(file, m.service != nil)
				m.service = o
			case *corev1.ConfigMap:
				once(file, m.configMap != nil)
				m.configMap = o
			case *corev1.Secret:
				once(file, m.secret != nil)
				m.secret = o
			}
		}
	}
	if m.deployment == nil || m.service == nil || m.configMap == nil || m.secret == nil {
		t.Fatalf("%s: want a Deployment, a Service, a ConfigMap and a Secret", kubernetesDir)
	}
	return m
}

func isEmptyYAML(doc string) bool {
	for line := range strings.Lines(doc) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return false
		}
	}
	return true
}

// The decoder the tests rely on refuses what kubectl would silently drop.
func TestDecodeManifestRefusesUnknownFields(t *testing.T) {
	for name, doc := range map[string]string{
		"misspelt field":  "apiVersion: v1\nkind: Service\nspec:\n  prots: []\n",
		"misplaced field": "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      readOnlyRootFilesystem: true\n",
		"key twice":       "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: x\n  a: y\n",
		"unknown kind":    "apiVersion: v1\nkind: Pod\n",
	} {
		if _, err := decodeManifest([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

func container(t *testing.T, pod *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range pod.Containers {
		if pod.Containers[i].Name == name {
			return &pod.Containers[i]
		}
	}
	t.Fatalf("no container %q in the pod", name)
	return nil
}

// containerPort resolves a probe's or Service's port, by name or number, to
// a port of c.
func containerPort(c *corev1.Container, port string) int32 {
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return p.ContainerPort
		}
	}
	return 0
}

// listenPort returns the port of a listen address, which must be on every
// interface: the kubelet and the Service reach the pod on its own address.
func listenPort(t *testing.T, name, addr string) int32 {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil || host != "" {
		t.Fatalf("%s=%q: want :PORT", name, addr)
	}
	return int32(n)
}

// The pod and each of its containers are confined; the gateway is probed
// and reached where it listens, and reads its secrets from files.
func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	byEnv, byName := settings(t)
	pod := &m.deployment.Spec.Template.Spec
	labels := m.deployment.Spec.Template.Labels

	// The Deployment and the Service select these pods.
	for k, v := range m.deployment.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("the Deployment's selector %s=%s does not match its pods", k, v)
		}
	}
	for k, v := range m.service.Spec.Selector {
		if labels[k] != v {
			t.Errorf("the Service's selector %s=%s does not match the pods", k, v)
		}
	}

	// Confinement, of the pod and of every container.
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("the pod's securityContext must set runAsNonRoot and the RuntimeDefault seccomp profile")
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Error("enableServiceLinks must be false: a Service's variables (APPROOV_GATEWAY_PORT…) would land among the gateway's settings")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken must be false: neither container calls the API server")
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("container %s: no securityContext", c.Name)
			continue
		}
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			t.Errorf("container %s: want runAsNonRoot and a runAsUser other than 0", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("container %s: want readOnlyRootFilesystem", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container %s: want allowPrivilegeEscalation: false", c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("container %s: privileged", c.Name)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("container %s: want capabilities dropped, ALL, and none added", c.Name)
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("container %s: want the RuntimeDefault seccomp profile", c.Name)
		}
		for _, kind := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[kind]; !ok {
				t.Errorf("container %s: no %s request", c.Name, kind)
			}
			if _, ok := c.Resources.Limits[kind]; !ok {
				t.Errorf("container %s: no %s limit", c.Name, kind)
			}
		}
		if !slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.MountPath == "/tmp" }) {
			t.Errorf("container %s: no volume on /tmp, and the root filesystem is read-only", c.Name)
		}
		// Settings are real ones, and secrets come from the Secret.
		for _, e := range c.Env {
			if !strings.HasPrefix(e.Name, "APPROOV_") {
				continue
			}
			checkEnvName(t, "deployment.yaml container "+c.Name, e.Name)
			if byEnv[e.Name].secret {
				ref := e.ValueFrom
				if e.Value != "" || ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != m.secret.Name {
					t.Errorf("container %s: %s must come from the Secret %s", c.Name, e.Name, m.secret.Name)
				}
			}
		}
		for _, e := range c.Env {
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				if _, ok := m.secret.StringData[ref.SecretKeyRef.Key]; !ok || ref.SecretKeyRef.Name != m.secret.Name {
					t.Errorf("container %s: %s names key %s of Secret %s, which secret.yaml does not have", c.Name, e.Name, ref.SecretKeyRef.Key, ref.SecretKeyRef.Name)
				}
			}
		}
	}

	gateway := container(t, pod, "gateway")
	env := map[string]string{}
	for _, e := range gateway.Env {
		if e.ValueFrom != nil {
			t.Errorf("gateway: %s from valueFrom: the gateway's secrets are files, read by the *_FILE settings", e.Name)
		}
		env[e.Name] = e.Value
	}
	_, chain := imageStages(t)
	if uid := *gateway.SecurityContext.RunAsUser; !slices.Contains(chain[len(chain)-1].all("USER"), fmt.Sprintf("%d:%d", uid, uid)) {
		t.Errorf("gateway: runAsUser %d is not the image's USER", uid)
	}

	// Ports: the Service, the probes and the gateway's listeners agree.
	listen := listenPort(t, "APPROOV_LISTEN", env["APPROOV_LISTEN"])
	admin := listenPort(t, "APPROOV_ADMIN_LISTEN", env["APPROOV_ADMIN_LISTEN"])
	if containerPort(gateway, "http") != listen || containerPort(gateway, "admin") != admin {
		t.Errorf("gateway: ports http and admin are not %d and %d, where it listens", listen, admin)
	}
	for _, probe := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readinessProbe", gateway.ReadinessProbe, "/readyz"}, {"livenessProbe", gateway.LivenessProbe, "/healthz"}} {
		if probe.probe == nil || probe.probe.HTTPGet == nil {
			t.Errorf("gateway: no %s over HTTP", probe.name)
			continue
		}
		get := probe.probe.HTTPGet
		if get.Path != probe.path || containerPort(gateway, get.Port.String()) != admin {
			t.Errorf("gateway: %s GET %s on %s, want %s on the admin port %d", probe.name, get.Path, get.Port.String(), probe.path, admin)
		}
	}
	if len(m.service.Spec.Ports) != 1 || containerPort(gateway, m.service.Spec.Ports[0].TargetPort.String()) != listen {
		t.Errorf("the Service must expose the gateway's port %d only", listen)
	}
	var drain time.Duration
	if d, err := time.ParseDuration(byName["shutdown_timeout"].def); err == nil {
		drain = d
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= drain {
		t.Errorf("terminationGracePeriodSeconds must exceed shutdown_timeout's default, %v", drain)
	}

	// Files: the configuration from the ConfigMap, the secrets from the
	// Secret, mounted 0400, only the gateway's keys.
	mountOf := func(file string) (corev1.VolumeMount, corev1.Volume) {
		for _, vm := range gateway.VolumeMounts {
			if path.Dir(file) == vm.MountPath {
				for _, v := range pod.Volumes {
					if v.Name == vm.Name {
						return vm, v
					}
				}
			}
		}
		t.Fatalf("gateway: no volume mounted where %s is", file)
		return corev1.VolumeMount{}, corev1.Volume{}
	}
	for _, name := range []string{"APPROOV_SECRET_FILE", "APPROOV_ASSERTION_SECRET_FILE"} {
		file := env[name]
		vm, v := mountOf(file)
		s := v.Secret
		if s == nil || s.SecretName != m.secret.Name || !vm.ReadOnly {
			t.Errorf("gateway: %s=%s is not in the Secret %s, mounted read-only", name, file, m.secret.Name)
			continue
		}
		if s.DefaultMode == nil || *s.DefaultMode != 0o400 {
			t.Errorf("gateway: Secret volume %s: want defaultMode 0400", v.Name)
		}
		i := slices.IndexFunc(s.Items, func(k corev1.KeyToPath) bool { return k.Path == path.Base(file) })
		if i < 0 {
			t.Errorf("gateway: %s=%s: the Secret volume has no item at %s", name, file, path.Base(file))
		} else if _, ok := m.secret.StringData[s.Items[i].Key]; !ok {
			t.Errorf("gateway: %s: secret.yaml has no key %s", name, s.Items[i].Key)
		}
	}
	if psc.FSGroup == nil || *psc.FSGroup != *gateway.SecurityContext.RunAsGroup {
		t.Error("the pod's fsGroup must be the gateway's group: without it uid 65532 cannot read the Secret's files, which the kubelet writes as root's")
	}
	config := env["APPROOV_CONFIG"]
	if _, v := mountOf(config); v.ConfigMap == nil || v.ConfigMap.Name != m.configMap.Name {
		t.Errorf("gateway: APPROOV_CONFIG=%s is not in the ConfigMap %s", config, m.configMap.Name)
	}
	gatewayYAML, ok := m.configMap.Data[path.Base(config)]
	if !ok {
		t.Fatalf("the ConfigMap has no %s", path.Base(config))
	}
	var settingsYAML map[string]any
	if err := yaml.Unmarshal([]byte(gatewayYAML), &settingsYAML); err != nil {
		t.Fatalf("ConfigMap %s: %v", path.Base(config), err)
	}
	for key := range settingsYAML {
		if _, ok := byName[key]; !ok && key != "routes" && key != "keys" {
			t.Errorf("ConfigMap %s: %s is not a setting of the gateway", path.Base(config), key)
		}
	}

	// Django listens on loopback, where the gateway's upstream points, and
	// is probed through the gateway, on a route that needs no token.
	django := container(t, pod, "django")
	upstream, err := url.Parse(fmt.Sprint(settingsYAML["upstream"]))
	if err != nil || upstream.Hostname() != "127.0.0.1" {
		t.Errorf("ConfigMap: upstream %v: want Django on 127.0.0.1 in the same pod", settingsYAML["upstream"])
	} else if i := slices.Index(django.Command, "--bind"); i < 0 || i+1 >= len(django.Command) || django.Command[i+1] != upstream.Host {
		t.Errorf("django: gunicorn does not --bind %s, the gateway's upstream", upstream.Host)
	}
	if allowed := envValue(django.Env, "DJANGO_ALLOWED_HOSTS"); !slices.Contains(strings.Split(allowed, ","), upstream.Hostname()) {
		t.Errorf("django: DJANGO_ALLOWED_HOSTS=%s lacks %s, the Host the gateway sends", allowed, upstream.Hostname())
	}
	if p := django.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Port.IntValue() != int(listen) || !publicRoute(settingsYAML, "GET "+p.HTTPGet.Path) {
		t.Errorf("django: want a readiness probe through the gateway's port %d, on a public route of the ConfigMap", listen)
	}

	// The Secret ships placeholders only, which no key decoder accepts, so
	// that applying it unedited fails closed.
	if len(m.secret.Data) > 0 {
		t.Error("secret.yaml has data: ship placeholders in stringData only")
	}
	for key, value := range m.secret.StringData {
		_, err1 := base64.StdEncoding.DecodeString(value)
		_, err2 := base64.RawURLEncoding.DecodeString(value)
		if err1 == nil || err2 == nil || !strings.HasPrefix(value, "<replace") {
			t.Errorf("secret.yaml: %s is not a placeholder", key)
		}
	}
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func publicRoute(settingsYAML map[string]any, match string) bool {
	routes, _ := settingsYAML["routes"].([]any)
	for _, r := range routes {
		if route, _ := r.(map[string]any); route["match"] == match && route["mode"] == "public" {
			return true
		}
	}
	return false
}

// The gateway accepts the pod's configuration, with the files laid out as
// the kubelet lays them out: symbolic links into ..data, the secrets 0440
// as fsGroup leaves them.
func TestKubernetesCheckConfig(t *testing.T) {
	requirePrograms(t)
	m := loadManifests(t)
	pod := &m.deployment.Spec.Template.Spec
	gateway := container(t, pod, "gateway")
	root := t.TempDir()
	for _, vm := range gateway.VolumeMounts {
		dir := filepath.Join(root, vm.MountPath)
		for _, v := range pod.Volumes {
			switch {
			case v.Name != vm.Name:
			case v.ConfigMap != nil:
				kubeletFiles(t, dir, m.configMap.Data, 0o644)
			case v.Secret != nil:
				files := map[string]string{}
				for _, item := range v.Secret.Items {
					files[item.Path] = randomKey(t, 64)
				}
				kubeletFiles(t, dir, files, os.FileMode(*v.Secret.DefaultMode)|0o040)
			}
		}
	}
	var env []string
	for _, e := range gateway.Env {
		value := e.Value
		if strings.HasPrefix(value, "/") {
			value = filepath.Join(root, value)
		}
		env = append(env, e.Name+"="+value)
	}
	checkConfig(t, root, env)
}
