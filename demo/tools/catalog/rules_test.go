package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTreesThatTheCatalogRefuses writes small plugin trees that break one rule each.
func TestTreesThatTheCatalogRefuses(t *testing.T) {
	const module = "github.com/storeaffinity/storeaffinity-provider"
	good := map[string]string{
		"go.mod":       "module " + module + "\n\ngo 1.22\n",
		".traefik.yml": "displayName: P\ntype: provider\nimport: " + module + "\nbasePkg: provider\nsummary: s\ntestData:\n  a: b\n",
		"p.go":         "package provider\n",
	}
	tests := []struct {
		name    string
		change  map[string]string
		module  string
		wantErr string
	}{
		{name: "good"},
		{name: "derived basePkg does not exist", change: map[string]string{".traefik.yml": strings.Replace(good[".traefik.yml"], "basePkg: provider\n", "", 1)}, wantErr: "storeaffinity_provider.New"},
		{name: "subpackage path is not a repository", module: "github.com/storeaffinity/storeaffinity/provider",
			change:  map[string]string{"go.mod": "module github.com/storeaffinity/storeaffinity/provider\n", ".traefik.yml": strings.ReplaceAll(good[".traefik.yml"], module, "github.com/storeaffinity/storeaffinity/provider")},
			wantErr: "is not github.com/<owner>/<repo>"},
		{name: "requires yaegi", change: map[string]string{"go.mod": good["go.mod"] + "require github.com/traefik/yaegi v0.16.1\n"}, wantErr: "requires github.com/traefik/yaegi"},
		{name: "import outside the module", change: map[string]string{".traefik.yml": strings.Replace(good[".traefik.yml"], "import: "+module, "import: github.com/other/x", 1)}, wantErr: "does not start with the module path"},
		{name: "no testData", change: map[string]string{".traefik.yml": strings.Replace(good[".traefik.yml"], "testData:\n  a: b\n", "", 1)}, wantErr: "testData is empty"},
		{name: "no manifest", change: map[string]string{".traefik.yml": ""}, wantErr: ".traefik.yml at the root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range good {
				if c, ok := tt.change[name]; ok {
					content = c
				}
				if content == "" {
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := module
			if tt.module != "" {
				want = tt.module
			}
			_, err := CheckTree(dir, want)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckTree: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckTree error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestVersionsMustBeStrictSemver(t *testing.T) {
	tests := map[string]bool{
		"v0.1.0": true, "v1.2.3-rc.1": true, "v10.0.0": true,
		"0.1.0": false, "v1.2": false, "v1": false, "v1.2.3+build.5": false, "v01.2.3": false, "latest": false,
	}
	for v, ok := range tests {
		if err := CheckVersion(v); (err == nil) != ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}
