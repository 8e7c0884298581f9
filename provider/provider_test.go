package provider

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The -update flag rewrites the golden files under testdata/. The end-to-end harness
// interprets these tests in a binary that defines -update already (its own golden
// helper, internal/golden of the middleware module), so it is defined only once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with testdata/<name>, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the generated configuration:\n%s", path, got)
	}
}

func decodeConfig(t *testing.T, text string) *Config {
	t.Helper()
	cfg := CreateConfig()
	if err := json.Unmarshal([]byte(text), cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestGeneratedConfigurationMatchesGolden(t *testing.T) {
	tests := []struct {
		golden  string
		config  string
		members map[string][]member
	}{
		{
			golden: "one-app.json",
			config: `{"apps": [{"name": "pos", "static": {"servers": ["pos-0=http://10.0.0.5:8080"]},
				"deviceAffinityPrefixes": ["/api/appId/pos/deviceId", "/api/app/pos/node"],
				"deviceIdHeader": "X-Device-Id", "deviceIdQuery": "deviceId", "storeIdPattern": "^(?P<store>[0-9]+)-",
				"strategy": "rendezvous", "affinityHeader": "X-Affinity", "missingDeviceId": "roundRobin", "rebalanceGrace": "2s",
				"router": {"rule": "Host(` + "`pos.example.com`" + `)", "entryPoints": ["web"], "priority": 10, "middlewares": ["auth@file"]}}]}`,
			members: map[string][]member{"pos": {
				{Name: "pos-2", URL: "http://10.0.0.7:8080"},
				{Name: "pos-0", URL: "http://10.0.0.5:8080"},
				{Name: "pos-1", URL: "http://10.0.0.6:8080"},
			}},
		},
		{
			golden: "several-apps.json",
			config: `{"middlewarePlugin": "affinity", "apps": [
				{"name": "pos", "static": {"servers": ["a=http://a"]}, "deviceAffinityPrefixes": ["/pos"]},
				{"name": "clienteling", "static": {"servers": ["a=http://a"]}},
				{"name": "inventory", "static": {"servers": ["a=http://a"]}}]}`,
			members: map[string][]member{
				"pos":         {{Name: "b", URL: "http://10.0.0.2:80"}, {Name: "a", URL: "http://10.0.0.1:80"}},
				"clienteling": {{Name: "c-0", URL: "https://c-0.example:8443"}},
			},
		},
		{
			golden: "split-routers.json",
			config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]},
				"deviceAffinityPrefixes": ["/api/appId/pos/deviceId", "/api/a@b/node"], "deviceIdHeader": "X-Device-Id",
				"stompConnectPaths": ["/api/websocket"],
				"router": {"rule": "PathPrefix(` + "`/api`" + `)", "entryPoints": ["web"], "priority": 10}}]}`,
			members: map[string][]member{"pos": {{Name: "pos-0", URL: "http://10.0.0.5:8080"}, {Name: "pos-1", URL: "http://10.0.0.6:8080"}}},
		},
		{
			golden:  "no-members.json",
			config:  `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}, "router": {"rule": "PathPrefix(` + "`/`" + `)"}}]}`,
			members: map[string][]member{"pos": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			cfg := decodeConfig(t, tt.config)
			apps, err := buildApps(cfg)
			if err != nil {
				t.Fatal(err)
			}
			data, err := encode(generate(cfg.MiddlewarePlugin, apps, tt.members))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, data)
		})
	}
}

func TestMemberOrderDoesNotChangeOutput(t *testing.T) {
	cfg := decodeConfig(t, `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}}]}`)
	apps, err := buildApps(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := member{Name: "a", URL: "http://a"}
	b := member{Name: "b", URL: "http://b"}
	first, _ := encode(generate("x", apps, map[string][]member{"pos": {a, b}}))
	second, _ := encode(generate("x", apps, map[string][]member{"pos": {b, a, b}}))
	if string(first) != string(second) {
		t.Errorf("member order or duplicates changed the output:\n%s\n%s", first, second)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		unknown map[string]interface{}
		want    string
	}{
		{name: "no apps", config: `{}`, want: "apps: no app configured"},
		{name: "empty middleware plugin", config: `{"middlewarePlugin": " ", "apps": [{"name": "a", "static": {"servers": ["a=http://a"]}}]}`, want: "middlewarePlugin"},
		{name: "unknown discovery kind", config: `{"apps": [{"name": "pos"}]}`, unknown: map[string]interface{}{"consul": map[string]interface{}{"service": "x"}}, want: `apps[0].consul: unknown discovery kind "consul"`},
		{name: "unknown key", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}}]}`, unknown: map[string]interface{}{"stratgy": "modulo"}, want: "apps[0].stratgy: unknown key"},
		{name: "no discovery kind", config: `{"apps": [{"name": "pos"}]}`, want: "apps[0]: no discovery kind"},
		{name: "two kinds", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}, "dns": {"name": "x", "port": "80"}}]}`, want: "apps[0]: static and dns are both set"},
		{name: "missing service name", config: `{"apps": [{"name": "pos", "kubernetes": {"namespace": "x", "endpoint": "https://127.0.0.1:6443", "token": "t"}}]}`, want: "apps[0].kubernetes.service: empty"},
		{name: "bad URL", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a", "b=10.0.0.1:80"]}}]}`, want: `apps[0].static.servers[1]: bad URL "10.0.0.1:80"`},
		{name: "not a pair", config: `{"apps": [{"name": "pos", "static": {"servers": ["http://a"]}}]}`, want: `apps[0].static.servers[0]: "http://a" is not a name=url pair`},
		{name: "duplicate member", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a,a=http://b"]}}]}`, want: `apps[0].static.servers[1]: duplicate member name "a"`},
		{name: "duplicate app name", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}}, {"name": "pos", "static": {"servers": ["a=http://a"]}}]}`, want: `apps[1].name: duplicate app name "pos"`},
		{name: "empty app name", config: `{"apps": [{"static": {"servers": ["a=http://a"]}}]}`, want: "apps[0].name: empty"},
		{name: "bad app name", config: `{"apps": [{"name": "p@s", "static": {"servers": ["a=http://a"]}}]}`, want: "apps[0].name:"},
		{name: "dns without port", config: `{"apps": [{"name": "pos", "dns": {"name": "pos.example"}}]}`, want: "apps[0].dns.port: empty"},
		{name: "dns bad interval", config: `{"apps": [{"name": "pos", "dns": {"name": "_http._tcp.pos", "interval": "soon"}}]}`, want: "apps[0].dns.interval"},
		{name: "dns interval that wraps around", config: `{"apps": [{"name": "pos", "dns": {"name": "_http._tcp.pos", "interval": "18446744074"}}]}`, want: "apps[0].dns.interval: \"18446744074\" is outside"},
		{name: "dns interval too short", config: `{"apps": [{"name": "pos", "dns": {"name": "_http._tcp.pos", "interval": "1ms"}}]}`, want: "apps[0].dns.interval: \"1ms\" is outside 10ms"},
		{name: "health interval too long", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}, "healthCheck": {"interval": "100000"}}]}`, want: "apps[0].healthCheck.interval"},
		{name: "health timeout wraps", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}, "healthCheck": {"timeout": "9223372036854775807"}}]}`, want: "apps[0].healthCheck.timeout"},
		{name: "app names whose services collide", config: `{"apps": [{"name": "pos", "static": {"servers": ["cx=http://a"]}}, {"name": "pos-cx", "static": {"servers": ["a=http://a"]}}]}`, want: `apps[1].name: apps "pos" and "pos-cx"`},
		{name: "app names whose services collide, longer first", config: `{"apps": [{"name": "pos-cx", "static": {"servers": ["a=http://a"]}}, {"name": "pos", "static": {"servers": ["cx=http://a"]}}]}`, want: `apps[1].name: apps "pos" and "pos-cx"`},
		{name: "dns bad resolver", config: `{"apps": [{"name": "pos", "dns": {"name": "_http._tcp.pos", "resolver": "dns-server"}}]}`, want: "apps[0].dns.resolver"},
		{name: "router without rule", config: `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a"]}, "router": {"entryPoints": ["web"]}}]}`, want: "apps[0].router.rule: empty"},
		{name: "kubernetes bad endpoint", config: `{"apps": [{"name": "pos", "kubernetes": {"service": "pos", "endpoint": "127.0.0.1:6443", "token": "t"}}]}`, want: "apps[0].kubernetes.endpoint"},
		{name: "kubernetes missing CA file", config: `{"apps": [{"name": "pos", "kubernetes": {"service": "pos", "endpoint": "https://127.0.0.1:6443", "token": "t", "certAuthFilePath": "/nonexistent/ca.crt"}}]}`, want: "apps[0].kubernetes.certAuthFilePath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := decodeConfig(t, tt.config)
			if tt.unknown != nil {
				cfg.Apps[0].Unknown = tt.unknown
			}
			p, err := New(context.Background(), cfg, "test")
			if err != nil {
				t.Fatal(err)
			}
			err = p.Init()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Init error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestListsAcceptCommaSeparatedStrings(t *testing.T) {
	cfg := decodeConfig(t, `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a, b=http://b"]},
		"deviceAffinityPrefixes": ["/x,/y"], "router": {"rule": "PathPrefix(`+"`/`"+`)", "entryPoints": ["web, websecure"]}}]}`)
	apps, err := buildApps(cfg)
	if err != nil {
		t.Fatal(err)
	}
	app := apps[0]
	if got := len(app.source.(*staticSource).members); got != 2 {
		t.Errorf("servers: %d members, want 2", got)
	}
	if got := strings.Join(app.options.DeviceAffinityPrefixes, "|"); got != "/x|/y" {
		t.Errorf("deviceAffinityPrefixes = %q", got)
	}
	if got := strings.Join(app.router.EntryPoints, "|"); got != "web|websecure" {
		t.Errorf("router.entryPoints = %q", got)
	}
}
