package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// dotenv is a .env file as read: its variables, the line each was last
// set on, and a problem for each line that could not be read.
type dotenv struct {
	vars     map[string]string
	lines    map[string]int
	problems Problems
}

// readDotenv reads a .env file as the reference quickstarts' python-dotenv
// does, for the forms they use: NAME=value lines, optionally after
// "export ", values optionally in single or double quotes, comments from #
// at the start of a line or after whitespace in an unquoted value. A missing
// file is no problem; a line of any other form is one, naming the line but
// not its content (it may hold a secret), and the other lines still count,
// so that one pass shows every problem of the file.
func readDotenv(path string) dotenv {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return dotenv{}
	}
	if err != nil {
		return dotenv{problems: Problems{".env: " + ErrorText(err)}}
	}
	defer f.Close()
	d := dotenv{vars: map[string]string{}, lines: map[string]int{}}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\"'") {
			d.problems = append(d.problems, fmt.Sprintf(".env:%d: want NAME=value", n))
			continue
		}
		value, err := dotenvValue(strings.TrimSpace(value))
		if err != nil {
			d.problems = append(d.problems, fmt.Sprintf(".env:%d: %s: %v", n, name, err))
			continue
		}
		d.vars[name], d.lines[name] = value, n
	}
	if err := sc.Err(); err != nil {
		msg := ".env: " + ErrorText(err)
		if n > 0 {
			msg = fmt.Sprintf(".env:%d: %s; the lines from there on are not read", n+1, ErrorText(err))
		}
		d.problems = append(d.problems, msg)
	}
	return d
}

func dotenvValue(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch q := v[0]; q {
	case '"', '\'':
		end := strings.IndexByte(v[1:], q)
		if end < 0 {
			return "", errors.New("unterminated quote")
		}
		rest := strings.TrimSpace(v[end+2:])
		if rest != "" && !strings.HasPrefix(rest, "#") {
			return "", errors.New("text after the closing quote")
		}
		inner := v[1 : end+1]
		if q == '"' {
			inner = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`).Replace(inner)
		}
		return inner, nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	if i := strings.Index(v, "\t#"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v), nil
}
