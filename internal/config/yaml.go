package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// item is where an element of the routes or keys list came from in the
// YAML file: its index in the file's list, its line, and the line of each
// of its fields. Its index in the Config differs when an element before it
// was not a mapping, and so was left out.
type item struct {
	index, line int
	fields      map[string]int
}

// loadYAML applies the settings in the YAML file at path, named file in
// messages, and keeps the line of each value, so that a problem found later
// in a value from the file points at its line.
func loadYAML(c *Config, path, file string) Problems {
	data, err := os.ReadFile(path)
	if err != nil {
		return Problems{"config file: " + file + ": " + ErrorText(err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Problems{yamlSyntaxError(file, err)}
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
	c.lines = map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("%s:%d: %s", file, key.Line, key.Value)
		if first, dup := c.lines[key.Value]; dup {
			problems = append(problems, fmt.Sprintf("%s: set twice (first at line %d)", where, first))
			continue
		}
		c.lines[key.Value] = key.Line
		var p Problems
		switch key.Value {
		case "routes":
			c.routeSrc, p = decodeList(file, "routes", val, &c.Routes)
		case "keys":
			c.keySrc, p = decodeList(file, "keys", val, &c.Keys)
		default:
			s, ok := byName[key.Value]
			if !ok {
				p = Problems{where + ": unknown setting" + suggest(key.Value)}
				break
			}
			text, err := scalarText(val)
			if err == nil {
				err = s.value.set(c, text)
			}
			if err != nil {
				p = Problems{where + ": " + err.Error()}
			}
		}
		problems = append(problems, p...)
	}
	return problems
}

// yamlPosition is the position the YAML parser puts in its messages.
var yamlPosition = regexp.MustCompile(`^yaml: line ([0-9]+): `)

// yamlSyntaxError writes an error of the YAML parser as a problem: the
// file and line first, as every other problem of the file, and on one line.
func yamlSyntaxError(file string, err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if m := yamlPosition.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s:%s: not valid YAML: %s", file, m[1], msg[len(m[0]):])
	}
	return file + ": not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")
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
// slice dst points to, by the fields' yaml tags, and returns where each
// element came from. Each problem names the line, the list item and the
// field, never the value, and unknown fields are errors, with a suggestion.
func decodeList(file, name string, n *yaml.Node, dst any) ([]item, Problems) {
	at := func(node *yaml.Node, format string, args ...any) string {
		return fmt.Sprintf("%s:%d: %s", file, node.Line, fmt.Sprintf(format, args...))
	}
	if n.Kind != yaml.SequenceNode {
		return nil, Problems{at(n, "%s: want a list", name)}
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
	var sources []item
	items := reflect.MakeSlice(slice.Type(), 0, len(n.Content))
	for i, itemNode := range n.Content {
		where := fmt.Sprintf("%s[%d]", name, i)
		if itemNode.Kind != yaml.MappingNode {
			problems = append(problems, at(itemNode, "%s: want a mapping of fields", where))
			continue
		}
		src := item{index: i, line: itemNode.Line, fields: map[string]int{}}
		value := reflect.New(itemType).Elem()
		for j := 0; j+1 < len(itemNode.Content); j += 2 {
			key, val := itemNode.Content[j], itemNode.Content[j+1]
			fi, ok := fields[key.Value]
			if !ok {
				problems = append(problems, at(key, "%s: unknown field%s", where, suggestFrom(key.Value, fieldNames)))
				continue
			}
			if first, dup := src.fields[key.Value]; dup {
				problems = append(problems, at(key, "%s.%s: set twice (first at line %d)", where, key.Value, first))
				continue
			}
			src.fields[key.Value] = key.Line
			if err := setField(value.Field(fi), val); err != nil {
				problems = append(problems, at(key, "%s.%s: %v", where, key.Value, err))
			}
		}
		items = reflect.Append(items, value)
		sources = append(sources, src)
	}
	slice.Set(items)
	return sources, problems
}

// setField sets a route or key field from a YAML value: a string, a
// *bool, an *int, or a []string (from a list, or a comma-separated string). Its
// errors say what the value should be, in the words of YAML, never naming
// a Go type.
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
	case *int:
		if n.Kind != yaml.ScalarNode {
			return errors.New("want a whole number")
		}
		i, err := strconv.Atoi(n.Value)
		if err != nil {
			return errors.New("want a whole number")
		}
		f.Set(reflect.ValueOf(&i))
	case []string:
		text, err := scalarText(n)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(splitList(text)))
	default:
		// A field added to Route or Key without a case here; the test of
		// every field catches it.
		return errors.New("cannot be set from the YAML file")
	}
	return nil
}

// listPath matches the path of a list element or its field: routes[2] or
// routes[2].mode, by the element's index in the Config.
var listPath = regexp.MustCompile(`^(routes|keys)\[([0-9]+)\](?:\.([a-z0-9_]+))?`)

// sources returns where the elements of list came from, if they came from
// the YAML file.
func (c *Config) sources(list string) []item {
	if list == "routes" {
		return c.routeSrc
	}
	return c.keySrc
}

// itemName names the i-th element of list (routes or keys) of the Config
// as problems name it: by its place in the YAML file when it came from
// there, so that the name and the line agree.
func (c *Config) itemName(list string, i int) string {
	if src := c.sources(list); i < len(src) && len(src) == c.listLen(list) {
		i = src[i].index
	}
	return fmt.Sprintf("%s[%d]", list, i)
}

func (c *Config) listLen(list string) int {
	if list == "routes" {
		return len(c.Routes)
	}
	return len(c.Keys)
}

// at returns the position in the YAML file of the value at path, as the
// prefix of a problem ("gateway.yaml:7: "), or "" when the value did not
// come from the file. A path is a setting's name, or a list element or its
// field by index in the Config: routes[2], routes[2].mode. A field that
// the file leaves unset is placed at its element.
func (c *Config) at(path string) string {
	if c.File == "" {
		return ""
	}
	if m := listPath.FindStringSubmatch(path); m != nil {
		src := c.sources(m[1])
		i, _ := strconv.Atoi(m[2])
		if i >= len(src) || len(src) != c.listLen(m[1]) {
			return "" // set in code, not read from the file
		}
		line := src[i].line
		if l, ok := src[i].fields[m[3]]; ok {
			line = l
		}
		return fmt.Sprintf("%s:%d: ", c.File, line)
	}
	if line, ok := c.lines[path]; ok {
		return fmt.Sprintf("%s:%d: ", c.File, line)
	}
	return ""
}

// routeNamed matches a problem that names a route by its name, as in
// route "api": ….
var routeNamed = regexp.MustCompile(`^route ("(?:[^"\\]|\\.)*")`)

// Locate returns problem, found by code outside this package in a
// configuration Load returned, with the position in the YAML file of the
// value it is about, when it begins with the path of a route or key
// (routes[2].match: …) or the name of a route (route "api": …) that came
// from the file: the gateway finds the route patterns ServeMux refuses, and
// those problems should point at their line as Load's own do. Other
// problems come back as they are.
func (c *Config) Locate(problem string) string {
	if m := routeNamed.FindStringSubmatch(problem); m != nil {
		name, _ := strconv.Unquote(m[1])
		for i, r := range c.Routes {
			if r.Name == name || r.Name == "" && r.Match == name {
				return c.at(fmt.Sprintf("routes[%d]", i)) + problem
			}
		}
		return problem
	}
	m := listPath.FindStringSubmatch(problem)
	if m == nil {
		return problem
	}
	where := c.at(m[0])
	if where == "" {
		return problem
	}
	i, _ := strconv.Atoi(m[2])
	name := c.itemName(m[1], i)
	if m[3] != "" {
		name += "." + m[3]
	}
	return where + name + problem[len(m[0]):]
}
