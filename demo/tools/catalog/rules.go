// Package catalog applies to a plugin module the rules of the Traefik plugin catalog
// and the checks of Traefik's plugin manager, so that a tree that passes here installs
// from the catalog as it does from a checkout.
package catalog

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
	"gopkg.in/yaml.v3"
)

// Manifest is a plugin's .traefik.yml, as Traefik v3.6 reads it.
type Manifest struct {
	DisplayName string         `yaml:"displayName"`
	Type        string         `yaml:"type"`
	Runtime     string         `yaml:"runtime"`
	Import      string         `yaml:"import"`
	BasePkg     string         `yaml:"basePkg"`
	Summary     string         `yaml:"summary"`
	TestData    map[string]any `yaml:"testData"`
}

// repositoryPath is the form the catalog accepts as a plugin's module path.
var repositoryPath = regexp.MustCompile(`^github\.com/[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)

// CheckVersion reports whether version is a tag the catalog accepts: strict semver
// with the leading v, in canonical form (no build metadata, no shortened form).
func CheckVersion(version string) error {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("version %q is not strict semver such as v1.2.3 or v1.2.3-rc.1", version)
	}
	return nil
}

// CheckTree checks the plugin tree in dir, whose module path must be module: the
// catalog's rules for go.mod and .traefik.yml, and the package Traefik's interpreter
// will look for. It returns the manifest.
func CheckTree(dir, module string) (*Manifest, error) {
	if err := checkGoMod(dir, module); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, ".traefik.yml"))
	if err != nil {
		return nil, fmt.Errorf(".traefik.yml at the root: %w", err)
	}
	var m Manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf(".traefik.yml: %w", err)
	}
	var problems []error
	if m.Type != "middleware" && m.Type != "provider" {
		problems = append(problems, fmt.Errorf("type %q (want middleware or provider)", m.Type))
	}
	if m.Runtime != "" && m.Runtime != "yaegi" {
		problems = append(problems, fmt.Errorf("runtime %q (want yaegi)", m.Runtime))
	}
	if m.DisplayName == "" || m.Summary == "" {
		problems = append(problems, errors.New("displayName and summary are required"))
	}
	if len(m.TestData) == 0 {
		problems = append(problems, errors.New("testData is empty"))
	}
	if m.Import != module && !strings.HasPrefix(m.Import, module+"/") {
		problems = append(problems, fmt.Errorf("import %q does not start with the module path %q", m.Import, module))
	} else if err := checkBasePkg(dir, module, &m); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf(".traefik.yml of %s: %w", module, errors.Join(problems...))
	}
	return &m, nil
}

// checkGoMod checks the module path and that the module requires nothing: the
// catalog refuses traefik and yaegi, and Traefik's interpreter reads only the tree.
func checkGoMod(dir, module string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("go.mod at the root: %w", err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return err
	}
	if f.Module == nil || f.Module.Mod.Path != module {
		return fmt.Errorf("go.mod: module path is not %q", module)
	}
	if !repositoryPath.MatchString(module) {
		return fmt.Errorf("go.mod: module path %q is not github.com/<owner>/<repo>", module)
	}
	for _, r := range f.Require {
		return fmt.Errorf("go.mod of %s requires %s: a plugin module must require nothing", module, r.Mod.Path)
	}
	return nil
}

// checkBasePkg checks that the imported folder holds the package Traefik evaluates:
// basePkg, or the last element of import with '-' turned into '_'.
func checkBasePkg(dir, module string, m *Manifest) error {
	want := m.BasePkg
	if want == "" {
		want = strings.ReplaceAll(path.Base(m.Import), "-", "_")
	}
	pkgDir := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(m.Import, module), "/")))
	pkgs, err := parser.ParseDir(token.NewFileSet(), pkgDir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.PackageClauseOnly)
	if err != nil {
		return fmt.Errorf("import %q: %w", m.Import, err)
	}
	if len(pkgs) != 1 || pkgs[want] == nil {
		var names []string
		for name := range pkgs {
			names = append(names, name)
		}
		return fmt.Errorf("import %q holds package %v, but Traefik evaluates %s.New (set basePkg)", m.Import, names, want)
	}
	return nil
}
