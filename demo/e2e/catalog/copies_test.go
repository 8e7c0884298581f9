package catalog

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"testing"
)

// copiedFunctions are the functions that both plugins hold, each in its own module:
// the two modules import nothing from each other, so each keeps a copy.
var copiedFunctions = []struct{ name, middlewareFile, providerFile string }{
	{"splitList", "config.go", "provider/parse.go"},
}

// TestCopiesAcrossModulesStayTheSame compares the copies of copiedFunctions, doc
// comment aside: a change to one copy only fails here.
func TestCopiesAcrossModulesStayTheSame(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	for _, c := range copiedFunctions {
		middleware := functionSource(t, filepath.Join(root, c.middlewareFile), c.name)
		provider := functionSource(t, filepath.Join(root, c.providerFile), c.name)
		if middleware != provider {
			t.Errorf("%s differs between %s and %s:\n%s\n---\n%s", c.name, c.middlewareFile, c.providerFile, middleware, provider)
		}
	}
}

// functionSource returns the printed source of a file's top-level function, without
// its doc comment.
func functionSource(t *testing.T, file, name string) string {
	t.Helper()
	fset := token.NewFileSet()
	parsed, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range parsed.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == name {
			var out bytes.Buffer
			if err := printer.Fprint(&out, fset, fn); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
	}
	t.Fatalf("%s has no function %s", file, name)
	return ""
}
