// Package traefikconfig decodes a plugin configuration map into a Config struct the
// way Traefik v3.6 does it (mapstructure with weakly typed input and comma-separated
// strings split into lists), for the field kinds the plugins use: strings, lists of
// strings, numbers, booleans and nested structs. It is for tests and tools; it uses
// the standard library only.
package traefikconfig

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Decode sets the fields of the struct that target points to from config. Keys match
// field names case-insensitively, as in mapstructure.
func Decode(config map[string]any, target any) error {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode: target must point to a struct, got %T", target)
	}
	return decodeStruct(config, v.Elem())
}

func decodeStruct(config map[string]any, v reflect.Value) error {
	for key, value := range config {
		field := v.FieldByNameFunc(func(name string) bool { return strings.EqualFold(name, key) })
		if !field.IsValid() || !field.CanSet() {
			continue // mapstructure ignores unknown keys
		}
		if err := decodeValue(value, field); err != nil {
			return fmt.Errorf("'%s' %w", key, err)
		}
	}
	return nil
}

func decodeValue(value any, field reflect.Value) error {
	switch field.Kind() {
	case reflect.String:
		field.SetString(weakString(value))
	case reflect.Bool:
		b, err := strconv.ParseBool(weakString(value))
		if err != nil {
			return fmt.Errorf("expected a boolean, got %v", value)
		}
		field.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(weakString(value), 10, 64)
		if err != nil {
			return fmt.Errorf("expected a number, got %v", value)
		}
		field.SetInt(n)
	case reflect.Slice:
		items, ok := value.([]any)
		if s, isString := value.(string); isString {
			items = nil
			for _, part := range strings.Split(s, ",") {
				items = append(items, part)
			}
			ok = true
		} else if strs, isStrings := value.([]string); isStrings {
			items = nil
			for _, s := range strs {
				items = append(items, s)
			}
			ok = true
		}
		if !ok {
			return fmt.Errorf("expected a list, got %T", value)
		}
		list := reflect.MakeSlice(field.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeValue(item, list.Index(i)); err != nil {
				return err
			}
		}
		field.Set(list)
	case reflect.Struct:
		m, ok := value.(map[string]any)
		if !ok {
			return fmt.Errorf("expected a map, got %T", value)
		}
		return decodeStruct(m, field)
	case reflect.Pointer:
		if field.IsNil() {
			field.Set(reflect.New(field.Type().Elem()))
		}
		return decodeValue(value, field.Elem())
	default:
		return fmt.Errorf("unsupported field kind %s", field.Kind())
	}
	return nil
}

func weakString(value any) string {
	if s, ok := value.(string); ok {
		return s
	}
	return fmt.Sprint(value)
}
