package provider

import (
	"encoding/json"
	"github.com/storeaffinity/storeaffinity/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"gopkg.in/yaml.v3"
)

// manifestTestData reads testData from provider/.traefik.yml.
func manifestTestData(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stack.RepoRoot(), "provider", ".traefik.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		DisplayName string         `yaml:"displayName"`
		Type        string         `yaml:"type"`
		Import      string         `yaml:"import"`
		Summary     string         `yaml:"summary"`
		TestData    map[string]any `yaml:"testData"`
	}
	if err := yaml.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.Type != "provider" || manifest.Import != stack.ProviderModule || manifest.DisplayName == "" || manifest.Summary == "" || len(manifest.TestData) == 0 {
		t.Fatalf("manifest lacks type: provider, import, displayName, summary or testData: %+v", manifest)
	}
	return manifest.TestData
}

func TestManifestTestDataEmitsGoldenConfiguration(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			r := start(t, newProvider(t, runtime, manifestTestData(t)))
			e := r.waitMembers(t, "pos", "pos-pos-0=http://127.0.0.1:8081,pos-pos-1=http://127.0.0.1:8082", 10*time.Second)
			golden.Check(t, filepath.Join("testdata", "manifest.json"), e.raw)
			r.expectQuiet(t, 300*time.Millisecond)
		})
	}
}

func TestCommaSeparatedListsDecodeAsTraefikDoes(t *testing.T) {
	config := map[string]any{
		"apps": []any{map[string]any{
			"name":                   "pos",
			"static":                 map[string]any{"servers": "a=http://10.0.0.1:80,b=http://10.0.0.2:80"},
			"deviceAffinityPrefixes": []any{"/x, /y"}, // a list item that holds a comma-separated list
		}},
	}
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			r := start(t, newProvider(t, runtime, config))
			e := r.waitMembers(t, "pos", "pos-a=http://10.0.0.1:80,pos-b=http://10.0.0.2:80", 10*time.Second)
			var emitted struct {
				HTTP struct {
					Middlewares map[string]struct {
						Plugin map[string]struct {
							DeviceAffinityPrefixes []string `json:"deviceAffinityPrefixes"`
						} `json:"plugin"`
					} `json:"middlewares"`
				} `json:"http"`
			}
			if err := json.Unmarshal(e.raw, &emitted); err != nil {
				t.Fatal(err)
			}
			got := emitted.HTTP.Middlewares["pos-affinity"].Plugin["storeaffinity"].DeviceAffinityPrefixes
			if strings.Join(got, " ") != "/x /y" {
				t.Errorf("deviceAffinityPrefixes passed through as %q, want the list split into [/x /y]:\n%s", got, e.raw)
			}
		})
	}
}

func TestConfigurationErrorsFailInit(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		want   string
	}{
		{
			name: "unknown discovery kind",
			config: map[string]any{"apps": []any{map[string]any{
				"name": "pos", "consul": map[string]any{"service": "pos"},
			}}},
			want: `apps[0].consul: unknown discovery kind "consul"`,
		},
		{
			name: "two kinds",
			config: map[string]any{"apps": []any{map[string]any{
				"name": "pos", "static": map[string]any{"servers": "a=http://a"}, "dns": map[string]any{"name": "pos", "port": 80},
			}}},
			want: "apps[0]: static and dns are both set",
		},
		{
			name: "missing service name",
			config: map[string]any{"apps": []any{map[string]any{
				"name": "pos", "kubernetes": map[string]any{"namespace": "x", "endpoint": "https://127.0.0.1:1", "token": "t"},
			}}},
			want: "apps[0].kubernetes.service: empty",
		},
		{
			name: "bad URL",
			config: map[string]any{"apps": []any{map[string]any{
				"name": "pos", "static": map[string]any{"servers": []any{"a=ftp://a"}},
			}}},
			want: `apps[0].static.servers[0]: bad URL "ftp://a"`,
		},
		{
			name: "duplicate app name",
			config: map[string]any{"apps": []any{
				map[string]any{"name": "pos", "static": map[string]any{"servers": "a=http://a"}},
				map[string]any{"name": "pos", "static": map[string]any{"servers": "a=http://a"}},
			}},
			want: `apps[1].name: duplicate app name "pos"`,
		},
	}
	for _, tt := range tests {
		for _, runtime := range runtimes {
			t.Run(tt.name+"/"+runtime, func(t *testing.T) {
				err := newProvider(t, runtime, tt.config).Init()
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Init error = %v, want it to contain %q", err, tt.want)
				}
			})
		}
	}
}
