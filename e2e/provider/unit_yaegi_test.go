package provider

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/e2e/pluginsrc"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// TestUnitTestsUnderYaegi runs the provider package's own tests, interpreted by
// Yaegi v0.16.1, so that the same tables run compiled and interpreted.
func TestUnitTestsUnderYaegi(t *testing.T) {
	gopath := t.TempDir()
	dst, err := pluginsrc.Install(gopath)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(pluginsrc.RepoRoot(), "provider")
	pkgDir := filepath.Join(dst, "provider")
	copyInto(t, src, pkgDir, func(name string) bool { return strings.HasSuffix(name, "_test.go") })
	copyInto(t, filepath.Join(src, "testdata"), filepath.Join(pkgDir, "testdata"), func(string) bool { return true })

	i := interp.New(interp.Options{GoPath: gopath, Env: os.Environ()})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	importPath := pluginsrc.Module + "/provider"
	if err := i.EvalTest(importPath); err != nil {
		t.Fatalf("interpret the provider tests: %v", err)
	}
	var names []string
	tests := make(map[string]func(*testing.T))
	for name, sym := range i.Symbols(importPath)[importPath] {
		if fn, ok := sym.Interface().(func(*testing.T)); ok && strings.HasPrefix(name, "Test") {
			names = append(names, name)
			tests[name] = fn
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no tests found")
	}
	t.Chdir(pkgDir) // the tests read testdata/
	for _, name := range names {
		t.Run(name, tests[name])
	}
}

func copyInto(t *testing.T, from, to string, keep func(string) bool) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !keep(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
