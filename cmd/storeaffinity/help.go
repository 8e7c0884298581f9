package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/traefik/paerser/cli"
	"github.com/traefik/paerser/flag"
)

// helpFunc returns a help printer for a subcommand: usage, an example, where the
// configuration comes from, and every flag with its default, in camelCase.
func helpFunc(usage, example string) func(io.Writer, *cli.Command) error {
	return func(w io.Writer, cmd *cli.Command) error {
		flats, err := flag.Encode(cmd.Configuration)
		if err != nil {
			return err
		}
		defaults := map[string]string{}
		for _, f := range flats {
			defaults[strings.ToLower(f.Name)] = f.Default
		}
		_, _ = fmt.Fprintf(w, "%s\n\nUsage: storeaffinity %s %s\n\nExample:\n  %s\n\n", cmd.Description, cmd.Name, usage, example)
		_, _ = fmt.Fprintf(w, "Configuration comes from the first of: --configFile, flags, %s* environment variables\n", envPrefix)
		_, _ = fmt.Fprintf(w, "(e.g. %sMEMBERS=pos-0,pos-1). Lists take commas or repeated flags.\n\nFlags:\n", envPrefix)
		for _, field := range flagFields(reflect.TypeOf(cmd.Configuration).Elem()) {
			name := flagName(field.Name)
			value := defaults[strings.ToLower(field.Name)]
			if value == "" || value == "0" {
				value = "-"
			}
			description := field.Tag.Get("description")
			if value == "-" && strings.Contains(description, "(default") {
				_, _ = fmt.Fprintf(w, "  --%s\n      %s\n", name, description)
				continue
			}
			_, _ = fmt.Fprintf(w, "  --%s (default %s)\n      %s\n", name, value, description)
		}
		return nil
	}
}

// flagFields returns a configuration's fields in order, those of an embedded struct
// (StoreSample) in its place, as the flag parser reads them.
func flagFields(t reflect.Type) []reflect.StructField {
	var fields []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		field := t.Field(i)
		if field.Anonymous && field.Type.Kind() == reflect.Struct {
			fields = append(fields, flagFields(field.Type)...)
			continue
		}
		fields = append(fields, field)
	}
	return fields
}

// flagName spells a configuration field as the documented camelCase key: StoreIDPattern
// becomes storeIdPattern. Flags are case-insensitive, so every spelling works.
func flagName(field string) string {
	field = strings.ReplaceAll(field, "ID", "Id")
	field = strings.ReplaceAll(field, "LB", "Lb")
	return strings.ToLower(field[:1]) + field[1:]
}
