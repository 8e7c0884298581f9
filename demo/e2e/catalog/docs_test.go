package catalog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity"
	provider "github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/internal/traefikconfig"
	"golang.org/x/mod/semver"
	"gopkg.in/yaml.v3"
)

// notChecked starts the HTML comment that, on the line right before a fence, exempts
// its block: a fragment, placeholders, or YAML that configures neither plugin.
const notChecked = "<!-- not checked:"

// partOf starts the HTML comment that, on the line right before a fence, names the
// tested file that its block shows a part of: every YAML document of the block must
// be a part of one of the file's (partOfDocument).
const partOf = "<!-- part of "

// docBlock is one fenced block of a markdown file.
type docBlock struct {
	where  string // file:line of the opening fence
	lang   string
	text   string
	marked bool   // preceded by a notChecked comment
	partOf string // the file a partOf comment before it names, or ""
}

// TestDocsExamplesBuildWithThePlugins builds every YAML example of README.md and
// docs/ with the plugins' own code, so that the docs cannot drift from it: each
// middleware configuration through CreateConfig, Traefik's decoding and New, each
// provider configuration through New and Init, and the middleware options of each of
// its apps as the middleware would get them. A block that configures neither plugin
// must say so with a notChecked comment.
func TestDocsExamplesBuildWithThePlugins(t *testing.T) {
	// Kubernetes discovery defaults to the in-cluster API server; Init only checks
	// the configuration, so an address that nothing answers on is enough.
	t.Setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "6443")
	root := filepath.Join("..", "..", "..")
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	checked, skipped := 0, 0
	for _, file := range files {
		name, _ := filepath.Rel(root, file)
		blocks, err := fencedBlocks(file, filepath.ToSlash(name))
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range blocks {
			switch {
			case block.lang != "yaml" && block.lang != "yml" && block.lang != "toml":
				continue
			case block.marked:
				skipped++
			case block.partOf != "":
				checked++
				for _, err := range checkPart(filepath.Join(root, block.partOf), block) {
					t.Errorf("%s: %v", block.where, err)
				}
			case block.lang == "toml":
				t.Errorf("%s: a TOML block; write it as YAML, which this test checks", block.where)
			default:
				checked++
				for _, err := range checkBlock(t, block) {
					t.Errorf("%s: %v", block.where, err)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no YAML block to check in README.md and docs/")
	}
	t.Logf("%d blocks checked, %d marked %q and skipped", checked, skipped, notChecked+" ... -->")
}

// fencedBlocks returns the fenced blocks of a markdown file.
func fencedBlocks(path, name string) ([]docBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []docBlock
	var open *docBlock
	previous := ""
	scanner := bufio.NewScanner(f)
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case open == nil && strings.HasPrefix(trimmed, "```"):
			open = &docBlock{
				where:  fmt.Sprintf("%s:%d", name, n),
				lang:   strings.TrimSpace(strings.TrimPrefix(trimmed, "```")),
				marked: strings.HasPrefix(strings.TrimSpace(previous), notChecked),
			}
			if rest, ok := strings.CutPrefix(strings.TrimSpace(previous), partOf); ok {
				open.partOf = strings.TrimSpace(strings.TrimSuffix(rest, "-->"))
			}
		case open != nil && trimmed == "```":
			blocks = append(blocks, *open)
			open = nil
		case open != nil:
			open.text += line + "\n"
		}
		previous = line
	}
	if open != nil {
		return nil, fmt.Errorf("%s: the fence is never closed", open.where)
	}
	return blocks, scanner.Err()
}

// checkBlock decodes a YAML block and builds every plugin configuration in it.
func checkBlock(t *testing.T, block docBlock) []error {
	var errs []error
	found := 0
	decoder := yaml.NewDecoder(strings.NewReader(block.text))
	for {
		var doc map[string]any
		err := decoder.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return append(errs, fmt.Errorf("not YAML: %w", err))
		}
		n, docErrs := checkDocument(t, doc)
		found += n
		errs = append(errs, docErrs...)
	}
	if found == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("configures neither plugin; if it should not, put %s <reason> --> on the line before its fence", notChecked))
	}
	return errs
}

// checkPart checks that every YAML document of a block is a part of one of the
// documents of file, a manifest that a test applies for real.
func checkPart(file string, block docBlock) []error {
	data, err := os.ReadFile(file)
	if err != nil {
		return []error{err}
	}
	whole, err := yamlDocuments(string(data))
	if err != nil {
		return []error{fmt.Errorf("%s: %w", block.partOf, err)}
	}
	parts, err := yamlDocuments(block.text)
	if err != nil {
		return []error{fmt.Errorf("not YAML: %w", err)}
	}
	if len(parts) == 0 {
		return []error{fmt.Errorf("shows no YAML document of %s", block.partOf)}
	}
	var errs []error
	for n, part := range parts {
		found := false
		for _, doc := range whole {
			found = found || partOfDocument(part, doc)
		}
		if !found {
			errs = append(errs, fmt.Errorf("document %d is not a part of any document of %s: the docs drifted from the tested file", n+1, block.partOf))
		}
	}
	return errs
}

// yamlDocuments decodes every YAML document of text.
func yamlDocuments(text string) ([]any, error) {
	var docs []any
	decoder := yaml.NewDecoder(strings.NewReader(text))
	for {
		var doc any
		err := decoder.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

// partOfDocument reports whether part is a part of doc: a map, not empty, whose every
// key doc has, with a value that is a part of doc's; a list of as many items as doc's,
// each a part of doc's item at its place, so that a list the docs show is the whole
// list; or a value equal to doc.
func partOfDocument(part, doc any) bool {
	switch part := part.(type) {
	case map[string]any:
		docMap, ok := doc.(map[string]any)
		if !ok || len(part) == 0 {
			return false
		}
		for key, value := range part {
			if docValue, ok := docMap[key]; !ok || !partOfDocument(value, docValue) {
				return false
			}
		}
		return true
	case []any:
		docList, ok := doc.([]any)
		if !ok || len(part) != len(docList) {
			return false
		}
		for i, item := range part {
			if !partOfDocument(item, docList[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(part, doc)
}

// checkDocument finds the plugins' configuration in one YAML document: the plugins
// declared under experimental, the provider under providers.plugin, the middleware
// under http.middlewares, Helm's additionalArguments, or either on its own. It returns
// how many it found.
func checkDocument(t *testing.T, doc map[string]any) (int, []error) {
	if args, ok := doc["additionalArguments"].([]any); ok {
		if err := mergeFlags(doc, args); err != nil {
			return 0, []error{err}
		}
	}
	middlewareAliases, providerAliases, declared, errs := declaredPlugins(doc)
	found := declared

	providers, _ := doc["providers"].(map[string]any)
	plugins, _ := providers["plugin"].(map[string]any)
	for alias, config := range plugins {
		found++
		key := "providers.plugin." + alias
		if !providerAliases[alias] {
			errs = append(errs, fmt.Errorf("%s: %q is not the provider plugin's alias", key, alias))
			continue
		}
		if middleware := middlewarePluginOf(config); declared > 0 && !middlewareAliases[middleware] {
			errs = append(errs, fmt.Errorf("%s.middlewarePlugin: %q is not declared under experimental with the middleware's module", key, middleware))
		}
		errs = append(errs, checkProvider(t, key, config)...)
	}
	if _, ok := doc["apps"]; ok {
		found++
		errs = append(errs, checkProvider(t, "", doc)...)
	}

	httpConfig, _ := doc["http"].(map[string]any)
	middlewares, _ := httpConfig["middlewares"].(map[string]any)
	for name, value := range middlewares {
		middleware, _ := value.(map[string]any)
		plugin, ok := middleware["plugin"].(map[string]any)
		if !ok {
			continue
		}
		for alias, config := range plugin {
			found++
			key := "http.middlewares." + name + ".plugin." + alias
			if !middlewareAliases[alias] {
				errs = append(errs, fmt.Errorf("%s: %q is not the middleware plugin's alias", key, alias))
				continue
			}
			errs = append(errs, checkMiddleware(key, name, config)...)
		}
	}
	if len(doc) > 0 && found == 0 && len(unknownKeys(doc, reflect.TypeOf(storeaffinity.Config{}), "")) == 0 {
		found++
		errs = append(errs, checkMiddleware("", "docs", doc)...)
	}
	return found, errs
}

// declaredPlugins checks the plugins declared under experimental.plugins and
// experimental.localPlugins, and returns the aliases of each plugin (the default
// alias when the document declares none) and how many it declares.
func declaredPlugins(doc map[string]any) (middlewareAliases, providerAliases map[string]bool, declared int, errs []error) {
	middlewareAliases, providerAliases = map[string]bool{}, map[string]bool{}
	experimental, _ := doc["experimental"].(map[string]any)
	for _, kind := range []string{"plugins", "localPlugins"} {
		plugins, _ := experimental[kind].(map[string]any)
		for alias, value := range plugins {
			declared++
			plugin, _ := value.(map[string]any)
			module, _ := plugin["moduleName"].(string)
			version, _ := plugin["version"].(string)
			switch module {
			case stack.MiddlewareModule:
				middlewareAliases[alias] = true
			case stack.ProviderModule:
				providerAliases[alias] = true
			default:
				errs = append(errs, fmt.Errorf("experimental.%s.%s.moduleName: %q is neither plugin's module", kind, alias, module))
			}
			if kind == "plugins" && !semver.IsValid(version) {
				errs = append(errs, fmt.Errorf("experimental.plugins.%s.version: %q is no semantic version", alias, version))
			}
		}
	}
	if len(middlewareAliases) == 0 {
		middlewareAliases["storeaffinity"] = true
	}
	if len(providerAliases) == 0 {
		providerAliases["storeaffinityprovider"] = true
	}
	return middlewareAliases, providerAliases, declared, errs
}

// checkMiddleware builds the configuration of the middleware name as Traefik does,
// with a next handler that does nothing.
func checkMiddleware(key, name string, config any) []error {
	values, ok := config.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("%s: not a map of options", orTop(key))}
	}
	var errs []error
	for _, unknown := range unknownKeys(values, reflect.TypeOf(storeaffinity.Config{}), key) {
		errs = append(errs, fmt.Errorf("%s: no middleware key; Traefik would drop it silently", unknown))
	}
	cfg := storeaffinity.CreateConfig()
	if err := traefikconfig.Decode(values, cfg); err != nil {
		return append(errs, fmt.Errorf("%s: %w", orTop(key), err))
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if _, err := storeaffinity.New(context.Background(), next, cfg, name); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", orTop(key), err))
	}
	return errs
}

// checkProvider builds a provider configuration as Traefik does (New, then Init), and
// each app's middleware options as the provider passes them through, with the keys
// it fills itself.
func checkProvider(t *testing.T, key string, config any) []error {
	values, ok := config.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("%s: not a map of options", orTop(key))}
	}
	var errs []error
	for _, unknown := range unknownKeys(values, reflect.TypeOf(provider.Config{}), key) {
		errs = append(errs, fmt.Errorf("%s: no provider key; Traefik would drop it silently", unknown))
	}
	cfg := provider.CreateConfig()
	if err := stack.DecodePluginConfig(values, cfg); err != nil {
		return append(errs, fmt.Errorf("%s: %w", orTop(key), err))
	}
	for i := range cfg.Apps {
		// A token file of the pod's, such as a mounted Secret, is not on this machine.
		if k := cfg.Apps[i].Kubernetes; k != nil && k.TokenFile != "" {
			if _, err := os.Stat(k.TokenFile); err != nil {
				k.TokenFile = filepath.Join(t.TempDir(), "token")
				if err := os.WriteFile(k.TokenFile, []byte("token"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	p, err := provider.New(context.Background(), cfg, "storeaffinityprovider")
	if err == nil {
		err = p.Init()
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", orTop(key), err))
	}
	prefix := key
	if prefix != "" {
		prefix += "."
	}
	apps, _ := values["apps"].([]any)
	for i, value := range apps {
		app, _ := value.(map[string]any)
		name := fmt.Sprint(app["name"])
		options := map[string]any{"stickyCookie": name + "_affinity", "app": name}
		for option, setting := range app {
			if !providerOwnKeys[option] {
				options[option] = setting
			}
		}
		errs = append(errs, checkMiddleware(fmt.Sprintf("%sapps[%d]", prefix, i), name+"-affinity", options)...)
	}
	return errs
}

// middlewarePluginOf returns a provider configuration's middlewarePlugin, or its default.
func middlewarePluginOf(config any) string {
	values, _ := config.(map[string]any)
	if alias, ok := values["middlewarePlugin"].(string); ok {
		return alias
	}
	return provider.CreateConfig().MiddlewarePlugin
}

// unknownKeys returns the keys of values, and of the maps nested in it, that match no
// field of the struct type, as Traefik matches them: by field name or JSON key, in any
// case. A struct with a ",remain" field takes every key and refuses them itself.
func unknownKeys(values map[string]any, typ reflect.Type, key string) []string {
	var unknown []string
	for name, value := range values {
		path := strings.TrimPrefix(key+"."+name, ".")
		field, ok := fieldOf(typ, name)
		if !ok {
			if !hasRemain(typ) {
				unknown = append(unknown, path)
			}
			continue
		}
		fieldType := field.Type
		if fieldType.Kind() == reflect.Pointer {
			fieldType = fieldType.Elem()
		}
		switch nested := value.(type) {
		case map[string]any:
			if fieldType.Kind() == reflect.Struct {
				unknown = append(unknown, unknownKeys(nested, fieldType, path)...)
			}
		case []any:
			if fieldType.Kind() == reflect.Slice && fieldType.Elem().Kind() == reflect.Struct {
				for i, item := range nested {
					if m, isMap := item.(map[string]any); isMap {
						unknown = append(unknown, unknownKeys(m, fieldType.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
					}
				}
			}
		}
	}
	sort.Strings(unknown)
	return unknown
}

func fieldOf(typ reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < typ.NumField(); i++ {
		field := typ.Field(i)
		jsonName, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if jsonName != "-" && (strings.EqualFold(jsonName, name) || strings.EqualFold(field.Name, name)) {
			return field, true
		}
	}
	return reflect.StructField{}, false
}

func hasRemain(typ reflect.Type) bool {
	for i := 0; i < typ.NumField(); i++ {
		if strings.Contains(typ.Field(i).Tag.Get("mapstructure"), ",remain") {
			return true
		}
	}
	return false
}

// mergeFlags adds Traefik command-line flags, such as the Helm chart's
// additionalArguments (--providers.plugin.a.apps[0].name=pos), to doc as the static
// configuration they stand for.
func mergeFlags(doc map[string]any, args []any) error {
	for _, arg := range args {
		flag, _ := arg.(string)
		if !strings.HasPrefix(flag, "--") {
			return fmt.Errorf("additionalArguments: %q is no flag", flag)
		}
		path, value, found := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		if !found {
			value = "true"
		}
		var current any = doc
		segments := strings.Split(path, ".")
		for i, segment := range segments {
			last := i == len(segments)-1
			name, index := segment, -1
			if open := strings.Index(segment, "["); open > 0 && strings.HasSuffix(segment, "]") {
				n, err := strconv.Atoi(segment[open+1 : len(segment)-1])
				if err != nil || n < 0 {
					return fmt.Errorf("additionalArguments: %q has a bad index", flag)
				}
				name, index = segment[:open], n
			}
			m, ok := current.(map[string]any)
			if !ok {
				return fmt.Errorf("additionalArguments: %q sets a value inside another value", flag)
			}
			if index < 0 {
				if last {
					m[name] = value
				} else if _, exists := m[name]; !exists {
					m[name] = map[string]any{}
				}
				current = m[name]
				continue
			}
			list, _ := m[name].([]any)
			for len(list) <= index {
				list = append(list, map[string]any{})
			}
			if last {
				list[index] = value
			}
			m[name] = list
			current = list[index]
		}
	}
	return nil
}

func orTop(key string) string {
	if key == "" {
		return "the block"
	}
	return key
}
