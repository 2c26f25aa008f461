package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problems is every problem found while loading a configuration, one line
// each.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Defaults returns a configuration with every default applied and nothing
// else: no key, no upstream. Callers that build configurations in code,
// such as the demo, start from it.
func Defaults() *Config {
	c := &Config{}
	for _, s := range settings {
		if s.def != "" {
			if err := s.value.set(c, s.def); err != nil {
				panic("config: bad default for " + s.name + ": " + err.Error())
			}
		}
	}
	return c
}

// Validate checks a configuration built in code, as Load checks one read
// from files and the environment.
func (c *Config) Validate() error {
	if p := c.validate(); len(p) > 0 {
		return p
	}
	return nil
}

// Load reads the configuration for the serve command. On a bad
// configuration it returns [Problems], every one found. Arguments that are
// not flags of serve come back as another error, which asks for help when
// it wraps [flag.ErrHelp] (-h or --help).
func Load(src Source) (*Config, *Flags, error) {
	fs, flags, values := NewFlagSet("serve")
	fs.SetOutput(new(strings.Builder))
	const hint = "see approov-gateway serve -h"
	if err := fs.Parse(src.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, FlagError(fs, err, hint)
	}
	if fs.NArg() > 0 {
		if why := boolFlagHint(fs, src.Args, fs.NArg()); why != "" {
			return nil, nil, fmt.Errorf("unexpected argument %q%s", fs.Arg(0), why)
		}
		return nil, nil, fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), hint)
	}
	setFlags := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if v, ok := values[strings.ReplaceAll(f.Name, "-", "_")]; ok {
			setFlags[f.Name] = *v
		}
	})

	c, problems := read(src, setFlags["config"])
	for _, s := range settings {
		if v, ok := setFlags[flagName(s.name)]; ok {
			if err := s.value.set(c, v); err != nil {
				problems = append(problems, "--"+flagName(s.name)+": "+err.Error())
			}
		}
	}
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return c, flags, problems
	}
	return c, flags, nil
}

// read applies the defaults, the YAML file (file, or APPROOV_CONFIG when
// file is empty), and the environment with .env, collecting problems: the
// lines of .env it could not read, the APPROOV_ names that look like typos
// of a setting's, and bad values. The other unknown APPROOV_ names become
// the configuration's warnings.
func read(src Source, file string) (*Config, Problems) {
	c := Defaults()
	env := src.environment()
	problems := append(Problems(nil), env.dotenv.problems...)
	unknown, warnings := env.unknownNames()
	problems = append(problems, unknown...)
	c.warnings = warnings
	if file == "" {
		file, _, _ = env.get("APPROOV_CONFIG")
	}
	if file != "" {
		c.File = file
		path := file
		if !filepath.IsAbs(path) && src.Dir != "" {
			path = filepath.Join(src.Dir, path)
		}
		problems = append(problems, loadYAML(c, path, file)...)
	}
	for _, s := range settings {
		if v, from, ok := env.get(envName(s.name)); ok {
			if err := s.value.set(c, v); err != nil {
				problems = append(problems, from+": "+err.Error())
			}
		}
	}
	return c, problems
}

// Warnings returns what Load found suspicious but not wrong: APPROOV_
// variables in the environment or .env that are no setting's, nor a near
// miss of one.
func (c *Config) Warnings() []string { return c.warnings }

// LoadKeySettings reads the settings as serve does — the YAML file named
// by file, or by APPROOV_CONFIG when file is empty, .env and the
// environment — but no flags, and checks only what [LoadKeys] needs: for
// commands such as token check, which verify with the keys serve would.
func LoadKeySettings(src Source, file string) (*Config, error) {
	c, problems := read(src, file)
	c.validateKeys(func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) })
	if len(problems) > 0 {
		return c, problems
	}
	return c, nil
}

// loadYAML applies the settings in the YAML file at path, named file in
// messages.
func loadYAML(c *Config, path, file string) Problems {
	data, err := os.ReadFile(path)
	if err != nil {
		return Problems{"config file: " + file + ": " + ErrorText(err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Problems{file + ": " + err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Problems{file + ": want a mapping of settings at the top level"}
	}
	byName := map[string]setting{}
	for _, s := range settings {
		byName[s.name] = s
	}
	var problems Problems
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("%s:%d: %s", file, key.Line, key.Value)
		switch key.Value {
		case "routes":
			problems = append(problems, decodeList(file, "routes", val, &c.Routes)...)
		case "keys":
			problems = append(problems, decodeList(file, "keys", val, &c.Keys)...)
		default:
			s, ok := byName[key.Value]
			if !ok {
				problems = append(problems, where+": unknown setting"+suggest(key.Value))
				continue
			}
			text, err := scalarText(val)
			if err != nil {
				problems = append(problems, where+": "+err.Error())
				continue
			}
			if err := s.value.set(c, text); err != nil {
				problems = append(problems, where+": "+err.Error())
			}
		}
	}
	return problems
}

// scalarText returns a YAML value as the text a setting parses; a sequence
// becomes a comma-separated list.
func scalarText(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "", nil // ~, null or nothing: unset, not the text "null"
		}
		return n.Value, nil
	case yaml.SequenceNode:
		parts := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return "", errors.New("want a list of plain values")
			}
			parts = append(parts, item.Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", errors.New("want a plain value or a list")
}

// decodeList decodes a YAML list of mappings, such as routes, into the
// slice dst points to, by the fields' yaml tags. Each problem names the
// line, the list item and the field, never the value, and unknown fields
// are errors, with a suggestion.
func decodeList(file, name string, n *yaml.Node, dst any) Problems {
	at := func(node *yaml.Node, format string, args ...any) string {
		return fmt.Sprintf("%s:%d: %s", file, node.Line, fmt.Sprintf(format, args...))
	}
	if n.Kind != yaml.SequenceNode {
		return Problems{at(n, "%s: want a list", name)}
	}
	slice := reflect.ValueOf(dst).Elem()
	itemType := slice.Type().Elem()
	fields := map[string]int{}
	var fieldNames []string
	for i := range itemType.NumField() {
		tag := itemType.Field(i).Tag.Get("yaml")
		fields[tag] = i
		fieldNames = append(fieldNames, tag)
	}
	var problems Problems
	items := reflect.MakeSlice(slice.Type(), 0, len(n.Content))
	for i, itemNode := range n.Content {
		where := fmt.Sprintf("%s[%d]", name, i)
		item := reflect.New(itemType).Elem()
		if itemNode.Kind != yaml.MappingNode {
			problems = append(problems, at(itemNode, "%s: want a mapping of fields", where))
			continue
		}
		for j := 0; j+1 < len(itemNode.Content); j += 2 {
			key, val := itemNode.Content[j], itemNode.Content[j+1]
			fi, ok := fields[key.Value]
			if !ok {
				problems = append(problems, at(key, "%s: unknown field%s", where, suggestFrom(key.Value, fieldNames)))
				continue
			}
			if err := setField(item.Field(fi), val); err != nil {
				problems = append(problems, at(val, "%s.%s: %v", where, key.Value, err))
			}
		}
		items = reflect.Append(items, item)
	}
	slice.Set(items)
	return problems
}

// setField sets a route or key field from a YAML value: a string, a
// *bool, or a []string (from a list, or a comma-separated string).
func setField(f reflect.Value, n *yaml.Node) error {
	switch f.Interface().(type) {
	case string:
		if n.Kind != yaml.ScalarNode {
			return errors.New("want a plain value")
		}
		f.SetString(n.Value)
	case *bool:
		if n.Kind != yaml.ScalarNode {
			return errors.New("want true or false")
		}
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			return errors.New("want true or false")
		}
		f.Set(reflect.ValueOf(&b))
	case []string:
		text, err := scalarText(n)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(splitList(text)))
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}
