package stack

import (
	"fmt"

	"github.com/mitchellh/mapstructure"
)

// DecodePluginConfig decodes a plugin's configuration map into config (the value the
// plugin's CreateConfig returns) the way Traefik v3.6 does for middleware and provider
// plugins (pkg/plugins: middlewareyaegi.go createConfig, providers.go newProvider):
// mapstructure with comma-separated strings split into lists and weakly typed input.
// It is the harness's one such decoder.
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
