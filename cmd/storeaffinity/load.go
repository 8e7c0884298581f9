package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/traefik/paerser/cli"
	"github.com/traefik/paerser/file"
	"github.com/traefik/paerser/flag"
	"github.com/traefik/paerser/parser"
	"gopkg.in/yaml.v3"
)

// envPrefix is the prefix of the environment variables read when no file and no flag
// is given, as TRAEFIK_ is for Traefik: STOREAFFINITY_MEMBERS=pos-0,pos-1.
const envPrefix = "STOREAFFINITY_"

// configFileFlag is the flag that names a configuration file (TOML or YAML).
const configFileFlag = "configfile"

// loaders returns the configuration sources in Traefik's order: the first one that finds
// something wins, and the others are not read.
func loaders() []cli.ResourceLoader {
	return []cli.ResourceLoader{&fileLoader{}, &flagLoader{}, &cli.EnvLoader{Prefix: envPrefix}}
}

// flagLoader decodes the flags like paerser's cli.FlagLoader, and names the flag whose
// value does not decode.
type flagLoader struct{}

// Load implements cli.ResourceLoader.
func (flagLoader) Load(args []string, cmd *cli.Command) (bool, error) {
	given, err := flag.Parse(args, cmd.Configuration)
	if err != nil || len(given) == 0 {
		return false, err
	}
	known, err := flagNames(cmd.Configuration)
	if err != nil {
		return false, err
	}
	if err := noEnvBeside("flags", known); err != nil {
		return false, err
	}
	if err := flag.Decode(args, cmd.Configuration); err != nil {
		for key, value := range given {
			probe := reflect.New(reflect.TypeOf(cmd.Configuration).Elem()).Interface()
			if flag.Decode([]string{"--" + strings.TrimPrefix(key, parser.DefaultRootName+".") + "=" + value}, probe) != nil {
				name := strings.TrimPrefix(key, parser.DefaultRootName+".")
				return false, fmt.Errorf("--%s: invalid value %q", name, value)
			}
		}
		return false, err
	}
	return true, nil
}

// fileLoader checks every flag name, then loads the file given by --configFile, if any.
// A file replaces the other flags, so combining them is an error rather than a surprise.
type fileLoader struct{}

// Load implements cli.ResourceLoader.
func (fileLoader) Load(args []string, cmd *cli.Command) (bool, error) {
	given, err := flag.Parse(args, cmd.Configuration)
	if err != nil {
		return false, fmt.Errorf("%w (see %s --help)", err, cmd.Name)
	}
	known, err := flagNames(cmd.Configuration)
	if err != nil {
		return false, err
	}
	var path string
	var others []string
	for key, value := range given {
		name := strings.TrimPrefix(strings.ToLower(key), parser.DefaultRootName+".")
		if !known[name] {
			return false, fmt.Errorf("unknown flag --%s (see %s --help)", strings.TrimPrefix(key, parser.DefaultRootName+"."), cmd.Name)
		}
		if name == configFileFlag {
			path = value
			continue
		}
		others = append(others, name)
	}
	if path == "" {
		return false, nil
	}
	if len(others) > 0 {
		sort.Strings(others)
		return false, fmt.Errorf("flag --%s cannot be combined with --configFile: set it in %s", others[0], path)
	}
	if err := noEnvBeside("--configFile", known); err != nil {
		return false, err
	}
	if err := checkFileKeys(path, known); err != nil {
		return false, err
	}
	if err := file.Decode(path, cmd.Configuration); err != nil {
		return false, fmt.Errorf("--configFile %s: %w", path, err)
	}
	return true, nil
}

// noEnvBeside refuses a STOREAFFINITY_* variable that names one of the command's
// flags beside another source: as in Traefik, the first source that holds something
// is the only one read, and a variable that is silently not read would give another
// answer than the user expects. Other STOREAFFINITY_* variables (the build's cache,
// say) are no settings of the command.
func noEnvBeside(source string, known map[string]bool) error {
	for _, pair := range os.Environ() {
		name, _, _ := strings.Cut(pair, "=")
		flag := strings.ToLower(strings.TrimPrefix(name, envPrefix))
		if strings.HasPrefix(name, envPrefix) && known[flag] && flag != configFileFlag {
			return fmt.Errorf("%s is set beside %s: the CLI reads one source (--configFile, flags, or %s* variables); unset it, or give its value as a flag", name, source, envPrefix)
		}
	}
	return nil
}

// flagNames returns the lower-case flag names of a configuration.
func flagNames(config any) (map[string]bool, error) {
	flats, err := flag.Encode(config)
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(flats))
	for _, f := range flats {
		names[strings.ToLower(f.Name)] = true
	}
	return names, nil
}

// checkFileKeys rejects a configuration file that cannot be read or holds a top-level
// key that is not a flag, which paerser would otherwise ignore silently.
func checkFileKeys(path string, known map[string]bool) error {
	content, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--configFile: %w", err)
	}
	keys := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		err = toml.Unmarshal(content, &keys)
	case ".yaml", ".yml":
		err = yaml.Unmarshal(content, &keys)
	default:
		return fmt.Errorf("--configFile %s: unsupported extension (want .toml, .yaml or .yml)", path)
	}
	if err != nil {
		return fmt.Errorf("--configFile %s: %w", path, err)
	}
	for key := range keys {
		if !known[strings.ToLower(key)] || strings.EqualFold(key, configFileFlag) {
			return fmt.Errorf("--configFile %s: unknown key %q", path, key)
		}
	}
	return nil
}

// booleanFlags are the flags that take no value after them.
var booleanFlags = map[string]bool{"force": true}

// positionalArgs returns the arguments that follow the flags: paerser stops reading
// flags at the first argument that is neither a flag nor a flag's value.
func positionalArgs(args []string) []string {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return args[i+1:]
		case len(arg) < 2 || arg[0] != '-':
			return args[i:]
		case !strings.Contains(arg, "=") && !booleanFlags[strings.ToLower(strings.TrimLeft(arg, "-"))]:
			i++ // the value is the next argument
		}
	}
	return nil
}
