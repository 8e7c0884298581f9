package compose

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/mitchellh/mapstructure"
	"gopkg.in/yaml.v3"
)

// composeFile is the part of a docker-compose file that Traefik reads.
type composeFile struct {
	Services map[string]struct {
		Labels any `yaml:"labels"`
	} `yaml:"services"`
}

// ServiceLabels reads a docker-compose file and returns each service's labels, from the
// list form (key=value) or the map form.
func ServiceLabels(path string) (map[string]map[string]string, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file composeFile
	if err := yaml.Unmarshal(content, &file); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]map[string]string{}
	for name, service := range file.Services {
		labels := map[string]string{}
		switch list := service.Labels.(type) {
		case nil:
		case []any:
			for _, item := range list {
				key, value, ok := strings.Cut(fmt.Sprint(item), "=")
				if !ok {
					return nil, fmt.Errorf("%s: service %s: label %q has no '='", path, name, item)
				}
				labels[key] = value
			}
		case map[string]any:
			for key, value := range list {
				labels[key] = fmt.Sprint(value)
			}
		default:
			return nil, fmt.Errorf("%s: service %s: labels: want a list or a map, got %T", path, name, list)
		}
		out[name] = labels
	}
	return out, nil
}

// DecodePluginConfig decodes a plugin's configuration map into config (the value
// returned by the plugin's CreateConfig) the way Traefik v3.6 does for middleware and
// provider plugins (pkg/plugins: middlewareyaegi.go createConfig, providers.go
// newProvider): mapstructure with comma-separated strings split into lists and weakly
// typed input.
func DecodePluginConfig(conf map[string]any, config any) error {
	if len(conf) == 0 {
		return nil
	}
	decoder, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		Result:           config,
	})
	if err != nil {
		return fmt.Errorf("failed to create configuration decoder: %w", err)
	}
	if err := decoder.Decode(conf); err != nil {
		return fmt.Errorf("failed to decode configuration: %w", err)
	}
	return nil
}

// Names returns the keys of m, sorted.
func Names[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
