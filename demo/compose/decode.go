package compose

import (
	"fmt"
	"os"
	"sort"
	"strings"

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

// Names returns the keys of m, sorted.
func Names[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
