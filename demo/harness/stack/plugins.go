package stack

import (
	"os"
	"path/filepath"
)

// Plugin aliases and module names, as the static configuration names them. Each
// plugin is a module of its own, because the plugin catalog serves one plugin per
// repository.
const (
	MiddlewareAlias  = "storeaffinity"
	MiddlewareModule = "github.com/storeaffinity/storeaffinity"
	ProviderAlias    = "storeaffinityprovider"
	ProviderModule   = "github.com/storeaffinity/storeaffinity-provider"
	ProviderObjectAt = "@plugin-" + ProviderAlias
)

// PluginModule is one plugin module and its folder in this repository.
type PluginModule struct {
	Path string // the module path, as in its go.mod
	Dir  string // the folder, relative to the repository root
}

// PluginModules are the two plugin modules, middleware first.
var PluginModules = []PluginModule{
	{Path: MiddlewareModule, Dir: "."},
	{Path: ProviderModule, Dir: "provider"},
}

// localVersion is the version the module zips of a checkout are built for.
const localVersion = "v0.0.0-local"

// InstallPlugins lays out both plugins under <workDir>/plugins-local, where Traefik
// looks for local plugins, exactly as Traefik's plugin manager lays out a downloaded
// plugin: the module zip, unpacked into src/<module>.
func InstallPlugins(workDir string) error {
	return UnpackPlugins(filepath.Join(workDir, "plugins-local"))
}

// UnpackPlugins builds the module zip of each plugin from the checkout's files (those
// git tracks or would track) and unpacks it into gopath/src/<module>, the GOPATH that
// Traefik, or a test's Yaegi interpreter, reads the plugins from.
func UnpackPlugins(gopath string) error {
	archives, err := os.MkdirTemp("", "storeaffinity-zips-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(archives) }()
	for _, m := range PluginModules {
		zipPath := filepath.Join(archives, filepath.Base(m.Path)+".zip")
		if err := BuildModuleZip(zipPath, m, localVersion, ""); err != nil {
			return err
		}
		if err := UnpackModuleZip(gopath, m.Path, localVersion, zipPath); err != nil {
			return err
		}
	}
	return nil
}

// PluginDir returns the folder of module below gopath, where UnpackPlugins puts it.
func PluginDir(gopath, module string) string {
	return filepath.Join(gopath, "src", filepath.FromSlash(module))
}
