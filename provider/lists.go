package provider

import "strings"

// splitList flattens a list whose items may themselves be comma-separated, as labels
// and command-line flags deliver lists, trimming spaces and dropping empty items.
// The middleware module has the same function (config.go of
// github.com/storeaffinity/storeaffinity): the two plugins are separate modules and
// import nothing from each other.
func splitList(items []string) []string {
	var out []string
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
